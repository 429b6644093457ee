"""How fast the monitor sees a shift, and how often it cries wolf: measured on simulated data.

Both measurements drive `DriftMonitor` with the events and labels of a simulated population
(`models.drift.simulated`). The plain run's live part measures false alarms: every alert on data
without a shift is one. Each shifted run measures detection delay: the events, and the simulated
time, from the shift's start to the report that first alerts on each feature the shift changed
(a feature changed when its column differs from the plain run's). An alert on a feature the
shift left bit-identical, or before the shift, is a false alarm too, and is listed as such.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import numpy as np

from models.drift.events import ScoredEvent, utc_from_ms
from models.drift.monitor import DriftMonitor, JoinSpec
from models.drift.simulated import (
    Labels,
    Population,
    SimulatedModel,
    Snapshot,
    live_rows,
    scored_events,
    shift_start_ms,
    shifted_population,
)
from models.drift.window import WindowSpec
from models.features import FEATURE_NAMES
from models.features.facts import epoch_ms
from models.simulator import ShiftConfig
from schemas.drift import AlertThresholds, DriftAlert, DriftReport, WindowKind
from schemas.label import FraudLabel, LabelSource

EVALUATION_JOIN = JoinSpec(maturity_days=30.0)
"""Shorter than the production default, so a simulated live period sees labels mature."""
GENERATED_AT = datetime(2026, 1, 1, tzinfo=UTC)
"""Reports of a simulation carry a fixed `generated_at`, so runs are reproducible."""


def run_monitor(
    model: SimulatedModel,
    events: Iterable[ScoredEvent],
    labels: Labels | None,
    windows: WindowSpec,
    thresholds: AlertThresholds | None = None,
    join: JoinSpec = EVALUATION_JOIN,
) -> list[DriftReport]:
    """Every report of the stream; each label is read once the events reach its labelled_at."""
    monitor = DriftMonitor(model.reference, windows, thresholds, join, clock=lambda: GENERATED_AT)
    reports: list[DriftReport] = []
    pending = 0
    count = len(labels.transaction_id) if labels is not None else 0
    for event in events:
        while labels is not None and pending < count:
            if labels.labelled_ms[pending] > event.event_ms:
                break
            monitor.observe_label(_label(labels, pending))
            pending += 1
        reports.extend(monitor.feed(event))
    return reports


def _label(labels: Labels, index: int) -> FraudLabel:
    fraud = bool(labels.is_fraud[index])
    return FraudLabel(
        transaction_id=labels.transaction_id[index],
        card_id=labels.card_id[index],
        is_fraud=fraud,
        label_source=LabelSource.CHARGEBACK if fraud else LabelSource.CLEARED,
        labelled_at=utc_from_ms(int(labels.labelled_ms[index])),
    )


@dataclass(frozen=True)
class FalseAlarms:
    windows: int
    windows_alerting: int
    alerts: Counter[str]
    """Alerts by subject (feature, 'score', 'decision_rate:…', 'performance:…')."""
    checks: int
    """Subject-windows judged: features that were not exempt, plus score and decision rates."""
    reports: list[DriftReport]

    @property
    def rate(self) -> float:
        """Share of windows with at least one alert."""
        return self.windows_alerting / self.windows if self.windows else 0.0

    @property
    def per_check(self) -> float:
        return sum(self.alerts.values()) / self.checks if self.checks else 0.0


def false_alarms(reports: list[DriftReport]) -> FalseAlarms:
    alerts: Counter[str] = Counter(a.subject or a.what for r in reports for a in r.alerts)
    checks = sum(sum(1 for f in r.features if not f.exempt) + 2 for r in reports)
    return FalseAlarms(
        windows=len(reports),
        windows_alerting=sum(1 for r in reports if r.alerts),
        alerts=alerts,
        checks=checks,
        reports=reports,
    )


def evaluate_no_drift(
    population: Population,
    model: SimulatedModel,
    windows: WindowSpec,
    thresholds: AlertThresholds | None = None,
) -> FalseAlarms:
    events = scored_events(population, model, live_rows(population))
    return false_alarms(run_monitor(model, events, population.labels, windows, thresholds))


@dataclass(frozen=True)
class TimedAlerts:
    """A run's alerts split at the start of what it injects."""

    before_start: int
    """Alerts of windows that ended by the start: false alarms."""
    after_start: list[tuple[timedelta, DriftAlert]]
    """The others in report order, each with the time from the start to its window's end."""


