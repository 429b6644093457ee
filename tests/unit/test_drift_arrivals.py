"""Performance from the labels arrived so far: per event day, before maturity, weighted."""

from __future__ import annotations

import pytest

from models.drift import ModelScore, ScoredEvent
from models.drift.arrivals import ArrivingLabels, wilson
from models.drift.compare import arrived_recall_alerts, with_recall_drop
from models.drift.join import DAY_MS, LabelChange, LabelJoin
from schemas.base import DeploymentRole
from schemas.drift import AlertSeverity, AlertThresholds
from tests.support.drift_data import CHAMPION, T0_MS

CAUGHT = (ModelScore(CHAMPION, DeploymentRole.CHAMPION, 0.9, "DECLINE"),)
MISSED = (ModelScore(CHAMPION, DeploymentRole.CHAMPION, 0.1, "APPROVE"),)


def _event(index: int, outputs: tuple[ModelScore, ...], day: int = 0) -> ScoredEvent:
    return ScoredEvent(f"T{day}-{index}", T0_MS + day * DAY_MS + index, (), outputs)


def _wired(maturity_days: int = 60) -> tuple[LabelJoin, ArrivingLabels]:
    join = LabelJoin(maturity_ms=maturity_days * DAY_MS, lateness_ms=0)
    arrivals = ArrivingLabels()
    join.on_label = arrivals.add_label
    return join, arrivals


def _feed(join: LabelJoin, arrivals: ArrivingLabels, event: ScoredEvent) -> None:
    arrivals.add_event(event)
    join.add_entry(event.transaction_id, event.event_ms, event.outputs)


def test_recall_so_far_counts_arrived_fraud_labels_long_before_maturity() -> None:
    join, arrivals = _wired()
    for index in range(100):
        _feed(join, arrivals, _event(index, CAUGHT if index < 2 else MISSED))
    for index in range(10):  # two caught, eight missed frauds, labelled on day 3
        join.add_label(f"T0-{index}", True, T0_MS + 3 * DAY_MS)
    assert join.mature() == []  # nothing matured: 60 days
    [day] = arrivals.days(CHAMPION, 7)
    assert (day.events, day.flagged, day.fraud_labels) == (100, 2, 10)
    assert day.recall == pytest.approx(0.2)
    assert day.recall_low is not None and day.recall_high is not None
    assert day.recall_low < 0.2 < day.recall_high
    assert day.precision_lower_bound == pytest.approx(1.0)  # both flagged events are fraud
    # Label-free: Σ flagged scores / Σ scores, and / flagged.
    assert day.estimated_recall == pytest.approx(1.8 / (1.8 + 9.8))
    assert day.estimated_precision == pytest.approx(0.9)


def test_an_overturned_label_is_taken_back() -> None:
    join, arrivals = _wired()
    _feed(join, arrivals, _event(0, CAUGHT))
    join.add_label("T0-0", True, T0_MS + DAY_MS)
    join.add_label("T0-0", False, T0_MS + 2 * DAY_MS)  # cleared after review
    [day] = arrivals.days(CHAMPION, 1)
    assert day.fraud_labels == 0 and day.recall is None


def test_a_sampled_unflagged_fraud_counts_with_its_weight() -> None:
    arrivals = ArrivingLabels()
    arrivals.add_event(_event(0, MISSED))
    arrivals.add_event(_event(1, CAUGHT))
    arrivals.add_label(LabelChange(T0_MS, MISSED, None, True, 4.0))
    arrivals.add_label(LabelChange(T0_MS, CAUGHT, None, True, 1.0))
    [day] = arrivals.days(CHAMPION, 1)
    assert day.fraud_labels == 2
    assert day.fraud_labels_weighted == pytest.approx(5.0)
    assert day.recall == pytest.approx(0.2)


def test_pooling_walks_back_until_enough_labels_are_in() -> None:
    join, arrivals = _wired()
    for day in range(10):
        for index in range(20):
            _feed(join, arrivals, _event(index, MISSED, day))
    for day in range(5):  # labels in for the five oldest days only, 5 each
        for index in range(5):
            join.add_label(f"T{day}-{index}", True, T0_MS + 9 * DAY_MS)
    pooled = arrivals.pooled(CHAMPION, T0_MS + 10 * DAY_MS, min_labels=10, max_days=14)
    assert pooled is not None
    # Days 9..5 have none, day 4 and 3 bring ten: the period is days 3-9.
    assert pooled.fraud_labels == 10
    assert pooled.period_start.day == 5 and pooled.period_end.day == 12  # T0 is March 2nd
    capped = arrivals.pooled(CHAMPION, T0_MS + 10 * DAY_MS, min_labels=10, max_days=5)
    assert capped is not None and capped.fraud_labels == 0


def test_the_recall_alert_needs_labels_and_an_upper_bound_below_the_reference() -> None:
    thresholds = AlertThresholds()
    arrivals = ArrivingLabels()
    for index in range(40):
        arrivals.add_event(_event(index, MISSED))
        change = LabelChange(T0_MS, MISSED, None, True, 1.0)
        arrivals.add_label(change)
        pooled = arrivals.pooled(CHAMPION, T0_MS + DAY_MS, 1, 14)
        assert pooled is not None
        raised = arrived_recall_alerts(with_recall_drop(pooled, 0.6, None, thresholds), thresholds)
        if index + 1 < thresholds.min_fraud_labels_arrived:
            assert raised == []
    assert [a.severity for a in raised] == [AlertSeverity.CRITICAL]  # 0 of 40: bound ~0.09
    assert raised[0].subject == f"recall:{CHAMPION.version}"


def test_a_recall_as_good_as_the_reference_never_alerts() -> None:
    arrivals = ArrivingLabels()
    for index in range(200):
        outputs = CAUGHT if index % 2 else MISSED
        arrivals.add_event(_event(index, outputs))
        arrivals.add_label(LabelChange(T0_MS, outputs, None, True, 1.0))
    pooled = arrivals.pooled(CHAMPION, T0_MS + DAY_MS, 20, 14)
    assert pooled is not None
    thresholds = AlertThresholds()
    judged = with_recall_drop(pooled, 0.6, None, thresholds)
    assert judged.recall_drop is not None  # judged, not skipped: the alert had its chance
    assert arrived_recall_alerts(judged, thresholds) == []


def test_wilson_interval_matches_the_textbook_case() -> None:
    low, high = wilson(0.5, 100)
    assert low == pytest.approx(0.4038, abs=1e-3) and high == pytest.approx(0.5962, abs=1e-3)
    assert wilson(0.0, 20)[0] == 0.0
