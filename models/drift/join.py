"""Joining delayed fraud labels to scored events, with bounded state.

What counts (the usual practice for chargeback-labelled fraud):
- Every scored event waits `maturity` (event time) for its label. When the monitor's clock — the
  latest event time seen on the scoring log — passes event_time + maturity, the event matures:
  it is evaluated with its label if one came, and as genuine if none did (fraud that was never
  reported cannot be told apart from genuine traffic, and most genuine traffic is never
  labelled). An expired, unlabelled event is therefore a negative, and is counted as such.
- Labels arrive late, out of order and more than once: for one transaction the label with the
  latest `labelled_at` wins (on a tie, the one read last), whatever the arrival order; an event is
  evaluated once, when it matures, so a duplicate label never counts twice.
- A label read before its scoring-log entry (the two topics are read side by side) waits in a
  small buffer until the entry comes, or until the clock is past its `labelled_at` plus
  `lateness` (the transaction happened before its label, so its entry should have been seen).
- A label for a transaction that already matured, was evicted, or was never seen is counted as
  unmatched and ignored; so is a label that comes after the maturity period.
- State is bounded: at most `max_entries` pending events (the oldest is evicted unmatured —
  counted, and left out of the metrics rather than guessed genuine) and `max_early_labels`
  buffered labels.

Pending events are kept in arrival order, which is event order up to the scoring log's disorder
across partitions; an entry matures when everything before it has (a few seconds late at most).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import NamedTuple

from models.drift.events import ModelScore

DAY_MS = 86_400_000


class Matured(NamedTuple):
    """A scored event whose label is final."""

    event_ms: int
    outputs: tuple[ModelScore, ...]
    is_fraud: bool
    labelled: bool


@dataclass(slots=True)
class _Pending:
    event_ms: int
    outputs: tuple[ModelScore, ...]
    label_key: tuple[int, int] | None = None
    """(labelled_ms, arrival sequence) of the label in force: the greatest wins."""
    is_fraud: bool = False


class _EarlyLabel(NamedTuple):
    label_key: tuple[int, int]
    is_fraud: bool


@dataclass
class JoinCounters:
    entries: int = 0
    duplicate_entries: int = 0
    labels: int = 0
    labels_joined: int = 0
    labels_duplicate: int = 0
    labels_unmatched: int = 0
    matured_labelled: int = 0
    matured_unlabelled: int = 0
    evicted: int = 0


@dataclass
class LabelJoin:
    maturity_ms: int
    max_entries: int = 1_000_000
    max_early_labels: int = 100_000
    lateness_ms: int = 3_600_000
    counters: JoinCounters = field(default_factory=JoinCounters)
    clock_ms: int | None = None
    """The latest event time seen on the scoring log."""

    def __post_init__(self) -> None:
        if self.maturity_ms < 0 or self.max_entries < 1 or self.max_early_labels < 0:
            raise ValueError("maturity must be ≥ 0 and the state bounds positive")
        self._pending: OrderedDict[str, _Pending] = OrderedDict()
        self._early: OrderedDict[str, _EarlyLabel] = OrderedDict()
        self._arrivals = 0

    @property
    def pending(self) -> int:
        return len(self._pending)

    @property
    def early_labels(self) -> int:
        return len(self._early)

    def add_entry(
        self, transaction_id: str, event_ms: int, outputs: tuple[ModelScore, ...]
    ) -> None:
        counters = self.counters
        if transaction_id in self._pending:
            counters.duplicate_entries += 1  # a replayed decision: the first one stands
            return
        counters.entries += 1
        if len(self._pending) >= self.max_entries:
            self._pending.popitem(last=False)
            counters.evicted += 1
        entry = _Pending(event_ms, outputs)
        early = self._early.pop(transaction_id, None)
        if early is not None:
            entry.label_key, entry.is_fraud = early.label_key, early.is_fraud
            counters.labels_joined += 1
        self._pending[transaction_id] = entry
        if self.clock_ms is None or event_ms > self.clock_ms:
            self.clock_ms = event_ms

    def add_label(self, transaction_id: str, is_fraud: bool, labelled_ms: int) -> None:
        counters = self.counters
        counters.labels += 1
        self._arrivals += 1
        key = (labelled_ms, self._arrivals)
        entry = self._pending.get(transaction_id)
        if entry is not None:
            if entry.label_key is None:
                counters.labels_joined += 1
            else:
                counters.labels_duplicate += 1
            if entry.label_key is None or key > entry.label_key:
                entry.label_key, entry.is_fraud = key, is_fraud
            return
        early = self._early.get(transaction_id)
        if early is not None:
            counters.labels_duplicate += 1
            if key > early.label_key:
                self._early[transaction_id] = _EarlyLabel(key, is_fraud)
            return
        if self._seen_past(labelled_ms) or self.max_early_labels == 0:
            counters.labels_unmatched += 1
            return
        if len(self._early) >= self.max_early_labels:
            self._early.popitem(last=False)
            counters.labels_unmatched += 1
        self._early[transaction_id] = _EarlyLabel(key, is_fraud)

    def _seen_past(self, labelled_ms: int) -> bool:
        """True when the scoring log has moved past the time this label was given."""
        return self.clock_ms is not None and labelled_ms + self.lateness_ms <= self.clock_ms

    def mature(self) -> list[Matured]:
        """Pop every entry whose label period is over (in arrival order); prune stale labels."""
        clock = self.clock_ms
        matured: list[Matured] = []
        if clock is None:
            return matured
        counters = self.counters
        pending = self._pending
        while pending:
            transaction_id, entry = next(iter(pending.items()))
            if entry.event_ms + self.maturity_ms > clock:
                break
            del pending[transaction_id]
            labelled = entry.label_key is not None
            if labelled:
                counters.matured_labelled += 1
            else:
                counters.matured_unlabelled += 1
            matured.append(Matured(entry.event_ms, entry.outputs, entry.is_fraud, labelled))
        early = self._early
        while early:
            transaction_id, label = next(iter(early.items()))
            if not self._seen_past(label.label_key[0]):
                break
            del early[transaction_id]
            counters.labels_unmatched += 1
        return matured
