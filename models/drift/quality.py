"""Data quality of the raw input fields, model features or not: nulls, collapse, new values, range.

The feature profile covers what the model reads; a feed fault in a field it does not read
(coordinates no longer filled, every device hash the same, a currency code never seen) passes
the feature drift checks untouched, yet breaks the features that will read those fields next,
the audit, and the investigators' tools. Per window and field this counts nulls, the share of
the commonest value (a constant or collapsed field shows as a top share far above its usual
one), values of a categorical field training never saw, and numeric values outside the
training's 0.1-99.9 % range.

Baselines: a package built with raw-field profiles (models.profile.profile_fields) gives each
field's null rate, its categories (and so the usual top share of a categorical field) and a
numeric field's range, so a fault present from the monitor's first window is seen. What the
package cannot give, an identifier's usual top share (it depends on the window's size), and
everything for an older package without field profiles, comes from the monitor's own first
`baseline_windows` judged windows (pooled, then frozen: a fault that starts later cannot
become the norm).

Model features get the value-collapse check too (`feature:<name>`, numeric features that are not
exempt; their missing rate is judged against the package profile already): a feature fault on a
tenth of the traffic that writes one fallback value (a feature service that answers "ratio 1.0"
when a card's history is unavailable) moves that tenth of the events' scores, yet lands inside
the feature's own bins and percentiles, so PSI, location z and the score distribution hardly
move. The commonest value's share rises by the faulty share. Only features whose learnt top
share is at most `FEATURE_MAX_TOP_SHARE` (0.05: continuous ones, amounts, ratios, long counts)
are judged: a count or a flag has a mass point (merchant_count_1h = 1 on ~65 % of events)
whose share follows the traffic mix, and judged, merchant_count_1h alarmed twice in 100k clean
simulated events. A fault that writes a feature's usual commonest value is not seen this way.

Alert: a rate rose by the thresholds (effect size) and by at least `min_z` binomial standard
errors at the baseline rate, so a 1,000-event window cannot alert on noise. Values are counted
by Python's hash of their text (salted per process: baselines are rebuilt at every start), at
most `max_keys` distinct keys per field and window; values past that are counted as present,
never as the top value, which is fine for a top share; numeric values are kept as numbers.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from models.drift.alerts import graded
from models.profile import RAW_FIELDS, category_text
from schemas.drift import AlertThresholds, DriftAlert, DriftStatistic, FieldQuality
from schemas.model_package import FieldProfile
from schemas.transaction import Transaction

FIELDS = tuple(RAW_FIELDS)
NUMERIC = frozenset(index for index, name in enumerate(FIELDS) if RAW_FIELDS[name] == "numeric")
FieldKey = int | float | None
FieldKeys = tuple[FieldKey, ...]
Bounds = tuple[float, float]


def field_key(index: int, value: object) -> FieldKey:
    """A field's value as the tallies count it: None when null, a number for a numeric field,
    else the hash of its profile text (models.profile.category_text)."""
    if value is None:
        return None
    if index in NUMERIC:
        return float(value)  # type: ignore[arg-type]
    return hash(category_text(value))


def field_keys(transaction: Transaction) -> FieldKeys:
    """One key per watched field."""
    return tuple(field_key(index, getattr(transaction, name)) for index, name in enumerate(FIELDS))


@dataclass(frozen=True)
class FieldReference:
    """What the package says of one field (nothing for an older package)."""

    null_rate: float | None = None
    known: frozenset[int] | None = None  # categorical: the keys of training's values
    top_share: float | None = None  # categorical: training's commonest category's share
    bounds: Bounds | None = None  # numeric: training's 0.1-99.9 % range
    outside_share: float = 0.0


def field_references(profiles: Sequence[FieldProfile]) -> tuple[FieldReference, ...]:
    """One reference per FIELDS entry, from a package's raw-field profiles."""
    by_name = {profile.name: profile for profile in profiles}
    references = []
    for name in FIELDS:
        profile = by_name.get(name)
        if profile is None:
            references.append(FieldReference())
        elif profile.kind == "categorical":
            references.append(
                FieldReference(
                    null_rate=profile.null_rate,
                    known=frozenset(hash(text) for text in profile.categories),
                    top_share=max(profile.categories.values(), default=None),
                )
            )
        elif profile.kind == "numeric" and profile.low is not None and profile.high is not None:
            references.append(
                FieldReference(
                    null_rate=profile.null_rate,
                    bounds=(profile.low, profile.high),
                    outside_share=profile.outside_share,
                )
            )
        else:
            references.append(FieldReference(null_rate=profile.null_rate))
    return tuple(references)


