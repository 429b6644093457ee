"""Prometheus metrics of the drift monitor, on an injected registry (tests get a fresh one).

A gauge an alert rule reads is set only when the monitor itself would judge the statistic (the
same gates: enough values, not an exempt feature, a full prediction span, enough fraud labels),
so a rule on it cannot fire where the monitor stays quiet: the gates live in one place, the code.
"""

from __future__ import annotations

import contextlib
import math

from prometheus_client import CollectorRegistry, Counter, Gauge

from models.drift.join import JoinCounters
from schemas.drift import AlertThresholds, DriftReport, DriftStatistic, FeatureDrift

_MODEL_LABELS = ["model_name", "model_version", "content_hash", "role"]
_LABEL_RESULTS = {
    "joined": "labels_joined",
    "duplicate": "labels_duplicate",
    "unmatched": "labels_unmatched",
}
_ENTRY_RESULTS = {
    "matured_labelled": "matured_labelled",
    "matured_unlabelled": "matured_unlabelled",
    "evicted": "evicted",
    "unsampled": "unsampled",
    "duplicate": "duplicate_entries",
}


class MonitorMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.records = Counter(
            "fraud_monitor_records",
            "Records read, by topic and result (read, undecodable, replayed into the join)",
            ["topic", "result"],
            registry=r,
        )
        self.reports = Counter("fraud_monitor_reports", "Drift reports published", registry=r)
        self.last_report = Gauge(
            "fraud_monitor_last_report_timestamp_seconds",
            "Wall-clock time the last drift report was published",
            registry=r,
        )
        self.open_window = Gauge(
            "fraud_monitor_open_window_events", "Events in the window not yet reported", registry=r
        )
        self.window_events = Gauge(
            "fraud_monitor_window_events", "Events in the last reported window", registry=r
        )
        self.window_judged = Gauge(
            "fraud_monitor_window_judged",
            "1 when the last window had enough events to be judged (min_events), else 0",
            registry=r,
        )
        self.feature_psi = Gauge(
            "fraud_monitor_feature_psi",
            "PSI of a feature in the last window (judged, non-exempt features only)",
            ["feature"],
            registry=r,
        )
        self.feature_tv = Gauge(
            "fraud_monitor_feature_total_variation",
            "Total variation distance of a feature in the last window (judged, non-exempt)",
            ["feature"],
            registry=r,
        )
        self.missing_rate = Gauge(
            "fraud_monitor_feature_missing_rate",
            "Live missing rate of a feature in the last window",
            ["feature"],
            registry=r,
        )
        self.missing_rate_shift = Gauge(
            "fraud_monitor_feature_missing_rate_shift",
            "Absolute change of a feature's missing rate against the reference (judged windows)",
            ["feature"],
            registry=r,
        )
        self.unseen_share = Gauge(
            "fraud_monitor_feature_unseen_share",
            "Share of a categorical feature's live values in no training category (judged)",
            ["feature"],
            registry=r,
        )
        self.location_z = Gauge(
            "fraud_monitor_feature_location_z",
            "|location z| of a numeric feature in the last window, only when the monitor raised "
            "a location alert on it (material shift; a warning two windows in a row)",
            ["feature"],
            registry=r,
        )
        self.cusum = Gauge(
            "fraud_monitor_feature_cusum",
            "Two-sided CUSUM of a numeric feature's location shifts beyond its floor (judged)",
            ["feature"],
            registry=r,
        )
        self.decision_rate_ratio = Gauge(
            "fraud_monitor_decision_rate_ratio",
            "Live/reference rate of an outcome over the prediction span (judged spans only)",
            ["outcome"],
            registry=r,
        )
        self.score_psi = Gauge(
            "fraud_monitor_score_psi", "PSI of the reference model's score", registry=r
        )
        self.decision_rate = Gauge(
            "fraud_monitor_decision_rate",
            "Share of the reference model's outcomes, live and in the reference",
            ["outcome", "source"],
            registry=r,
        )
        self.alerts = Counter(
            "fraud_monitor_alerts",
            "Alerts raised, by subject (feature, score, ...) and severity",
            ["subject", "severity"],
            registry=r,
        )
        self.alerts_active = Gauge(
            "fraud_monitor_alerts_active",
            "Alerts in the last report, by severity",
            ["severity"],
            registry=r,
        )
        self.precision = Gauge(
            "fraud_monitor_live_precision",
            "Live precision (matured events)",
            _MODEL_LABELS,
            registry=r,
        )
        self.recall = Gauge(
            "fraud_monitor_live_recall", "Live recall (matured events)", _MODEL_LABELS, registry=r
        )
        self.pr_auc = Gauge(
            "fraud_monitor_live_pr_auc", "Live PR-AUC (matured events)", _MODEL_LABELS, registry=r
        )
        self.positives = Gauge(
            "fraud_monitor_live_positives",
            "Fraud labels among the matured events behind the live performance figures",
            _MODEL_LABELS,
            registry=r,
        )
        self.reference_pr_auc = Gauge(
            "fraud_monitor_reference_pr_auc",
            "PR-AUC of the package on its test split",
            _MODEL_LABELS,
            registry=r,
        )
        self.pr_auc_drop = Gauge(
            "fraud_monitor_live_pr_auc_drop",
            "Relative drop of live PR-AUC's 95 % upper bound below the 95 % lower bound of the "
            "package's test PR-AUC; exported only for the reference model with min_positives "
            "fraud labels matured",
            _MODEL_LABELS,
            registry=r,
        )
        self.field_null_rate_shift = Gauge(
            "fraud_monitor_field_null_rate_shift",
            "Rise of a raw input field's null rate over its baseline (the package's profile, else "
            "the monitor's first windows; 0 within noise); exported only for judged windows",
            ["field"],
            registry=r,
        )
        self.field_top_share_shift = Gauge(
            "fraud_monitor_field_top_share_shift",
            "Rise of a raw input field's commonest-value share over the baseline (a constant or "
            "collapsed field); exported like the null-rate shift",
            ["field"],
            registry=r,
        )
        self.field_unseen_share = Gauge(
            "fraud_monitor_field_unseen_share",
            "Share of a raw categorical field's values the package's training never saw (0 "
            "within noise); exported like the null-rate shift, for packages with field profiles",
            ["field"],
            registry=r,
        )
        self.field_out_of_range_shift = Gauge(
            "fraud_monitor_field_out_of_range_shift",
            "Rise of a raw numeric field's share outside the training's 0.1-99.9 % range (0 "
            "within noise); exported like the null-rate shift",
            ["field"],
            registry=r,
        )
        arrived = ["model_name", "model_version", "content_hash"]
        self.arrived_recall = Gauge(
            "fraud_monitor_arrived_recall",
            "Recall from the fraud labels arrived so far, newest event days with enough labels",
            arrived,
            registry=r,
        )
        self.arrived_fraud_labels = Gauge(
            "fraud_monitor_arrived_fraud_labels",
            "Fraud labels behind fraud_monitor_arrived_recall",
            arrived,
            registry=r,
        )
        self.arrived_recall_drop = Gauge(
            "fraud_monitor_arrived_recall_drop",
            "Relative drop of arrived-label recall's one-sided 95 % upper bound below the lower "
            "bound of the package's test recall; exported only with enough fraud labels "
            "(min_fraud_labels_arrived)",
            arrived,
            registry=r,
        )
        self.estimated_recall = Gauge(
            "fraud_monitor_estimated_recall",
            "Label-free recall estimate (CBPE: calibrated scores assumed), same event days",
            arrived,
            registry=r,
        )
        self.labels = Counter(
            "fraud_monitor_labels",
            "Labels by join result (joined, duplicate, unmatched)",
            ["result"],
            registry=r,
        )
        self.entries = Counter(
            "fraud_monitor_join_entries",
            "Scored events leaving the label join (matured_labelled, matured_unlabelled, "
            "evicted, unsampled: unflagged events outside the weighted sample) or refused as "
            "duplicates",
            ["result"],
            registry=r,
        )
        self.pending = Gauge(
            "fraud_monitor_join_pending", "Scored events waiting for their label", registry=r
        )
        self.sample_rate = Gauge(
            "fraud_monitor_join_sample_rate",
            "Share of unflagged scored events the label join keeps (1: all; halves when full)",
            registry=r,
        )
        self._counted = JoinCounters()

    def count_join(self, counters: JoinCounters, pending: int, sample_rate: float = 1.0) -> None:
        """Advance the join counters to the join's own cumulative counts."""
        for result, name in _LABEL_RESULTS.items():
            self.labels.labels(result).inc(getattr(counters, name) - getattr(self._counted, name))
        for result, name in _ENTRY_RESULTS.items():
            self.entries.labels(result).inc(getattr(counters, name) - getattr(self._counted, name))
        self._counted = JoinCounters(**vars(counters))
        self.pending.set(pending)
        self.sample_rate.set(sample_rate)

    def report(self, report: DriftReport, published_at: float) -> None:
        self.reports.inc()
        self.last_report.set(published_at)
        thresholds = report.thresholds or AlertThresholds()
        judged = report.judged(thresholds.min_events)
        self.window_events.set(report.window.n)
        self.window_judged.set(1 if judged else 0)
        located = {a.subject for a in report.alerts if a.statistic is DriftStatistic.LOCATION_Z}
        for feature in report.features:
            self._feature(feature, judged, feature.feature in located)
        # Like the monitor's own alert, only over a full span: a part of a week compares
        # weekdays and hours unevenly (models.drift.span), and ScoreDrift reads this gauge.
        if report.score.psi is not None and report.score.span_full:
            self.score_psi.set(report.score.psi)
        else:
            # Unlabelled, so it cannot be removed; NaN compares false in every rule.
            self.score_psi.set(math.nan)
        self._decision_rates(report, thresholds)
        active = {"warning": 0, "critical": 0}
        for alert in report.alerts:
            self.alerts.labels(alert.subject or alert.what, alert.severity.value).inc()
            active[alert.severity.value] = active.get(alert.severity.value, 0) + 1
        for severity, count in active.items():
            self.alerts_active.labels(severity).set(count)
        self._arrived(report, thresholds)
        for quality in report.fields:
            for gauge, value in (
                (self.field_null_rate_shift, quality.null_rate_shift),
                (self.field_top_share_shift, quality.top_share_shift),
                (self.field_unseen_share, quality.unseen_shift),
                (self.field_out_of_range_shift, quality.out_of_range_shift),
            ):
                if value is None:
                    _drop(gauge, quality.field)
                else:
                    gauge.labels(quality.field).set(value)
        for entry in report.performance:
            model = entry.model
            labels = (model.name, model.version, model.content_hash, entry.role.value)
            self.positives.labels(*labels).set(entry.positives)
            for gauge, value in (
                (self.precision, entry.precision),
                (self.recall, entry.recall),
                (self.pr_auc, entry.pr_auc),
                (self.reference_pr_auc, entry.reference_pr_auc),
            ):
                if value is not None:
                    gauge.labels(*labels).set(value)
            if entry.pr_auc_drop is None:
                _drop(self.pr_auc_drop, *labels)
            else:
                self.pr_auc_drop.labels(*labels).set(entry.pr_auc_drop)

    def _arrived(self, report: DriftReport, thresholds: AlertThresholds) -> None:
        arrived = report.recall_arrived
        if arrived is None:
            return
        model = arrived.model
        labels = (model.name, model.version, model.content_hash)
        self.arrived_fraud_labels.labels(*labels).set(arrived.fraud_labels)
        for gauge, value in (
            (self.arrived_recall, arrived.recall),
            (self.estimated_recall, arrived.estimated_recall),
        ):
            if value is not None:
                gauge.labels(*labels).set(value)
        if arrived.recall_drop is None:
            _drop(self.arrived_recall_drop, *labels)
        else:
            self.arrived_recall_drop.labels(*labels).set(arrived.recall_drop)

    def _feature(self, feature: FeatureDrift, judged: bool, located: bool) -> None:
        name = feature.feature
        if feature.missing_rate_live is not None:
            self.missing_rate.labels(name).set(feature.missing_rate_live)
        if feature.exempt or not judged:
            # An exempt feature (hour_of_day, day_of_week) differs from a week-long profile in
            # any shorter window by construction: exported, it made FeatureDriftMajor fire daily.
            for gauge in (
                self.feature_psi,
                self.feature_tv,
                self.missing_rate_shift,
                self.location_z,
                self.cusum,
            ):
                _drop(gauge, name)
            _drop(self.unseen_share, name)
            return
        for gauge, value in (
            (self.feature_psi, feature.psi),
            (self.feature_tv, feature.total_variation),
            (self.unseen_share, feature.unseen_share),
        ):
            if value is None:
                _drop(gauge, name)
            else:
                gauge.labels(name).set(value)
        live, reference = feature.missing_rate_live, feature.missing_rate_reference
        if live is not None and reference is not None:
            self.missing_rate_shift.labels(name).set(abs(live - reference))
        self._location(feature, located)

    def _location(self, feature: FeatureDrift, located: bool) -> None:
        """|z| only where the monitor raised a location alert: its gates (a material shift,
        two windows in a row for a warning) need history the gauge cannot see."""
        name, z = feature.feature, feature.location_z
        if located and z is not None:
            self.location_z.labels(name).set(abs(z))
        else:
            _drop(self.location_z, name)
        if feature.cusum is None:
            _drop(self.cusum, name)
        else:
            self.cusum.labels(name).set(feature.cusum)

    def _decision_rates(self, report: DriftReport, thresholds: AlertThresholds) -> None:
        rates = report.decision_rates
        for outcome in ("approve", "review", "decline"):
            live, reference = getattr(rates.live, outcome), getattr(rates.reference, outcome)
            self.decision_rate.labels(outcome.upper(), "live").set(live)
            self.decision_rate.labels(outcome.upper(), "reference").set(reference)
            if outcome == "approve":
                continue
            expected = (rates.decisions_live or 0) * reference
            if reference > 0 and rates.span_full and expected >= thresholds.min_expected_decisions:
                self.decision_rate_ratio.labels(outcome.upper()).set(live / reference)
            else:
                _drop(self.decision_rate_ratio, outcome.upper())


def _drop(gauge: Gauge, *labels: str) -> None:
    """Remove a labelled series, so a rule never reads a stale value as the current one."""
    with contextlib.suppress(KeyError):  # never set: nothing to remove
        gauge.remove(*labels)
