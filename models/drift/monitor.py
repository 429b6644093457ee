"""The drift monitor's logic, framework-free: events and labels in, one DriftReport per window.

The Kafka consumer (stream.monitor), the evaluation harness and the tests all drive this class,
so what they measure is what runs. Per scored event: `due` (a time window may close before the
event counts), `observe`, then `full` (a count window may close with it); `feed` does all three.
Labels go to `observe_label`. Time is event time throughout; only `generated_at` reads a clock.

Features are compared window by window; the score and the decision rates over the last
`prediction_span` windows together (default 7: the trailing week for daily windows; for windows
shorter than a day, the last `prediction_span` days of them: models.drift.span). A model that
reads calendar features (this feature set has hour_of_day and day_of_week) scores a Saturday
unlike a Tuesday: on simulated traffic with no drift at all, daily score PSI against the
validation profile ranged 0.2-0.9 by weekday, and 0.001-0.002 over whole weeks. A shift in the
score therefore shows in a fraction of the span at first, and fully after `prediction_span`
windows. The span restarts with the process, and the score and decision rates raise no alert
until it is full again (their statistics are still reported, with `span_windows`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from models.drift.arrivals import ArrivingLabels
from models.drift.compare import (
    arrived_recall_alerts,
    decision_rates,
    feature_drift,
    performance_alerts,
    recall_evidence_needed,
    score_drift,
    with_pr_auc_drop,
    with_recall_drop,
)
from models.drift.events import ScoredEvent, utc_from_ms
from models.drift.join import DAY_MS, LabelJoin
from models.drift.location import LocationHistory
from models.drift.performance import PerformanceTracker
from models.drift.quality import FieldQualityMonitor, field_references
from models.drift.reference import DriftReference
from models.drift.seasonal import TrailingDay, history_for
from models.drift.span import PredictionSpan
from models.drift.window import (
    Windowing,
    WindowSpec,
    WindowTally,
    reference_output,
)
from models.features.facts import epoch_ms
from schemas.drift import (
    AlertThresholds,
    DriftAlert,
    DriftReport,
    DriftWindow,
    LabelJoinStats,
    WindowKind,
)
from schemas.label import FraudLabel

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class JoinSpec:
    maturity_days: float = 60.0
    """Label-maturity period: an event unlabelled this long after it happened is genuine."""
    max_entries: int = 1_000_000
    max_early_labels: int = 100_000
    performance_window: int = 50_000
    """Matured events per model version that live precision/recall/PR-AUC are computed over."""


PREDICTION_SPAN = 7
REPORTED_DAYS = 28
"""Event days of arrived-label figures per report (the HTML report plots them)."""


class DriftMonitor:
    def __init__(
        self,
        reference: DriftReference,
        windows: WindowSpec,
        thresholds: AlertThresholds | None = None,
        join: JoinSpec | None = None,
        clock: Clock = lambda: datetime.now(UTC),
        prediction_span: int = PREDICTION_SPAN,
        pool_short_windows: bool = True,
    ) -> None:
        """`pool_short_windows`: judge features of windows shorter than a day over the trailing
        day (models.drift.seasonal) and their score over the last `prediction_span` days
        (models.drift.span); off only for tests whose events are seconds apart."""
        if prediction_span < 1:
            raise ValueError("prediction_span must be at least one window")
        self.reference = reference
        self.thresholds = thresholds or AlertThresholds()
        self.join_spec = join or JoinSpec()
        self.quality = FieldQualityMonitor(references=field_references(reference.fields))
        # Numeric features that may alert also get the value-collapse check (models.drift.quality).
        watched = tuple(
            p.name
            for p in reference.features
            if p.kind == "numeric" and p.name not in self.thresholds.exempt_features
        )
        self.windowing = Windowing(windows, reference, self.quality.bounds, watched)
        self.join = LabelJoin(
            maturity_ms=round(self.join_spec.maturity_days * DAY_MS),
            max_entries=self.join_spec.max_entries,
            max_early_labels=self.join_spec.max_early_labels,
        )
        self.performance = PerformanceTracker(self.join_spec.performance_window)
        # Event days are kept past the maturity period: their figures stop changing then.
        self.arrivals = ArrivingLabels(keep_days=int(self.join_spec.maturity_days) + 14)
        self.join.on_label = self.arrivals.add_label
        self._clock = clock
        daily = windows.kind is WindowKind.TIME and windows.length_ms >= DAY_MS
        self._predictions = PredictionSpan(prediction_span, daily or not pool_short_windows)
        # One creep detector per feature; like the prediction span, it restarts with the process.
        self._locations = {name: LocationHistory() for name in reference.feature_names}
        self._trailing = TrailingDay() if pool_short_windows else None

    # -- scored events -----------------------------------------------------------------------

    def due(self, event_ms: int) -> DriftReport | None:
        """The report of a time window that closes because an event at `event_ms` arrived."""
        tally = self.windowing.due(event_ms)
        return self._report(tally) if tally is not None else None

    def observe(self, event: ScoredEvent) -> None:
        self.windowing.add(event, reference_output(event, self.reference.model))
        self.observe_join_only(event)

    def observe_join_only(self, event: ScoredEvent) -> None:
        """Take an event into the label join only (rebuilding state after a restart)."""
        self.arrivals.add_event(event)
        self.join.add_entry(event.transaction_id, event.event_ms, event.outputs)
        for matured in self.join.mature():
            self.performance.add(matured)

    def full(self) -> DriftReport | None:
        tally = self.windowing.full()
        return self._report(tally) if tally is not None else None

    def close_window(self) -> DriftReport | None:
        """Close the open window early (an idle stream); None when it is empty."""
        tally = self.windowing.close()
        return self._report(tally) if tally is not None else None

    def feed(self, event: ScoredEvent) -> list[DriftReport]:
        """`due`, `observe`, `full` in one call (for callers without offsets to track)."""
        reports = [r for r in (self.due(event.event_ms),) if r is not None]
        self.observe(event)
        closed = self.full()
        return [*reports, closed] if closed is not None else reports

    # -- labels ------------------------------------------------------------------------------

    def observe_label(self, label: FraudLabel) -> None:
        self.join.add_label(
            label.transaction_id, label.is_fraud, epoch_ms(label.labelled_at), label.card_id
        )

    # -- reports -----------------------------------------------------------------------------

    def _report(self, tally: WindowTally) -> DriftReport:
        reference = self.reference
        thresholds = self.thresholds
        features = []
        alerts: list[DriftAlert] = []
        counted, over, judged = tally.features, None, None
        short = tally.end_ms - tally.start_ms < DAY_MS
        pooled = (
            self._trailing.add(tally.start_ms, tally.end_ms, tally.n, tally.features, tally.fields)
            if short and self._trailing is not None
            else None
        )
        if pooled is not None:
            counted = pooled.features
            over = DriftWindow(
                kind=tally.kind,
                start=utc_from_ms(pooled.start_ms),
                end=utc_from_ms(tally.end_ms),
                n=pooled.events,
            )
            judged = pooled.full_day and pooled.events >= thresholds.min_events
        for profile, feature_tally in zip(reference.features, counted, strict=True):
            history = self._locations[profile.name]
            if pooled is not None:
                history = history_for(history, pooled.fresh)
            drift, raised = feature_drift(profile, feature_tally, thresholds, history)
            features.append(drift)
            if pooled is None or pooled.full_day:
                alerts.extend(raised)
        field_tally = tally.fields if pooled is None else pooled.fields
        fields, raised = (
            self.quality.judge(field_tally, thresholds, learn=pooled is None or pooled.fresh)
            if field_tally is not None
            else ([], [])
        )
        if pooled is None or pooled.full_day:
            alerts.extend(raised)
        span = self._predictions.add(tally.start_ms, tally.end_ms, tally.prediction)
        score, raised = score_drift(
            reference.score, span.tally, span.windows, thresholds, alerting=span.full
        )
        alerts.extend(raised)
        rates, raised = decision_rates(
            reference.score, span.tally, span.windows, thresholds, alerting=span.full
        )
        alerts.extend(raised)
        performance = [
            with_pr_auc_drop(entry, thresholds)
            for entry in self.performance.snapshot(
                reference.model, reference.reference_pr_auc, reference.reference_positives
            )
        ]
        alerts.extend(performance_alerts(performance, thresholds))
        arrived = self.arrivals.pooled(
            reference.model,
            tally.end_ms,
            thresholds.min_fraud_labels_arrived,
            thresholds.arrived_max_days,
            recall_evidence_needed(
                reference.reference_recall, reference.reference_positives, thresholds
            ),
        )
        if arrived is not None:
            arrived = with_recall_drop(
                arrived, reference.reference_recall, reference.reference_positives, thresholds
            )
        alerts.extend(arrived_recall_alerts(arrived, thresholds))
        return DriftReport(
            report_id=report_id(reference, tally),
            generated_at=self._clock(),
            window=DriftWindow(
                kind=tally.kind,
                start=utc_from_ms(tally.start_ms),
                end=utc_from_ms(tally.end_ms),
                n=tally.n,
            ),
            model=reference.model,
            feature_set_version=reference.feature_set_version,
            features=features,
            score=score,
            decision_rates=rates,
            performance=performance,
            alerts=alerts,
            thresholds=thresholds,
            label_join=self.label_join_stats(),
            recall_arrived=arrived,
            fields=fields,
            features_over=over,
            features_judged=judged,
            performance_by_day=self.arrivals.days(reference.model, REPORTED_DAYS),
        )

    def label_join_stats(self) -> LabelJoinStats:
        c = self.join.counters
        return LabelJoinStats(
            entries=c.entries,
            duplicate_entries=c.duplicate_entries,
            labels=c.labels,
            labels_joined=c.labels_joined,
            labels_duplicate=c.labels_duplicate,
            labels_unmatched=c.labels_unmatched,
            matured_labelled=c.matured_labelled,
            matured_unlabelled=c.matured_unlabelled,
            evicted=c.evicted,
            pending=self.join.pending,
            maturity_days=self.join_spec.maturity_days,
            unsampled=c.unsampled,
            sample_rate=self.join.sample_rate,
        )


def report_id(reference: DriftReference, tally: WindowTally) -> str:
    """Equal for an identical window recomputed after a restart, so readers can drop repeats."""
    text = (
        f"{reference.model.content_hash}|{tally.kind.value}|{tally.start_ms}|{tally.end_ms}"
        f"|{tally.n}"
    )
    return "drift-" + hashlib.sha256(text.encode()).hexdigest()[:32]
