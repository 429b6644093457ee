"""ops/prometheus/alerts.yml: well formed, and every fraud_* metric it reads exists."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.support.exported_metrics import exported_series, queried_metrics
from tests.support.ops_tools import require_tool

RULES = Path(__file__).resolve().parents[2] / "ops" / "prometheus" / "alerts.yml"


def _rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    return [rule for group in document["groups"] for rule in group["rules"]]


def test_every_rule_has_a_name_an_expression_a_severity_and_a_summary() -> None:
    rules = _rules()
    assert len(rules) >= 15
    names = [rule["alert"] for rule in rules]
    assert len(set(names)) == len(names)
    for rule in rules:
        assert rule["expr"].strip(), rule["alert"]
        assert rule["labels"]["severity"] in {"warning", "critical"}, rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]


def test_rules_read_only_metrics_the_code_exports() -> None:
    # Exact series names: a counter read without _total, or a gauge with it, is a miss too.
    used = {name for rule in _rules() for name in queried_metrics(rule["expr"])}
    assert not used - exported_series()
    # The brief's worker metrics and the monitor's main ones are all covered.
    for needed in (
        "fraud_fallbacks_total",
        "fraud_invalid_events_total",
        "fraud_consumer_lag",
        "fraud_stuck_commit_partitions",
        "fraud_unprocessed_partitions",
        "fraud_decision_latency_seconds_bucket",
        "fraud_monitor_feature_psi",
        "fraud_monitor_live_pr_auc_drop",
        "fraud_monitor_last_report_timestamp_seconds",
        "fraud_monitor_join_entries_total",
    ):
        assert needed in used


RULE_TESTS = RULES.with_name("alerts.test.yml")


def test_every_drift_and_monitor_rule_has_a_promtool_test() -> None:
    document = yaml.safe_load(RULE_TESTS.read_text(encoding="utf-8"))
    tested = {check["alertname"] for case in document["tests"] for check in case["alert_rule_test"]}
    monitor_rules = {
        rule["alert"]
        for group in yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]
        if group["name"].startswith(("fraudstream-drift", "fraudstream-monitor"))
        for rule in group["rules"]
    }
    assert monitor_rules <= tested, monitor_rules - tested
    # Availability: a worker holding partitions it does not process.
    assert "PartitionsNotProcessed" in tested


def test_promtool_checks_and_tests_the_rules() -> None:
    promtool = require_tool("promtool")
    for command in (["check", "rules", str(RULES)], ["test", "rules", str(RULE_TESTS)]):
        done = subprocess.run(
            [promtool, *command], capture_output=True, text=True, timeout=60, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr


def test_promtool_accepts_the_compose_stacks_prometheus_config(tmp_path: Path) -> None:
    # The token file exists only inside the Prometheus container: point the copy at a stand-in.
    promtool = require_tool("promtool")
    config = yaml.safe_load((RULES.parent / "prometheus.yml").read_text(encoding="utf-8"))
    token = tmp_path / "web_token"
    token.write_text("x")
    for job in config["scrape_configs"]:
        if "authorization" in job:
            job["authorization"]["credentials_file"] = str(token)
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    (tmp_path / "alerts.yml").write_text(RULES.read_text(encoding="utf-8"), encoding="utf-8")
    done = subprocess.run(
        [promtool, "check", "config", str(tmp_path / "prometheus.yml")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
