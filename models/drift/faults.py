"""Feed faults for the offline evaluation: in raw fields the model does not read, and in one
model feature on part of the traffic.

Raw-field faults (null coordinates, a constant device hash) touch the monitor's view of the
fields only: the features, scores and labels stay as they were, which is exactly the case the
feature checks cannot see. The feature fault (`stuck_feature`) writes one fallback value into a
model feature on a share of the events, as a feature service does that answers a neutral value
when it cannot read a card's history; those events are scored with it, so their scores move
while the rest do not (a segment-level score shift).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Literal

import numpy as np

from models.drift.evaluation import run_monitor
from models.drift.join import DAY_MS
from models.drift.quality import FIELDS
from models.drift.simulated import Population, SimulatedModel, live_rows, scored_events
from models.drift.window import WindowSpec
from models.features import FEATURE_NAMES
from models.features.facts import epoch_ms
from schemas.drift import AlertThresholds, DriftReport

FaultKind = Literal["null_coordinates", "constant_device", "stuck_feature"]
STUCK_FEATURE = "card_amount_ratio_30d"
STUCK_VALUE = 1.0
"""The `stuck_feature` fault's feature and fallback: 'this amount is the card's usual one'."""
CONSTANT = hash("0" * 64)
"""The key of one device hash given to every faulty event (a placeholder a broken SDK sends)."""


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
    columns = (
        (FIELDS.index("customer_lat"), FIELDS.index("customer_lon"))
        if kind == "null_coordinates"
        else (FIELDS.index("device_id_hash"),)
    )
    value = None if kind == "null_coordinates" else CONSTANT
    fields = list(population.fields)
    for row in hit:
        keys = list(fields[row])
        if kind == "constant_device" and keys[columns[0]] is None:
            continue  # no device on this event (card present): nothing to break
        for column in columns:
            keys[column] = value
        fields[row] = tuple(keys)
    return replace(population, fields=fields)


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
    first: dict[str, timedelta] = {}
    before = 0
    for report in reports:
        end_ms = epoch_ms(report.window.end)
        for alert in report.alerts:
            if end_ms <= start_ms:
                before += 1
            else:
                first.setdefault(
                    alert.subject or alert.what, timedelta(milliseconds=end_ms - start_ms)
                )
    return FaultEvaluation(first, before, reports)
