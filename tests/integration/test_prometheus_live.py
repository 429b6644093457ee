"""Prometheus for real (no Docker needed): Debian's `prometheus` scrapes a live worker and the
drift monitor on the real broker with the shipped alert rules loaded, and the dead-letter-rate
alert fires when malformed events arrive.

The one liberty: the test's copy of the rules gives DeadLetterRateHigh `for: 2s` instead of
10m, so pending turns to firing inside the test; its expression is the shipped one.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from stream.broker.ports import free_port
from stream.broker.process import stop_child
from tests.support.clients import produce
from tests.support.ops_tools import require_tool
from tests.support.prometheus import ALERT_RULES, prometheus, rules_with_short_for
from tests.support.stream_setup import simulated_events, stream_setup
from tests.support.stream_worker import StreamWorker

pytestmark = pytest.mark.integration

MALFORMED = [(b"C-bad-1", b"not json at all"), (b"C-bad-2", b'{"schema_version": 1}')]


def _monitor(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "stream.cli", "monitor", "run"],
            env={**os.environ, **env, "FRAUD_MONITOR__METRICS_PORT": str(port)},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _shipped_alert_names() -> set[str]:
    document = yaml.safe_load(ALERT_RULES.read_text(encoding="utf-8"))
    return {rule["alert"] for group in document["groups"] for rule in group["rules"]}


def _up(server: Any) -> dict[str, str]:
    return {r["metric"]["job"]: r["value"][1] for r in server.api("query", query="up")["result"]}


def _alert(server: Any, name: str, state: str) -> dict[str, Any] | None:
    alerts = server.api("alerts")["alerts"]
    return next(
        (a for a in alerts if a["labels"]["alertname"] == name and a["state"] == state), None
    )


def test_prometheus_scrapes_worker_and_monitor_and_the_dead_letter_alert_fires(
    kafka_bootstrap: str, test_package: Path, tmp_path: Path
) -> None:
    binary = require_tool("prometheus")
    setup = stream_setup(kafka_bootstrap, tmp_path / "var", test_package, "prometheus")
    worker = StreamWorker(setup.env, tmp_path / "worker", tmp_path / "worker.log")
    events = simulated_events(limit=3000)
    monitor_port = free_port()
    with worker.started(timeout=120):
        monitor = _monitor(setup.env, monitor_port, tmp_path / "monitor.log")
        try:
            jobs = [
                ("fraudstream-worker", worker.web_port),
                ("fraudstream-monitor", monitor_port),
            ]
            scrape = [
                {"job_name": job, "static_configs": [{"targets": [f"127.0.0.1:{port}"]}]}
                for job, port in jobs
            ]
            rules = rules_with_short_for(
                ALERT_RULES.read_text(encoding="utf-8"), {"DeadLetterRateHigh": "2s"}
            )
            with prometheus(binary, tmp_path / "prometheus", scrape, rules) as server:
                ups = server.wait_until(
                    lambda: (
                        (u := _up(server)).get("fraudstream-worker") == "1"
                        and u.get("fraudstream-monitor") == "1"
                        and u
                    ),
                    30,
                    "both targets up",
                )
                assert ups == {"fraudstream-worker": "1", "fraudstream-monitor": "1"}
                assert _alert(server, "DeadLetterRateHigh", "firing") is None

                # About 4% of the traffic malformed, against a 0.5% threshold. Sent a little
                # every second: a rate needs the counter to move between two scrapes.
                firing = None
                deadline = time.monotonic() + 60
                for second in range(60):
                    batch = events[second * 40 : (second + 1) * 40]
                    produce(kafka_bootstrap, setup.topic("transactions"), [*batch, *MALFORMED])
                    firing = _alert(server, "DeadLetterRateHigh", "firing")
                    if firing is not None or time.monotonic() > deadline:
                        break
                    time.sleep(1)
                assert firing is not None, server.tail()
                assert firing["labels"]["severity"] == "warning"
                assert "dead-lettered" in firing["annotations"]["summary"]
                # Prometheus loaded every shipped rule, and none fails to evaluate.
                groups = server.api("rules")["groups"]
                loaded = [rule for group in groups for rule in group["rules"]]
                assert {rule["name"] for rule in loaded} == _shipped_alert_names()
                assert all(rule["health"] != "err" for rule in loaded), loaded
                assert _up(server) == ups  # nobody fell over meanwhile
        finally:
            stop_child(monitor, 20)
        assert monitor.returncode == 0, (tmp_path / "monitor.log").read_text()[-2000:]
