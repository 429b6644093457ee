"""Prometheus metrics of the drift monitor, on an injected registry (tests get a fresh one)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

from models.drift.join import JoinCounters
from schemas.drift import DriftReport

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
        self.feature_psi = Gauge(
            "fraud_monitor_feature_psi",
            "PSI of a feature in the last window",
            ["feature"],
            registry=r,
        )
        self.feature_tv = Gauge(
            "fraud_monitor_feature_total_variation",
            "Total variation distance of a feature in the last window",
            ["feature"],
            registry=r,
        )
        self.missing_rate = Gauge(
            "fraud_monitor_feature_missing_rate",
            "Live missing rate of a feature in the last window",
            ["feature"],
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
        self.reference_pr_auc = Gauge(
            "fraud_monitor_reference_pr_auc",
            "PR-AUC of the package on its test split",
            _MODEL_LABELS,
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
            "evicted) or refused as duplicates",
            ["result"],
            registry=r,
        )
        self.pending = Gauge(
            "fraud_monitor_join_pending", "Scored events waiting for their label", registry=r
        )
        self._counted = JoinCounters()

    def count_join(self, counters: JoinCounters, pending: int) -> None:
        """Advance the join counters to the join's own cumulative counts."""
        for result, name in _LABEL_RESULTS.items():
            self.labels.labels(result).inc(getattr(counters, name) - getattr(self._counted, name))
        for result, name in _ENTRY_RESULTS.items():
            self.entries.labels(result).inc(getattr(counters, name) - getattr(self._counted, name))
        self._counted = JoinCounters(**vars(counters))
        self.pending.set(pending)

    def report(self, report: DriftReport, published_at: float) -> None:
        self.reports.inc()
        self.last_report.set(published_at)
        for feature in report.features:
            if feature.psi is not None:
                self.feature_psi.labels(feature.feature).set(feature.psi)
            if feature.total_variation is not None:
                self.feature_tv.labels(feature.feature).set(feature.total_variation)
            if feature.missing_rate_live is not None:
                self.missing_rate.labels(feature.feature).set(feature.missing_rate_live)
        if report.score.psi is not None:
            self.score_psi.set(report.score.psi)
        rates = report.decision_rates
        for outcome in ("approve", "review", "decline"):
            self.decision_rate.labels(outcome.upper(), "live").set(getattr(rates.live, outcome))
            self.decision_rate.labels(outcome.upper(), "reference").set(
                getattr(rates.reference, outcome)
            )
        active = {"warning": 0, "critical": 0}
        for alert in report.alerts:
            self.alerts.labels(alert.subject or alert.what, alert.severity.value).inc()
            active[alert.severity.value] = active.get(alert.severity.value, 0) + 1
        for severity, count in active.items():
            self.alerts_active.labels(severity).set(count)
        for entry in report.performance:
            model = entry.model
            labels = (model.name, model.version, model.content_hash, entry.role.value)
            for gauge, value in (
                (self.precision, entry.precision),
                (self.recall, entry.recall),
                (self.pr_auc, entry.pr_auc),
                (self.reference_pr_auc, entry.reference_pr_auc),
            ):
                if value is not None:
                    gauge.labels(*labels).set(value)
