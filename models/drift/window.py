"""Tumbling windows over scored events: when a window closes, and what it counts.

A window never keeps its events: rows are buffered in a fixed-size chunk and binned into counts
per feature (the profile's bins) whenever the chunk fills, so memory is one chunk plus the counts
whatever the window's size.

Two kinds, both tumbling:
- count: closes after exactly `events` events.
- time: [k·length, (k+1)·length) in event time (epoch-aligned, so a day is a UTC day); it
  closes when an event at or after its end arrives. An event older than the open window's start
  (out of order across partitions) is counted in the open window, and as late.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from models.drift.events import ScoredEvent
from models.drift.quality import Bounds, FieldTally
from models.drift.reference import DriftReference
from models.profile import bin_index, mid_ranks
from schemas.base import ModelRef
from schemas.drift import WindowKind

CHUNK_ROWS = 4096
Counts = npt.NDArray[np.int64]


@dataclass(frozen=True)
class WindowSpec:
    kind: WindowKind
    events: int = 50_000
    """Count windows: events per window."""
    length_ms: int = 86_400_000
    """Time windows: length in event time."""

    def __post_init__(self) -> None:
        if self.events < 1 or self.length_ms < 1:
            raise ValueError("a window needs at least one event and a positive length")

    def start_of(self, event_ms: int) -> int:
        return event_ms - event_ms % self.length_ms


@dataclass(frozen=True)
class FeatureTally:
    """Live counts of one feature over the reference's bins (numeric) or categories."""

    bins: Counts
    """Numeric: per bin. Categorical: per reference category, in the profile's order."""
    unseen: int
    """Categorical: values in no reference category."""
    missing: int
    rank_sum: float = 0.0
    """Numeric: sum of the present values' mid-ranks on the profile's percentile sketch."""

    @property
    def present(self) -> int:
        return int(self.bins.sum()) + self.unseen


@dataclass(frozen=True)
class PredictionTally:
    """The reference model's scores (binned) and outcomes; adds up over windows."""

    score_bins: Counts | None
    score_sum: float
    scores: int
    outcomes: Counter[str]

    def __add__(self, other: PredictionTally) -> PredictionTally:
        bins = (
            self.score_bins + other.score_bins
            if self.score_bins is not None and other.score_bins is not None
            else None
        )
        return PredictionTally(
            bins,
            self.score_sum + other.score_sum,
            self.scores + other.scores,
            self.outcomes + other.outcomes,
        )

    def __sub__(self, other: PredictionTally) -> PredictionTally:
        """self less `other`, whose counts are part of self (a running total's oldest window)."""
        bins = (
            self.score_bins - other.score_bins
            if self.score_bins is not None and other.score_bins is not None
            else self.score_bins
        )
        return PredictionTally(
            bins,
            self.score_sum - other.score_sum,
            self.scores - other.scores,
            self.outcomes - other.outcomes,
        )


@dataclass(frozen=True)
class WindowTally:
    """Everything a closed window counted."""

    kind: WindowKind
    start_ms: int
    end_ms: int
    """Time windows: the window's bounds. Count windows: first and last event time."""
    n: int
    late: int
    features: tuple[FeatureTally, ...]
    prediction: PredictionTally
    fields: FieldTally | None = None
    """Raw-field counts (models.drift.quality); None from callers that build tallies by hand."""


class _FeatureBinner:
    """Turns a column of live values into counts on one feature's reference bins."""

    def __init__(
        self, kind: str, edges: list[float], categories: list[str], quantiles: list[float]
    ) -> None:
        self.categorical = kind == "categorical"
        self.edges = list(edges)
        self.quantiles = list(quantiles)
        # Profile categories are integer codes written as text ("0", "3"): compare as floats.
        self.codes = np.asarray([float(code) for code in categories], dtype=np.float64)
        self.order = np.argsort(self.codes)
        self.sorted_codes = self.codes[self.order]
        self.size = len(categories) if self.categorical else len(edges) + 1

    def count(self, column: npt.NDArray[np.float64]) -> tuple[Counts, int, int, float]:
        """Counts per bin, unseen values, missing values, and the sum of mid-ranks."""
        missing = np.isnan(column)
        present = column[~missing]
        if not self.categorical:
            index = bin_index(present, self.edges)
            ranks = float(mid_ranks(present, self.quantiles).sum()) if self.quantiles else 0.0
            return np.bincount(index, minlength=self.size), 0, int(missing.sum()), ranks
        if self.size == 0:
            return np.zeros(0, dtype=np.int64), int(present.size), int(missing.sum()), 0.0
        at = np.minimum(np.searchsorted(self.sorted_codes, present), self.size - 1)
        known = self.sorted_codes[at] == present
        per_sorted = np.bincount(at[known], minlength=self.size)
        counts = np.zeros(self.size, dtype=np.int64)
        counts[self.order] = per_sorted
        return counts, int((~known).sum()), int(missing.sum()), 0.0


