"""Raw-field profiles in the package, and the data-quality checks they make possible from the
monitor's first window: null rates, unseen categories, values outside training's range."""

from __future__ import annotations

import random

import pyarrow as pa

from models.drift.quality import (
    FIELDS,
    FieldQualityMonitor,
    FieldTally,
    field_key,
    field_keys,
    field_references,
)
from models.profile import category_text, profile_fields
from schemas import examples
from schemas.drift import AlertSeverity, AlertThresholds, DriftStatistic, FieldQuality
from schemas.transaction import EntryMode

THRESHOLDS = AlertThresholds(min_events=1000)
CURRENCY, LAT, LON = (FIELDS.index(name) for name in ("currency", "customer_lat", "customer_lon"))
CURRENCIES = ("EUR",) * 90 + ("CHF",) * 7 + ("GBP",) * 3


def _training(rng: random.Random, rows: int = 20_000) -> pa.Table:
    columns: dict[str, list[object]] = {name: [] for name in FIELDS}
    for _ in range(rows):
        coordinates = rng.random() >= 0.2
        row = {
            "terminal_id": f"T{rng.randrange(500)}",
            "currency": rng.choice(CURRENCIES),
            "country": rng.choice(("DE", "FR", "NL")),
            "entry_mode": rng.choice(("CHIP", "CONTACTLESS")),
            "card_present": rng.random() < 0.75,
            "device_id_hash": None,
            "ip_hash": None,
            "customer_lat": rng.uniform(40.0, 52.0) if coordinates else None,
            "customer_lon": rng.uniform(-4.0, 13.0) if coordinates else None,
        }
        for name in FIELDS:
            columns[name].append(row[name])
    return pa.table(columns)


def _window(
    rng: random.Random,
    n: int = 2_000,
    null_lat: float = 0.2,
    new_currency: float = 0.0,
    far_lat: float = 0.0,
) -> FieldTally:
    tally = FieldTally(bounds=MONITOR_BOUNDS)
    for _ in range(n):
        lat: float | None = rng.uniform(40.0, 52.0)
        if rng.random() < null_lat:
            lat = None
        elif rng.random() < far_lat:
            lat = -rng.uniform(40.0, 52.0)  # a sign flipped by a broken feed
        currency = "USD" if rng.random() < new_currency else rng.choice(CURRENCIES)
        values = {
            "terminal_id": f"T{rng.randrange(500)}",
            "currency": currency,
            "country": rng.choice(("DE", "FR", "NL")),
            "entry_mode": rng.choice(("CHIP", "CONTACTLESS")),
            "card_present": rng.random() < 0.75,
            "device_id_hash": None,
            "ip_hash": None,
            "customer_lat": lat,
            "customer_lon": None if lat is None else rng.uniform(-4.0, 13.0),
        }
        tally.add(tuple(field_key(i, values[name]) for i, name in enumerate(FIELDS)))
    return tally


PROFILES = profile_fields(_training(random.Random(1)))
REFERENCES = field_references(PROFILES)
MONITOR_BOUNDS = tuple(reference.bounds for reference in REFERENCES)


def test_the_profile_holds_null_rates_categories_and_ranges() -> None:
    by_name = {profile.name: profile for profile in PROFILES}
    assert [profile.name for profile in PROFILES] == list(FIELDS)
    assert abs(by_name["customer_lat"].null_rate - 0.2) < 0.02
    assert by_name["device_id_hash"].null_rate == 1.0
    assert set(by_name["currency"].categories) == {"EUR", "CHF", "GBP"}
    assert abs(sum(by_name["currency"].categories.values()) - 1.0) < 1e-9
    assert set(by_name["card_present"].categories) == {"True", "False"}
    lat = by_name["customer_lat"]
    assert lat.low is not None and lat.high is not None
    assert 40.0 <= lat.low < 40.1 and 51.9 < lat.high <= 52.0
    assert 0.0 < lat.outside_share < 0.005  # the 0.1-99.9 % range by construction
    assert by_name["terminal_id"].categories == {} and by_name["terminal_id"].low is None


