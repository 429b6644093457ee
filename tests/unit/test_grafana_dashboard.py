"""ops/grafana/dashboards: every panel queries series the code exports, from the provisioned
datasource, and the dashboard covers what an operator watches."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.exported_metrics import exported_series, queried_metrics

OPS = Path(__file__).resolve().parents[2] / "ops" / "grafana"
DASHBOARDS = sorted((OPS / "dashboards").glob("*.json"))


def _panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    flat = []
    for panel in dashboard["panels"]:
        flat.append(panel)
        flat.extend(panel.get("panels", []))  # panels inside collapsed rows
    return [panel for panel in flat if panel["type"] != "row"]


def _expressions(dashboard: dict[str, Any]) -> list[str]:
    return [target["expr"] for panel in _panels(dashboard) for target in panel["targets"]]


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((OPS / "dashboards" / "fraudstream.json").read_text())
    return loaded


def test_there_is_a_dashboard() -> None:
    assert [path.name for path in DASHBOARDS] == ["fraudstream.json"]


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda path: path.name)
def test_every_panel_queries_only_exported_metrics(path: Path) -> None:
    dashboard = json.loads(path.read_text(encoding="utf-8"))
    expressions = _expressions(dashboard)
    used = {name for expression in expressions for name in queried_metrics(expression)}
    assert not used - exported_series()
    # A panel whose query reads no fraud_* series is Prometheus' own (ALERTS) or a mistake.
    for expression in expressions:
        assert queried_metrics(expression) or expression.startswith("ALERTS{"), expression


def test_panels_use_the_provisioned_datasource(dashboard: dict[str, Any]) -> None:
    provisioned = yaml.safe_load(
        (OPS / "provisioning" / "datasources" / "prometheus.yml").read_text(encoding="utf-8")
    )
    uid = provisioned["datasources"][0]["uid"]
    for panel in _panels(dashboard):
        assert panel["datasource"]["uid"] == uid, panel["title"]
        assert all(target["datasource"]["uid"] == uid for target in panel["targets"])


def test_panel_ids_are_unique_and_every_panel_has_a_query(dashboard: dict[str, Any]) -> None:
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in _panels(dashboard):
        assert panel["targets"], panel["title"]


@pytest.mark.parametrize(
    ("subject", "series"),
    [
        ("throughput", "fraud_events_in_total"),
        ("latency percentiles", "fraud_decision_latency_seconds_bucket"),
        ("decisions by outcome and model", "fraud_decisions_total"),
        ("fallbacks", "fraud_fallbacks_total"),
        ("dead letters by category", "fraud_invalid_events_total"),
        ("consumer lag", "fraud_consumer_lag"),
        ("drift statistics", "fraud_monitor_feature_psi"),
        ("drift alerts", "fraud_monitor_alerts_active"),
        ("model versions and roles", "fraud_model_info"),
        ("decisions per model role", "fraud_model_decisions_total"),
        ("lost outcomes", "fraud_audit_lost_total"),
    ],
)
def test_the_dashboard_covers(dashboard: dict[str, Any], subject: str, series: str) -> None:
    used = {name for expression in _expressions(dashboard) for name in queried_metrics(expression)}
    assert series in used, subject


def test_latency_is_shown_as_percentiles(dashboard: dict[str, Any]) -> None:
    quantiles = {
        expression.split("(", 2)[1].split(",")[0]
        for expression in _expressions(dashboard)
        if "fraud_decision_latency_seconds_bucket" in expression
    }
    assert quantiles == {"0.5", "0.95", "0.99"}