@dataclass
class _Counts:
    n: int = 0
    nulls: int = 0
    outside: int = 0  # numeric values outside the reference range
    values: Counter[int | float] = field(default_factory=Counter)

    def add(self, key: FieldKey, max_keys: int, bounds: Bounds | None) -> None:
        self.n += 1
        if key is None:
            self.nulls += 1
            return
        if key in self.values or len(self.values) < max_keys:
            self.values[key] += 1
        if bounds is not None and not bounds[0] <= key <= bounds[1]:
            self.outside += 1

    @property
    def present(self) -> int:
        return self.n - self.nulls

    @property
    def null_rate(self) -> float:
        return self.nulls / self.n if self.n else 0.0

    @property
    def top_share(self) -> float:
        present = self.n - self.nulls
        return max(self.values.values()) / present if present and self.values else 0.0


FEATURE_MAX_TOP_SHARE = 0.05


def feature_field(name: str) -> str:
    """How a model feature's value counts are named among the fields."""
    return f"feature:{name}"


class FieldTally:
    """One window's counts per field: the raw FIELDS, then the watched features' values.
    `bounds`: per FIELDS entry, the numeric range whose outside is counted (None: not counted).
    """

    def __init__(
        self,
        max_keys: int = 4096,
        bounds: Sequence[Bounds | None] | None = None,
        features: tuple[str, ...] = (),
    ) -> None:
        self.max_keys = max_keys
        self.bounds = tuple(bounds) if bounds is not None else (None,) * len(FIELDS)
        self.features = features
        self.counts = [_Counts() for _ in range(len(FIELDS) + len(features))]
        # Split once: add() runs per event.
        self._raw, self._watched = self.counts[: len(FIELDS)], self.counts[len(FIELDS) :]

    @property
    def names(self) -> tuple[str, ...]:
        return (*FIELDS, *(feature_field(name) for name in self.features))

    def include(self, other: FieldTally) -> None:
        """Count `other`'s values here too (a running total over windows)."""
        for out, part in zip(self.counts, other.counts, strict=True):
            out.n, out.nulls, out.outside = (
                out.n + part.n,
                out.nulls + part.nulls,
                out.outside + part.outside,
            )
            out.values.update(part.values)

    def exclude(self, other: FieldTally) -> None:
        """Take back what `include(other)` counted."""
        for out, part in zip(self.counts, other.counts, strict=True):
            out.n, out.nulls, out.outside = (
                out.n - part.n,
                out.nulls - part.nulls,
                out.outside - part.outside,
            )
            values = out.values
            values.subtract(part.values)
            for key in part.values:
                if values[key] <= 0:
                    del values[key]

    def add(self, keys: FieldKeys, values: tuple[float, ...] = ()) -> None:
        """`values`: the watched features' values of the event, in `features` order."""
        if keys:  # else an event without raw fields (a caller that has only features)
            for counts, key, bounds in zip(self._raw, keys, self.bounds, strict=True):
                counts.add(key, self.max_keys, bounds)
        for counts, value in zip(self._watched, values, strict=True):
            counts.add(None if math.isnan(value) else hash(value), self.max_keys, None)


@dataclass
class _Baseline:
    null_rate: float
    top_share: float