def test_a_transaction_keys_its_values_as_the_profile_names_them() -> None:
    assert category_text(EntryMode.CHIP) == "CHIP" and category_text(True) == "True"
    transaction = examples.transaction()
    keys = field_keys(transaction)
    assert keys[CURRENCY] == hash(transaction.currency)
    if transaction.customer_lat is not None:
        assert keys[LAT] == transaction.customer_lat  # numbers stay numbers (range checks)


def test_clean_traffic_raises_nothing_against_the_package() -> None:
    rng = random.Random(2)
    monitor = FieldQualityMonitor(references=REFERENCES)
    for _ in range(60):
        qualities, alerts = monitor.judge(_window(rng), THRESHOLDS)
        assert alerts == [], alerts
    assert qualities[LAT].baseline_from == "package"
    assert qualities[CURRENCY].unseen_share == 0.0


def test_a_fault_present_from_the_first_window_is_seen_only_with_the_package() -> None:
    faulty = _window(random.Random(3), null_lat=0.5)
    _, without = FieldQualityMonitor().judge(faulty, THRESHOLDS)
    assert without == []  # no baseline yet: the monitor would learn the fault as the norm
    qualities, alerts = FieldQualityMonitor(references=REFERENCES).judge(faulty, THRESHOLDS)
    subjects = {(a.subject, a.statistic, a.severity) for a in alerts}
    assert ("field:customer_lat", DriftStatistic.NULL_RATE, AlertSeverity.CRITICAL) in subjects
    baseline = qualities[LAT].null_rate_baseline
    assert baseline is not None and abs(baseline - 0.2) < 0.02


def _only_alert(
    tally: FieldTally, monitor: FieldQualityMonitor | None = None
) -> tuple[list[FieldQuality], tuple[str | None, DriftStatistic | None, AlertSeverity]]:
    monitor = monitor or FieldQualityMonitor(references=REFERENCES)
    qualities, alerts = monitor.judge(tally, THRESHOLDS)
    [alert] = alerts
    return qualities, (alert.subject, alert.statistic, alert.severity)


def test_a_currency_training_never_saw_is_an_unseen_share() -> None:
    monitor = FieldQualityMonitor(references=REFERENCES)
    qualities, raised = _only_alert(_window(random.Random(4), new_currency=0.03), monitor)
    assert raised == ("field:currency", DriftStatistic.UNSEEN_SHARE, AlertSeverity.WARNING)
    share = qualities[CURRENCY].unseen_share
    assert share is not None and 0.02 < share < 0.04
    _, rare = monitor.judge(_window(random.Random(5), new_currency=0.002), THRESHOLDS)
    assert rare == []  # a handful in 2,000 is below the 1 % threshold


def test_coordinates_outside_the_training_range_are_out_of_range() -> None:
    qualities, raised = _only_alert(_window(random.Random(6), far_lat=0.2))
    assert raised == ("field:customer_lat", DriftStatistic.OUT_OF_RANGE, AlertSeverity.CRITICAL)
    share = qualities[LAT].out_of_range_share
    assert share is not None and 0.15 < share < 0.25
    assert qualities[LON].out_of_range_shift == 0.0  # the other coordinate is untouched


def test_pooled_tallies_keep_the_outside_counts() -> None:
    a = _window(random.Random(7), n=600, far_lat=0.5)
    b = _window(random.Random(8), n=600, far_lat=0.5)
    pooled = FieldTally(bounds=a.bounds)
    pooled.include(a)
    pooled.include(b)
    assert pooled.counts[LAT].outside == a.counts[LAT].outside + b.counts[LAT].outside > 0
    pooled.exclude(a)
    assert pooled.counts[LAT].outside == b.counts[LAT].outside
    assert pooled.counts[CURRENCY].values == b.counts[CURRENCY].values