class WindowAccumulator:
    """Counts one open window; `close()` returns the tally and starts afresh."""

    def __init__(
        self,
        reference: DriftReference,
        chunk_rows: int = CHUNK_ROWS,
        field_bounds: Sequence[Bounds | None] | None = None,
        value_features: tuple[str, ...] = (),
    ) -> None:
        """`field_bounds`: the numeric raw fields' reference ranges (the field tally counts
        values outside them); `value_features`: features whose values are also counted for the
        value-collapse check (models.drift.quality)."""
        self.reference = reference
        self._field_bounds = field_bounds
        names = reference.feature_names
        self._value_features = value_features
        self._value_columns = [names.index(name) for name in value_features]
        self._binners = [
            _FeatureBinner(p.kind, p.bin_edges, list(p.categories), p.quantiles)
            for p in reference.features
        ]
        self._score_edges = list(reference.score.bin_edges) if reference.score else None
        self._chunk = np.empty((chunk_rows, len(self._binners)), dtype=np.float64)
        self._scores = np.empty(chunk_rows, dtype=np.float64)
        self._reset()

    def _reset(self) -> None:
        self.n = 0
        self.late = 0
        self.first_ms: int | None = None
        self.last_ms: int | None = None
        self._rows = 0
        self._score_rows = 0
        self._feature_counts = [np.zeros(b.size, dtype=np.int64) for b in self._binners]
        self._unseen = [0] * len(self._binners)
        self._missing = [0] * len(self._binners)
        self._rank_sums = [0.0] * len(self._binners)
        size = 0 if self._score_edges is None else len(self._score_edges) + 1
        self._score_bins = np.zeros(size, dtype=np.int64)
        self._score_sum = 0.0
        self._score_count = 0
        self._outcomes: Counter[str] = Counter()
        self._fields = FieldTally(bounds=self._field_bounds, features=self._value_features)

    def add(self, event: ScoredEvent, reference_output: tuple[float, str] | None) -> None:
        """`reference_output`: the reference model's (score, outcome) on this event, if any."""
        self._chunk[self._rows] = event.features
        self._rows += 1
        features = event.features
        self._fields.add(event.fields, tuple(features[c] for c in self._value_columns))
        if self._rows == len(self._chunk):
            self._bin_features()
        if reference_output is not None:
            score, outcome = reference_output
            self._scores[self._score_rows] = score
            self._score_rows += 1
            if self._score_rows == len(self._scores):
                self._bin_scores()
            self._outcomes[outcome] += 1
        self.n += 1
        self.first_ms = (
            event.event_ms if self.first_ms is None else min(self.first_ms, event.event_ms)
        )
        self.last_ms = event.event_ms if self.last_ms is None else max(self.last_ms, event.event_ms)

    def _bin_features(self) -> None:
        rows = self._chunk[: self._rows]
        for column, binner in enumerate(self._binners):
            counts, unseen, missing, ranks = binner.count(rows[:, column])
            self._feature_counts[column] += counts
            self._rank_sums[column] += ranks
            self._unseen[column] += unseen
            self._missing[column] += missing
        self._rows = 0

    def _bin_scores(self) -> None:
        scores = self._scores[: self._score_rows]
        if self._score_edges is not None:
            self._score_bins += np.bincount(
                bin_index(scores, self._score_edges), minlength=len(self._score_bins)
            )
        self._score_sum += float(scores.sum())
        self._score_count += int(scores.size)
        self._score_rows = 0

    def close(self, kind: WindowKind, start_ms: int, end_ms: int) -> WindowTally:
        self._bin_features()
        self._bin_scores()
        tally = WindowTally(
            kind=kind,
            start_ms=start_ms,
            end_ms=end_ms,
            n=self.n,
            late=self.late,
            features=tuple(
                FeatureTally(counts, unseen, missing, ranks)
                for counts, unseen, missing, ranks in zip(
                    self._feature_counts, self._unseen, self._missing, self._rank_sums, strict=True
                )
            ),
            prediction=PredictionTally(
                score_bins=self._score_bins if self._score_edges is not None else None,
                score_sum=self._score_sum,
                scores=self._score_count,
                outcomes=self._outcomes,
            ),
            fields=self._fields,
        )
        self._reset()
        return tally


class Windowing:
    """Decides when the open window closes; owns its accumulator.

    Call `due(event_ms)` before `add` (a time window closes before the event that passes its
    end is counted) and `full()` after it (a count window closes with its last event).
    """

    def __init__(
        self,
        spec: WindowSpec,
        reference: DriftReference,
        field_bounds: Sequence[Bounds | None] | None = None,
        value_features: tuple[str, ...] = (),
    ) -> None:
        self.spec = spec
        self.accumulator = WindowAccumulator(
            reference, field_bounds=field_bounds, value_features=value_features
        )
        self._start_ms: int | None = None

    @property
    def open_events(self) -> int:
        return self.accumulator.n

    def due(self, event_ms: int) -> WindowTally | None:
        if self.spec.kind is not WindowKind.TIME or self._start_ms is None:
            return None
        if event_ms < self._start_ms + self.spec.length_ms:
            return None
        return self.close()

    def add(self, event: ScoredEvent, reference_output: tuple[float, str] | None) -> None:
        if self._start_ms is None:
            self._start_ms = (
                self.spec.start_of(event.event_ms)
                if self.spec.kind is WindowKind.TIME
                else event.event_ms
            )
        elif self.spec.kind is WindowKind.TIME and event.event_ms < self._start_ms:
            self.accumulator.late += 1
        self.accumulator.add(event, reference_output)

    def full(self) -> WindowTally | None:
        if self.spec.kind is WindowKind.COUNT and self.accumulator.n >= self.spec.events:
            return self.close()
        return None

    def close(self) -> WindowTally | None:
        """Close the open window now (also used for an idle stream); None when it is empty."""
        start = self._start_ms
        accumulator = self.accumulator
        if start is None or accumulator.n == 0:
            return None
        if self.spec.kind is WindowKind.TIME:
            start_ms, end_ms = start, start + self.spec.length_ms
        else:
            start_ms = accumulator.first_ms if accumulator.first_ms is not None else start
            end_ms = accumulator.last_ms if accumulator.last_ms is not None else start
        self._start_ms = None
        return accumulator.close(self.spec.kind, start_ms, end_ms)


def reference_output(event: ScoredEvent, model: ModelRef) -> tuple[float, str] | None:
    """The reference model's (score, outcome) on this event, if it scored it."""
    for output in event.outputs:
        if output.model.content_hash == model.content_hash:
            return output.score, output.outcome
    return None