class FieldQualityMonitor:
    def __init__(
        self, baseline_windows: int = 7, references: Sequence[FieldReference] | None = None
    ) -> None:
        if baseline_windows < 1:
            raise ValueError("baseline_windows must be at least one")
        self.baseline_windows = baseline_windows
        self.references = (
            tuple(references) if references is not None else (FieldReference(),) * len(FIELDS)
        )
        self._pooled = [_Counts() for _ in FIELDS]
        self._top_shares: list[list[float]] = []
        self._baseline: list[_Baseline] | None = None

    @property
    def bounds(self) -> tuple[Bounds | None, ...]:
        """The numeric ranges a window's FieldTally must count outside of."""
        return tuple(reference.bounds for reference in self.references)

    def judge(
        self, tally: FieldTally, thresholds: AlertThresholds, learn: bool = True
    ) -> tuple[list[FieldQuality], list[DriftAlert]]:
        """`learn`: False for a pooled day that overlaps one already learnt from."""
        counts = tally.counts
        if not any(c.n for c in counts):
            return [], []
        judged = max(c.n for c in counts) >= thresholds.min_events
        qualities: list[FieldQuality] = []
        alerts: list[DriftAlert] = []
        for index, (name, c) in enumerate(zip(tally.names, counts, strict=True)):
            if c.n == 0:
                continue  # raw fields from a caller that has only features
            if index < len(FIELDS):
                quality, raised = self._judge_field(index, name, c, judged, thresholds)
            else:
                quality, raised = self._judge_feature(index, name, c, judged, thresholds)
            qualities.append(quality)
            alerts += raised
        if judged and self._baseline is None and learn:
            self._learn(counts)
        return qualities, alerts

    def _judge_field(
        self, index: int, name: str, c: _Counts, judged: bool, thresholds: AlertThresholds
    ) -> tuple[FieldQuality, list[DriftAlert]]:
        reference = self.references[index]
        learnt = self._baseline[index] if self._baseline is not None else None
        from_package = reference.null_rate is not None
        usual_null = reference.null_rate
        if usual_null is None and learnt is not None:
            usual_null = learnt.null_rate
        usual_top = reference.top_share
        if usual_top is None and learnt is not None:
            usual_top = learnt.top_share
        present = c.present
        unseen = None
        if reference.known is not None and present:
            seen = sum(count for key, count in c.values.items() if key in reference.known)
            unseen = (present - seen) / present
        outside = c.outside / present if reference.bounds is not None and present else None
        subject = f"field:{name}"
        shifts: dict[DriftStatistic, float | None] = {}
        if judged:
            if usual_null is not None:
                shifts[DriftStatistic.NULL_RATE] = _shift(c.null_rate, usual_null, c.n, thresholds)
            if usual_top is not None:
                shifts[DriftStatistic.TOP_SHARE] = _shift(
                    c.top_share, usual_top, present, thresholds
                )
            if unseen is not None:
                shifts[DriftStatistic.UNSEEN_SHARE] = _shift(unseen, 0.0, present, thresholds)
            if outside is not None:
                shifts[DriftStatistic.OUT_OF_RANGE] = _shift(
                    outside, reference.outside_share, present, thresholds
                )
        alerts = [
            alert
            for statistic, shift in shifts.items()
            for alert in graded(subject, statistic, shift, thresholds)
        ]
        quality = _observed(
            name,
            c,
            null_rate_baseline=usual_null,
            top_share_baseline=usual_top,
            null_rate_shift=shifts.get(DriftStatistic.NULL_RATE),
            top_share_shift=shifts.get(DriftStatistic.TOP_SHARE),
            baseline_from=("package" if from_package else "monitor")
            if usual_null is not None
            else None,
            unseen_share=unseen,
            unseen_shift=shifts.get(DriftStatistic.UNSEEN_SHARE),
            out_of_range_share=outside,
            out_of_range_shift=shifts.get(DriftStatistic.OUT_OF_RANGE),
        )
        return quality, alerts

    def _judge_feature(
        self, index: int, name: str, c: _Counts, judged: bool, thresholds: AlertThresholds
    ) -> tuple[FieldQuality, list[DriftAlert]]:
        """A model feature's commonest value only (its missing rate is judged against the
        package profile with the other feature statistics)."""
        usual = self._baseline[index] if self._baseline is not None else None
        top_shift = None
        if usual is not None and judged and usual.top_share <= FEATURE_MAX_TOP_SHARE:
            top_shift = _shift(c.top_share, usual.top_share, c.present, thresholds)
        quality = _observed(
            name,
            c,
            null_rate_baseline=usual.null_rate if usual else None,
            top_share_baseline=usual.top_share if usual else None,
            top_share_shift=top_shift,
            baseline_from="monitor" if usual else None,
        )
        return quality, graded(f"field:{name}", DriftStatistic.TOP_SHARE, top_shift, thresholds)

    def _learn(self, counts: list[_Counts]) -> None:
        if len(self._pooled) != len(counts):
            self._pooled = [_Counts() for _ in counts]
        for pooled, c in zip(self._pooled, counts, strict=True):
            pooled.n += c.n
            pooled.nulls += c.nulls
        self._top_shares.append([c.top_share for c in counts])
        if len(self._top_shares) >= self.baseline_windows:
            # The mean of the windows' own top shares, not the pooled windows' top share: one
            # window concentrates on fewer values than several together (on simulated traffic
            # a device hash's top share was 0.03 per day and 0.006 over a week).
            tops = [sum(column) / len(column) for column in zip(*self._top_shares, strict=True)]
            self._baseline = [
                _Baseline(p.null_rate, top) for p, top in zip(self._pooled, tops, strict=True)
            ]


def _observed(name: str, c: _Counts, **judged: Any) -> FieldQuality:
    """A field's window as counted, with what it was judged against (raw field or feature)."""
    return FieldQuality(
        field=name,
        n=c.n,
        null_rate=c.null_rate,
        top_share=c.top_share,
        distinct=len(c.values),
        **judged,
    )


def _shift(live: float, usual: float, n: int, thresholds: AlertThresholds) -> float | None:
    """The rise over the usual level, or 0 when it is within `min_z` standard errors of it."""
    if n <= 0:
        return None
    error = math.sqrt(max(usual * (1 - usual), 1.0 / n) / n)
    rise = live - usual
    return rise if rise >= thresholds.quality_min_z * error else 0.0
