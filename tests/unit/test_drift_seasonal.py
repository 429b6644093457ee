"""Windows shorter than a day: features judged over the trailing day, so a daily cycle is quiet."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime

import numpy as np

from models.drift import DriftMonitor, WindowSpec
from models.drift.monitor import JoinSpec
from models.drift.quality import FIELDS, FieldTally
from models.drift.seasonal import TrailingDay
from models.drift.window import FeatureTally
from schemas.drift import AlertThresholds, DriftReport, WindowKind
from tests.support.drift_data import DAY_MS, HOUR_MS, T0_MS, event, reference

PER_HOUR = 120
THRESHOLDS = AlertThresholds(min_events=100, min_expected_decisions=5)


def _hourly(days: int, amount_times: float = 1.0) -> list[DriftReport]:
    """Amounts follow the hour (night: ≤ 10, morning: 10-20, ...): each hour sits in one of the
    profile's four equal bins, a whole day fills all four alike. Channels as in the profile."""
    monitor = DriftMonitor(
        reference(),
        WindowSpec(WindowKind.TIME, length_ms=HOUR_MS),
        THRESHOLDS,
        JoinSpec(maturity_days=0.0),
        clock=lambda: datetime(2026, 4, 1, tzinfo=UTC),
    )
    reports: list[DriftReport] = []
    index = 0
    for hour in range(days * 24):
        amount = (5.0, 15.0, 25.0, 35.0)[(hour % 24) // 6] * amount_times
        for k in range(PER_HOUR):
            at = T0_MS + hour * HOUR_MS + k * (HOUR_MS // PER_HOUR)
            channel = (0.0,) * 6 + (1.0,) * 3 + (2.0,)
            reports.extend(monitor.feed(event(index, amount, channel[k % 10], event_ms=at)))
            index += 1
    return reports


def test_hourly_windows_of_a_daily_cycle_raise_nothing() -> None:
    reports = _hourly(days=4)
    assert len(reports) == 4 * 24 - 1  # the last hour is still open
    assert [a for r in reports for a in r.alerts if a.subject == "amount"] == []
    judged = [r for r in reports if r.features_judged]
    assert len(judged) >= 3 * 24 - 1  # from the first full day on
    latest = reports[-1]
    assert latest.features_over is not None
    assert latest.features_over.n >= 24 * PER_HOUR - PER_HOUR
    amount = latest.features[0]
    assert amount.psi is not None and amount.psi < 0.01


def test_before_a_full_day_short_windows_say_not_judged() -> None:
    reports = _hourly(days=1)
    assert reports[0].features_judged is False
    # (The score and decision rates of these all-APPROVE events alert: not this test's subject.)
    assert not any(a.subject in ("amount", "channel") for r in reports for a in r.alerts)
    assert reports[0].judged(THRESHOLDS.min_events) is False


def test_a_shift_still_shows_within_the_day() -> None:
    reports = _hourly(days=3, amount_times=1.0)
    shifted = _hourly(days=3, amount_times=3.0)  # every amount ×3: most land in the top bin
    assert not any(a.subject == "amount" for r in reports for a in r.alerts)
    first = next(r for r in shifted if any(a.subject == "amount" for a in r.alerts))
    assert first.window.end.timestamp() * 1000 - T0_MS <= 2 * DAY_MS


def test_raw_field_quality_is_pooled_over_the_day_too() -> None:
    # Coordinates null at night only (online share follows the hour): each 6-hour block alone
    # swings the null rate by 0.6; the day pooled does not move.
    monitor = DriftMonitor(
        reference(),
        WindowSpec(WindowKind.TIME, length_ms=6 * HOUR_MS),
        THRESHOLDS,
        JoinSpec(maturity_days=0.0),
        clock=lambda: datetime(2026, 4, 1, tzinfo=UTC),
    )
    lat = FIELDS.index("customer_lat")
    reports: list[DriftReport] = []
    for hour in range(12 * 24):
        for k in range(PER_HOUR):
            at = T0_MS + hour * HOUR_MS + k * (HOUR_MS // PER_HOUR)
            keys: list[int | None] = [k % 50] * len(FIELDS)
            keys[lat] = None if (hour % 24) < 6 and k % 5 else k
            plain = event(hour * PER_HOUR + k, event_ms=at)
            reports.extend(monitor.feed(plain._replace(fields=tuple(keys))))
    assert reports[-1].fields and reports[-1].fields[lat].null_rate_baseline is not None
    assert not any(a.subject and a.subject.startswith("field:") for r in reports for a in r.alerts)


def test_the_trailing_day_is_kept_as_running_totals_equal_to_a_fresh_sum() -> None:
    """Each close adds one window and subtracts those that left the day: the totals must stay
    what summing the day's windows afresh gives (features and raw fields)."""
    rng = random.Random(3)
    day = TrailingDay()
    kept: list[tuple[int, int, int, tuple[FeatureTally, ...], FieldTally]] = []
    start = T0_MS
    for _ in range(120):
        length = rng.choice((HOUR_MS // 2, HOUR_MS, 3 * HOUR_MS))
        features = tuple(
            FeatureTally(
                bins=np.array([rng.randrange(20) for _ in range(4)], dtype=np.int64),
                unseen=rng.randrange(3),
                missing=rng.randrange(3),
                rank_sum=rng.random() * 10,
            )
            for _ in range(2)
        )
        fields = FieldTally()
        for _ in range(rng.randrange(1, 40)):
            fields.add(tuple(rng.choice((None, rng.randrange(6))) for _ in FIELDS))
        window = (start, start + length, rng.randrange(50), features, fields)
        pooled = day.add(*window)
        kept.append(window)
        while len(kept) > 1 and kept[1][0] <= window[1] - DAY_MS:
            kept.pop(0)
        assert pooled.events == sum(w[2] for w in kept)
        assert pooled.start_ms == kept[0][0]
        for index, total in enumerate(pooled.features):
            parts = [w[3][index] for w in kept]
            assert (total.bins == sum(p.bins for p in parts)).all()
            assert total.unseen == sum(p.unseen for p in parts)
            assert total.missing == sum(p.missing for p in parts)
            assert abs(total.rank_sum - sum(p.rank_sum for p in parts)) < 1e-9
        assert pooled.fields is not None
        for field_index, counts in enumerate(pooled.fields.counts):
            parts_counts = [w[4].counts[field_index] for w in kept]
            assert counts.n == sum(c.n for c in parts_counts)
            assert counts.nulls == sum(c.nulls for c in parts_counts)
            assert counts.values == sum((c.values for c in parts_counts), Counter())
        start += length
