"""Data quality of the raw input fields, model features or not: null rate and value collapse.

The feature profile covers what the model reads; a feed fault in a field it does not read
(coordinates no longer filled, every device hash the same) passes the feature drift checks
untouched, yet breaks the features that will read those fields next, the audit, and the
investigators' tools. Per window and field this counts nulls and the share of the commonest
value (a constant or collapsed field shows as a top share far above its usual one).

Baseline: the package profile has no raw fields, so each field's usual null rate and top share
come from the monitor's own first `baseline_windows` judged windows (pooled, then frozen: a
fault that starts later cannot become the norm). A fault present from the monitor's start is
therefore not seen; profiling raw fields in the package build would close that (not done).

Model features get the value-collapse check too (`feature:<name>`, numeric features that are not
exempt; their missing rate is judged against the package profile already): a feature fault on a
tenth of the traffic that writes one fallback value (a feature service that answers "ratio 1.0"
when a card's history is unavailable) moves that tenth of the events' scores, yet lands inside
the feature's own bins and percentiles, so PSI, location z and the score distribution hardly
move. The commonest value's share rises by the faulty share. Only features whose baseline top
share is at most `FEATURE_MAX_TOP_SHARE` (0.05: continuous ones, amounts, ratios, long counts)
are judged: a count or a flag has a mass point (merchant_count_1h = 1 on ~65 % of events)
whose share follows the traffic mix, and judged, merchant_count_1h alarmed twice in 100k clean
simulated events. A fault that writes a feature's usual commonest value is not seen this way.

Alert: the null rate or the top share rose by the thresholds (effect size) and by at least
`min_z` binomial standard errors at the baseline rate, so a 1,000-event window cannot alert on
noise. Values are counted by Python's hash of the value (salted per process: the baseline is
rebuilt at every start anyway), at most `max_keys` distinct keys per field and window; values
past that are counted as present, never as the top value, which is fine for a top share.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from models.drift.alerts import graded
from schemas.drift import AlertThresholds, DriftAlert, DriftStatistic, FieldQuality
from schemas.transaction import Transaction

FIELDS = (
    "terminal_id",
    "currency",
    "country",
    "entry_mode",
    "card_present",
    "device_id_hash",
    "ip_hash",
    "customer_lat",
    "customer_lon",
)
FieldKeys = tuple[int | None, ...]


def field_keys(transaction: Transaction) -> FieldKeys:
    """One key per watched field: None when the field is null."""
    return tuple(
        None if (value := getattr(transaction, name)) is None else hash(value) for name in FIELDS
    )


@dataclass
class _Counts:
    n: int = 0
    nulls: int = 0
    values: Counter[int] = field(default_factory=Counter)

    def add(self, key: int | None, max_keys: int) -> None:
        self.n += 1
        if key is None:
            self.nulls += 1
        elif key in self.values or len(self.values) < max_keys:
            self.values[key] += 1

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
    """One window's counts per field: the raw FIELDS, then the watched features' values."""

    def __init__(self, max_keys: int = 4096, features: tuple[str, ...] = ()) -> None:
        self.max_keys = max_keys
        self.features = features
        self.counts = [_Counts() for _ in range(len(FIELDS) + len(features))]

    def merged(self, other: FieldTally) -> FieldTally:
        """Both windows' counts together (the trailing day of short windows)."""
        total = FieldTally(self.max_keys, self.features)
        for out, a, b in zip(total.counts, self.counts, other.counts, strict=True):
            out.n, out.nulls = a.n + b.n, a.nulls + b.nulls
            out.values = a.values + b.values
        return total

    def add(self, keys: FieldKeys, values: tuple[float, ...] = ()) -> None:
        """`values`: the watched features' values of the event, in `features` order."""
        if keys:  # else an event without raw fields (a caller that has only features)
            for counts, key in zip(self.counts[: len(FIELDS)], keys, strict=True):
                counts.add(key, self.max_keys)
        for counts, value in zip(self.counts[len(FIELDS) :], values, strict=True):
            counts.add(None if math.isnan(value) else hash(value), self.max_keys)

    @property
    def names(self) -> tuple[str, ...]:
        return (*FIELDS, *(feature_field(name) for name in self.features))


@dataclass
class _Baseline:
    null_rate: float
    top_share: float


class FieldQualityMonitor:
    def __init__(self, baseline_windows: int = 7) -> None:
        if baseline_windows < 1:
            raise ValueError("baseline_windows must be at least one")
        self.baseline_windows = baseline_windows
        self._pooled = [_Counts() for _ in FIELDS]
        self._top_shares: list[list[float]] = []
        self._baseline: list[_Baseline] | None = None

    def judge(
        self, tally: FieldTally, thresholds: AlertThresholds, learn: bool = True
    ) -> tuple[list[FieldQuality], list[DriftAlert]]:
        """`learn`: False for a pooled day that overlaps one already learnt from."""
        counts = tally.counts
        if not any(c.n for c in counts):
            return [], []
        judged = max(c.n for c in counts) >= thresholds.min_events
        baseline = self._baseline
        qualities: list[FieldQuality] = []
        alerts: list[DriftAlert] = []
        for index, (name, c) in enumerate(zip(tally.names, counts, strict=True)):
            if c.n == 0:
                continue  # raw fields from a caller that has only features
            usual = baseline[index] if baseline is not None else None
            null_shift = top_shift = None
            raw = index < len(FIELDS)
            if usual is not None and judged and (raw or usual.top_share <= FEATURE_MAX_TOP_SHARE):
                if raw:  # features: missing rate against the package profile instead
                    null_shift = _shift(c.null_rate, usual.null_rate, c.n, thresholds)
                top_shift = _shift(c.top_share, usual.top_share, c.n - c.nulls, thresholds)
                alerts += graded(f"field:{name}", DriftStatistic.NULL_RATE, null_shift, thresholds)
                alerts += graded(f"field:{name}", DriftStatistic.TOP_SHARE, top_shift, thresholds)
            qualities.append(
                FieldQuality(
                    field=name,
                    n=c.n,
                    null_rate=c.null_rate,
                    top_share=c.top_share,
                    distinct=len(c.values),
                    null_rate_baseline=usual.null_rate if usual else None,
                    top_share_baseline=usual.top_share if usual else None,
                    null_rate_shift=null_shift,
                    top_share_shift=top_shift,
                )
            )
        if judged and baseline is None and learn:
            self._learn(counts)
        return qualities, alerts

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


def _shift(live: float, usual: float, n: int, thresholds: AlertThresholds) -> float | None:
    """The rise over the usual level, or 0 when it is within `min_z` standard errors of it."""
    if n <= 0:
        return None
    error = math.sqrt(max(usual * (1 - usual), 1.0 / n) / n)
    rise = live - usual
    return rise if rise >= thresholds.quality_min_z * error else 0.0
