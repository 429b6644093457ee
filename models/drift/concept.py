"""Concept drift for the offline evaluation: fraud that starts to look genuine to the model.

The simulator's shifts move feature distributions; concept drift is the opposite case, the
relation between features and fraud changes while the feature distributions barely do. It is
emulated after simulation: from `start_day`, a share of the fraud events takes the feature
vector of a random genuine event of the same day. Fraud is well under 1 % of events, so every
feature's distribution is unchanged to within noise, labels are unchanged (same events, same
report delays), and the model's recall on new fraud falls by about `share`. What the monitor
should then see: nothing in the feature or score drift, and a recall drop as the new fraud's
labels arrive.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

import numpy as np

from models.drift.evaluation import Detection, run_monitor, timed_alerts
from models.drift.join import DAY_MS
from models.drift.monitor import JoinSpec
from models.drift.simulated import (
    Population,
    SimulatedModel,
    live_rows,
    scored_events,
)
from models.drift.window import WindowSpec
from schemas.drift import AlertThresholds, DriftReport


def camouflaged(
    population: Population, start_day: int, share: float, seed: int = 0
) -> tuple[Population, list[int]]:
    """The population with concept drift, and the fraud rows it changed."""
    if not 0 < share <= 1:
        raise ValueError("share must be in (0, 1]")
    rng = np.random.default_rng(seed)
    features = population.features.copy()
    first = population.first_row_of_day(start_day)
    day_of = (population.event_ms - population.event_ms[0]) // DAY_MS
    genuine = np.flatnonzero(~population.is_fraud)
    changed: list[int] = []
    for row in np.flatnonzero(population.is_fraud[first:]) + first:
        if rng.random() >= share:
            continue
        same_day = genuine[day_of[genuine] == day_of[row]]
        features[row] = features[rng.choice(same_day)]
        changed.append(int(row))
    return replace(population, features=features), changed


@dataclass(frozen=True)
class ConceptEvaluation:
    """Delays (`after`) are from `start_ms`; `since_first_label` gives them from the labels."""

    start_ms: int
    first_label_ms: int | None
    """When the first fraud label of a changed event arrived: the earliest anyone could know."""
    recall: Detection | None
    """First arrived-label recall alert after the start."""
    pr_auc: Detection | None
    """First matured PR-AUC alert after the start."""
    other_alerts: dict[str, int]
    """Every other alert after the start (features, score): none expected."""
    before_start: int
    """Alerts of windows that ended before the start: false alarms."""
    reports: list[DriftReport]


def evaluate_concept_drift(
    population: Population,
    model: SimulatedModel,
    start_day: int,
    share: float,
    windows: WindowSpec,
    join: JoinSpec,
    thresholds: AlertThresholds | None = None,
) -> ConceptEvaluation:
    drifted, changed = camouflaged(population, start_day, share)
    ids = {population.transaction_ids[row] for row in changed}
    labels = drifted.labels
    arrived = [
        int(labels.labelled_ms[index])
        for index, tid in enumerate(labels.transaction_id)
        if labels.is_fraud[index] and tid in ids
    ]
    start_ms = int(population.config.start.timestamp() * 1000) + start_day * DAY_MS
    reports = run_monitor(
        model,
        scored_events(drifted, model, live_rows(drifted)),
        drifted.labels,
        windows,
        thresholds,
        join,
    )
    timed = timed_alerts(reports, start_ms)
    first: dict[str, Detection] = {}
    others: dict[str, int] = {}
    for after, alert in timed.after_start:
        subject = alert.subject or alert.what
        kind = subject.split(":")[0]
        if kind not in ("recall", "performance"):
            others[subject] = others.get(subject, 0) + 1
        first.setdefault(
            kind, Detection(events=0, after=after, severity=alert.severity.value, value=alert.value)
        )
    return ConceptEvaluation(
        start_ms=start_ms,
        first_label_ms=min(arrived) if arrived else None,
        recall=first.get("recall"),
        pr_auc=first.get("performance"),
        other_alerts=others,
        before_start=timed.before_start,
        reports=reports,
    )


def since_first_label(result: ConceptEvaluation, found: Detection | None) -> timedelta | None:
    if found is None or result.first_label_ms is None:
        return None
    return found.after - timedelta(milliseconds=result.first_label_ms - result.start_ms)
