"""Data quality of raw input fields: null rates and value collapse against a live baseline."""

from __future__ import annotations

import random

from models.drift.quality import FIELDS, FieldQualityMonitor, FieldTally, field_keys
from schemas import examples
from schemas.drift import AlertSeverity, AlertThresholds, DriftStatistic

THRESHOLDS = AlertThresholds(min_events=1000)
LAT, DEVICE = FIELDS.index("customer_lat"), FIELDS.index("device_id_hash")


def _window(
    rng: random.Random, n: int = 2000, null_lat: float = 0.02, constant_device: float = 0.0
) -> FieldTally:
    tally = FieldTally()
    for _ in range(n):
        keys: list[int | None] = [rng.randrange(10_000) for _ in FIELDS]
        if rng.random() < null_lat:
            keys[LAT] = None
        if rng.random() < constant_device:
            keys[DEVICE] = 42
        tally.add(tuple(keys))
    return tally


def _monitor(rng: random.Random) -> FieldQualityMonitor:
    monitor = FieldQualityMonitor(baseline_windows=3)
    for _ in range(3):
        monitor.judge(_window(rng), THRESHOLDS)
    return monitor


def test_no_alert_before_the_baseline_and_none_on_clean_windows() -> None:
    rng = random.Random(5)
    monitor = FieldQualityMonitor(baseline_windows=3)
    for _ in range(3):
        qualities, alerts = monitor.judge(_window(rng, null_lat=0.5), THRESHOLDS)
        assert alerts == [] and qualities[LAT].null_rate_baseline is None
    for _ in range(50):
        qualities, alerts = monitor.judge(_window(rng, null_lat=0.5), THRESHOLDS)
        assert alerts == []
    assert qualities[LAT].null_rate_baseline is not None


def test_thirty_percent_null_coordinates_are_critical_in_the_first_window() -> None:
    monitor = _monitor(random.Random(6))
    qualities, alerts = monitor.judge(_window(random.Random(7), null_lat=0.32), THRESHOLDS)
    [alert] = alerts
    assert alert.subject == "field:customer_lat"
    assert alert.statistic is DriftStatistic.NULL_RATE
    assert alert.severity is AlertSeverity.CRITICAL
    assert qualities[LAT].null_rate_shift is not None and qualities[LAT].null_rate_shift > 0.25


def test_a_constant_device_hash_on_ten_percent_is_a_collapse() -> None:
    monitor = _monitor(random.Random(8))
    _, alerts = monitor.judge(_window(random.Random(9), constant_device=0.1), THRESHOLDS)
    [alert] = alerts
    assert alert.subject == "field:device_id_hash"
    assert alert.statistic is DriftStatistic.TOP_SHARE
    assert alert.severity is AlertSeverity.WARNING


def test_a_window_too_small_is_reported_but_not_judged() -> None:
    monitor = _monitor(random.Random(10))
    qualities, alerts = monitor.judge(_window(random.Random(11), n=500, null_lat=0.9), THRESHOLDS)
    assert alerts == []
    assert qualities[LAT].null_rate > 0.8 and qualities[LAT].null_rate_shift is None


def test_keys_come_from_the_transaction_record() -> None:
    transaction = examples.transaction()
    keys = field_keys(transaction)
    assert len(keys) == len(FIELDS)
    assert (keys[LAT] is None) == (transaction.customer_lat is None)


def _feature_window(rng: random.Random, stuck: float = 0.0, n: int = 2000) -> FieldTally:
    """Features `ratio` (continuous) and `count` (a mass point at 1 on ~60 %), no raw fields;
    `stuck`: share of events whose ratio is a fallback 1.0 and whose count is its usual 1."""
    tally = FieldTally(features=("ratio", "count"))
    for _ in range(n):
        ratio, count = rng.lognormvariate(0, 0.5), float(1 if rng.random() < 0.6 else 2)
        if rng.random() < stuck:
            ratio, count = 1.0, 1.0
        tally.add((), (ratio, count))
    return tally


def test_a_feature_stuck_at_a_fallback_on_a_tenth_of_events_is_a_collapse() -> None:
    # The segment-level fault: these events' scores move, the feature's bins hardly do.
    rng = random.Random(10)
    monitor = FieldQualityMonitor(baseline_windows=3)
    for _ in range(3):
        assert monitor.judge(_feature_window(rng), THRESHOLDS)[1] == []
    for _ in range(20):
        assert monitor.judge(_feature_window(rng), THRESHOLDS)[1] == []
    qualities, alerts = monitor.judge(_feature_window(rng, stuck=0.1), THRESHOLDS)
    [alert] = alerts
    assert alert.subject == "field:feature:ratio"
    assert alert.statistic is DriftStatistic.TOP_SHARE
    assert [q.field for q in qualities] == ["feature:ratio", "feature:count"]
    # The count feature's mass point rose too (0.6 → 0.64) but is not judged: its commonest
    # share follows the traffic mix.
    assert qualities[1].top_share_shift is None and qualities[1].top_share > 0.6
