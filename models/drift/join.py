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
- State is bounded: at most `max_entries` pending events and `max_early_labels` buffered labels.

Bounded at volume by sampling the unflagged events, not by evicting the oldest: at 1M events a
day and 60 days' maturity, 60M events wait for their labels, and a store of the oldest 1M would
let nothing mature. Flagged events (REVIEW/DECLINE by any model) are few and carry precision,
so all are kept. An unflagged one is kept when a stable hash of its transaction id falls below
`sample_rate`; when the store is full, the rate halves and the unflagged entries now above it
are dropped. Every kept unflagged entry has therefore passed the current rate, and an entry
that matures (or gets a label) while the rate is p stands for 1/p events: its `weight`, the
Horvitz-Thompson weight that makes weighted counts unbiased. Sampling by hash rather than at
random keeps it deterministic: a restart that refills the join from the log keeps the same
events. Why not spill everything to disk (RocksDB/sqlite): 60M rows of 60 days would be written
and read back once each for a handful of metrics whose error at this sample size (tens of
thousands of matured events a day) is already well below the day-to-day noise of fraud counts.
Only when flagged entries alone fill the store is the oldest evicted (counted, not evaluated).

Pending events are kept in arrival order, which is event order up to the scoring log's disorder
across partitions; an entry matures when everything before it has (a few seconds late at most).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

from models.drift.events import FLAGGED_OUTCOMES, ModelScore

DAY_MS = 86_400_000


class Matured(NamedTuple):
    """A scored event whose label is final."""

    event_ms: int
    outputs: tuple[ModelScore, ...]
    is_fraud: bool
    labelled: bool
    weight: float = 1.0
    """Events this one stands for (1 for flagged events, 1/sample rate for the others)."""
    card: str = ""
    """The label's card ("" when unknown): fraud labels cluster in incidents by card."""


class LabelChange(NamedTuple):
    """A pending event's label in force changed: what the arriving-label figures follow."""

    event_ms: int
    outputs: tuple[ModelScore, ...]
    was_fraud: bool | None
    """The label in force before (None: the event had none)."""
    is_fraud: bool
    weight: float
    card: str = ""
    """The label's card ("" when unknown): fraud labels cluster in incidents by card."""


@dataclass(slots=True)
class _Pending:
    event_ms: int
    outputs: tuple[ModelScore, ...]
    flagged: bool
    label_key: tuple[int, int] | None = None
    """(labelled_ms, arrival sequence) of the label in force: the greatest wins."""
    is_fraud: bool = False
    card: str = ""
    """Card of the label in force (labels carry it; the scoring-log entry is not asked for it)."""


def sample_point(transaction_id: str) -> float:
    """A stable, uniform point in [0, 1) per transaction id (independent of PYTHONHASHSEED)."""
    digest = hashlib.blake2b(transaction_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def is_flagged(outputs: tuple[ModelScore, ...]) -> bool:
    return any(output.outcome in FLAGGED_OUTCOMES for output in outputs)


class _EarlyLabel(NamedTuple):
    label_key: tuple[int, int]
    is_fraud: bool
    card: str = ""


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
    unsampled: int = 0
    """Unflagged entries left out of (or dropped from) the sample: accounted for by weights."""


@dataclass
class LabelJoin:
    maturity_ms: int
    max_entries: int = 1_000_000
    max_early_labels: int = 100_000
    lateness_ms: int = 3_600_000
    counters: JoinCounters = field(default_factory=JoinCounters)
    clock_ms: int | None = None
    """The latest event time seen on the scoring log."""
    sample_rate: float = 1.0
    """Share of unflagged events kept; halves each time the store fills."""
    on_label: Callable[[LabelChange], None] | None = None

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
        if self.clock_ms is None or event_ms > self.clock_ms:
            self.clock_ms = event_ms
        flagged = is_flagged(outputs)
        early = self._early.pop(transaction_id, None)
        if not flagged and sample_point(transaction_id) >= self.sample_rate:
            counters.unsampled += 1
            if early is not None:
                counters.labels_joined += 1
                self._changed(
                    _Pending(event_ms, outputs, flagged, card=early.card), None, early.is_fraud
                )
            return
        if len(self._pending) >= self.max_entries:
            self._make_room()
        entry = _Pending(event_ms, outputs, flagged)
        if early is not None:
            entry.label_key, entry.is_fraud = early.label_key, early.is_fraud
            entry.card = early.card
            counters.labels_joined += 1
            self._changed(entry, None, early.is_fraud)
        self._pending[transaction_id] = entry

    def _make_room(self) -> None:
        """Halve the sample rate until the store has room; evict the oldest if flagged fill it."""
        pending = self._pending
        while len(pending) >= self.max_entries and any(not e.flagged for e in pending.values()):
            self.sample_rate /= 2
            dropped = [
                tid
                for tid, entry in pending.items()
                if not entry.flagged and sample_point(tid) >= self.sample_rate
            ]
            for tid in dropped:
                del pending[tid]
            self.counters.unsampled += len(dropped)
        if len(pending) >= self.max_entries:
            pending.popitem(last=False)
            self.counters.evicted += 1

    def weight(self, flagged: bool) -> float:
        return 1.0 if flagged else 1.0 / self.sample_rate

    def _changed(self, entry: _Pending, was: bool | None, now: bool) -> None:
        if self.on_label is not None and was != now:
            self.on_label(
                LabelChange(
                    entry.event_ms,
                    entry.outputs,
                    was,
                    now,
                    self.weight(entry.flagged),
                    entry.card,
                )
            )

    def add_label(
        self, transaction_id: str, is_fraud: bool, labelled_ms: int, card: str = ""
    ) -> None:
        """`card`: the label's card id, so arriving fraud can be counted by incident."""
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
                was = entry.is_fraud if entry.label_key is not None else None
                entry.label_key, entry.is_fraud = key, is_fraud
                entry.card = card or entry.card
                self._changed(entry, was, is_fraud)
            return
        early = self._early.get(transaction_id)
        if early is not None:
            counters.labels_duplicate += 1
            if key > early.label_key:
                self._early[transaction_id] = _EarlyLabel(key, is_fraud, card)
            return
        if self._seen_past(labelled_ms) or self.max_early_labels == 0:
            counters.labels_unmatched += 1
            return
        if len(self._early) >= self.max_early_labels:
            self._early.popitem(last=False)
            counters.labels_unmatched += 1
        self._early[transaction_id] = _EarlyLabel(key, is_fraud, card)

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
            matured.append(
                Matured(
                    entry.event_ms,
                    entry.outputs,
                    entry.is_fraud,
                    labelled,
                    self.weight(entry.flagged),
                    entry.card,
                )
            )
        early = self._early
        while early:
            transaction_id, label = next(iter(early.items()))
            if not self._seen_past(label.label_key[0]):
                break
            # Also where the labels of unflagged events outside the sample end: their weighted
            # stand-ins in the sample carry them.
            del early[transaction_id]
            counters.labels_unmatched += 1
        return matured