def timed_alerts(reports: list[DriftReport], start_ms: int) -> TimedAlerts:
    before = 0
    after: list[tuple[timedelta, DriftAlert]] = []
    for report in reports:
        end_ms = epoch_ms(report.window.end)
        if end_ms <= start_ms:
            before += len(report.alerts)
        else:
            since = timedelta(milliseconds=end_ms - start_ms)
            after.extend((since, alert) for alert in report.alerts)
    return TimedAlerts(before, after)


@dataclass(frozen=True)
class Detection:
    events: int
    """Live events from the shift's start to the end of the alerting window."""
    after: timedelta
    """Simulated time from the shift's start to the end of the alerting window."""
    severity: str
    value: float


@dataclass(frozen=True)
class ShiftEvaluation:
    shift: ShiftConfig
    changed: tuple[str, ...]
    """Features whose values differ from the plain run's after the shift."""
    detections: dict[str, Detection]
    """First alert after the shift's start, per subject."""
    before_shift: Counter[str]
    """Alerts of windows that ended before the shift: false alarms."""
    unaffected: Counter[str]
    """Alerts after the shift on features it left bit-identical: false alarms."""
    events_after_shift: int
    reports: list[DriftReport]

    @property
    def missed(self) -> tuple[str, ...]:
        return tuple(name for name in self.changed if name not in self.detections)


def evaluate_shift(
    population: Population,
    snapshot: Snapshot,
    model: SimulatedModel,
    shift: ShiftConfig,
    windows: WindowSpec,
    thresholds: AlertThresholds | None = None,
) -> ShiftEvaluation:
    shifted = shifted_population(population, snapshot, shift)
    cut = snapshot.row
    changed = tuple(
        name
        for column, name in enumerate(FEATURE_NAMES)
        if not np.array_equal(
            population.features[cut:, column], shifted.features[cut:, column], equal_nan=True
        )
    )
    start_ms = shift_start_ms(shifted.config, shift)
    rows = live_rows(shifted)
    reports = run_monitor(
        model, scored_events(shifted, model, rows), shifted.labels, windows, thresholds
    )
    after = np.asarray(shifted.event_ms[rows] >= start_ms)
    seen_after = np.cumsum(after)
    live_ms = shifted.event_ms[rows]
    detections: dict[str, Detection] = {}
    before: Counter[str] = Counter()
    unaffected: Counter[str] = Counter()
    for report in reports:
        end_ms = epoch_ms(report.window.end)
        # Events the monitor had read when it published this report (the window's last one).
        side: Literal["left", "right"] = (
            "left" if report.window.kind is WindowKind.TIME else "right"  # time: end excluded
        )
        read = int(np.searchsorted(live_ms, end_ms, side=side))
        events = int(seen_after[read - 1]) if read else 0
        for alert in report.alerts:
            subject = alert.subject or alert.what
            if end_ms <= start_ms:
                before[subject] += 1
                continue
            if subject in FEATURE_NAMES and subject not in changed:
                unaffected[subject] += 1
            if subject not in detections:
                detections[subject] = Detection(
                    events=events,
                    after=timedelta(milliseconds=end_ms - start_ms),
                    severity=alert.severity.value,
                    value=alert.value,
                )
    return ShiftEvaluation(
        shift=shift,
        changed=changed,
        detections=detections,
        before_shift=before,
        unaffected=unaffected,
        events_after_shift=int(after.sum()),
        reports=reports,
    )
