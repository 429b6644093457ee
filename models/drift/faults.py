"""Feed faults for the offline evaluation: in raw fields the model does not read, and in one
model feature on part of the traffic.

Raw-field faults (null coordinates, a constant device hash, a currency code never seen,
swapped coordinates) touch the monitor's view of the fields only: the features, scores and
labels stay as they were, which is exactly the case the feature checks cannot see. The feature
fault (`stuck_feature`) writes one fallback value into a model feature on a share of the
events, as a feature service does that answers a neutral value when it cannot read a card's
history; those events are scored with it, so their scores move while the rest do not (a
segment-level score shift).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Literal

import numpy as np

from models.drift.evaluation import run_monitor, timed_alerts
from models.drift.join import DAY_MS
from models.drift.quality import FIELDS, FieldKey, field_key
from models.drift.simulated import Population, SimulatedModel, live_rows, scored_events
from models.drift.window import WindowSpec
from models.features import FEATURE_NAMES
from schemas.drift import AlertThresholds, DriftReport

FaultKind = Literal[
    "null_coordinates",
    "constant_device",
    "unknown_currency",
    "swapped_coordinates",
    "stuck_feature",
]
FAULT_KINDS: tuple[FaultKind, ...] = (
    "null_coordinates",
    "constant_device",
    "unknown_currency",
    "swapped_coordinates",
    "stuck_feature",
)
STUCK_FEATURE = "card_amount_ratio_30d"
STUCK_VALUE = 1.0
"""The `stuck_feature` fault's feature and fallback: 'this amount is the card's usual one'."""
CONSTANT = hash("0" * 64)
"""The key of one device hash given to every faulty event (a placeholder a broken SDK sends)."""
UNKNOWN_CURRENCY = field_key(FIELDS.index("currency"), "XTS")
"""ISO 4217's code reserved for testing: valid to the schema, never in the simulated traffic."""
LAT, LON = FIELDS.index("customer_lat"), FIELDS.index("customer_lon")


def faulted(
    population: Population, start_day: int, share: float, kind: FaultKind, seed: int = 0
) -> Population:
    if not 0 < share <= 1:
        raise ValueError("share must be in (0, 1]")
    rng = np.random.default_rng(seed)
    first = population.first_row_of_day(start_day)
    hit = np.flatnonzero(rng.random(len(population.fields) - first) < share) + first
    if kind == "stuck_feature":
        features = population.features.copy()
        features[hit, FEATURE_NAMES.index(STUCK_FEATURE)] = STUCK_VALUE
        return replace(population, features=features)
    fields = list(population.fields)
    for row in hit:
        fields[row] = _broken(fields[row], kind)
    return replace(population, fields=fields)


def _broken(keys: tuple[FieldKey, ...], kind: FaultKind) -> tuple[FieldKey, ...]:
    """One event's fields as the faulty feed sends them (unchanged where it has nothing to
    break: no device on a card-present payment, no coordinates to swap)."""
    broken = list(keys)
    if kind == "null_coordinates":
        broken[LAT] = broken[LON] = None
    elif kind == "constant_device" and broken[FIELDS.index("device_id_hash")] is not None:
        broken[FIELDS.index("device_id_hash")] = CONSTANT
    elif kind == "unknown_currency":
        broken[FIELDS.index("currency")] = UNKNOWN_CURRENCY
    elif kind == "swapped_coordinates":
        broken[LAT], broken[LON] = broken[LON], broken[LAT]
    return tuple(broken)


@dataclass(frozen=True)
class FaultEvaluation:
    first_alert: dict[str, timedelta]
    """Per alert subject, time from the fault's start to the end of the first alerting window."""
    before_start: int
    """Alerts in windows that ended before the fault: false alarms."""
    reports: list[DriftReport]


def evaluate_fault(
    population: Population,
    model: SimulatedModel,
    start_day: int,
    share: float,
    kind: FaultKind,
    windows: WindowSpec,
    thresholds: AlertThresholds | None = None,
) -> FaultEvaluation:
    broken = faulted(population, start_day, share, kind)
    start_ms = int(population.config.start.timestamp() * 1000) + start_day * DAY_MS
    events = scored_events(broken, model, live_rows(broken))
    reports = run_monitor(model, events, broken.labels, windows, thresholds)
    timed = timed_alerts(reports, start_ms)
    first: dict[str, timedelta] = {}
    for after, alert in timed.after_start:
        first.setdefault(alert.subject or alert.what, after)
    return FaultEvaluation(first, timed.before_start, reports)
