"""The source scan behind the dashboard and alert-rule checks reads the code's metrics right."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from stream.audit import AuditMetrics
from stream.decision_path.metrics import StreamMetrics
from stream.monitor import MonitorMetrics
from tests.support.exported_metrics import exported_series, queried_metrics, registered_families


def test_the_scan_finds_exactly_what_the_processes_register() -> None:
    # One registry per process kind: worker, drift monitor, outcome audit.
    built: dict[str, str] = {}
    for metrics in (StreamMetrics, MonitorMetrics, AuditMetrics):
        registry = CollectorRegistry()
        metrics(registry)
        built.update({family.name: family.type for family in registry.collect()})
    assert registered_families() == built


def test_every_metric_is_named_fraud_so_queries_can_be_checked_by_prefix() -> None:
    assert all(name.startswith("fraud_") for name in registered_families())


def test_series_carry_the_suffixes_prometheus_client_exposes() -> None:
    series = exported_series()
    assert {"fraud_events_in_total", "fraud_events_in_created"} <= series
    assert "fraud_events_in" not in series  # a counter is never scraped without _total
    assert {"fraud_decision_latency_seconds_bucket", "fraud_scoring_seconds_sum"} <= series
    assert "fraud_consumer_lag" in series
    assert "fraud_consumer_lag_total" not in series


def test_queried_metrics_reads_names_not_labels_or_functions() -> None:
    expression = 'sum by (reason) (rate(fraud_fallbacks_total{reason="budget"}[5m])) / up'
    assert queried_metrics(expression) == {"fraud_fallbacks_total"}
