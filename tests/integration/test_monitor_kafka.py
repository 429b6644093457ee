"""The drift monitor against the real broker: scoring log and labels in, DriftReports out,
offsets committed only behind published reports, join state refilled after a restart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
from confluent_kafka import Consumer, TopicPartition
from prometheus_client import CollectorRegistry

from models.drift import JoinSpec, WindowSpec
from models.package import verify_package
from schemas.base import ModelRef
from schemas.codec import decode_record
from schemas.drift import AlertThresholds, DriftReport, WindowKind
from schemas.scoring_log import ScoringLogRecord
from stream.broker.ports import free_port
from stream.monitor import MonitorConfig, MonitorMetrics, MonitorRunner, reports_io
from tests.support.clients import produce, wait_for_records
from tests.support.model_builds import TEST_KEY, build_small, small_world
from tests.support.scoring_logs import MODEL, SimulatedLog, simulated_log
from tests.support.topics import create_topics, unique_topic

pytestmark = pytest.mark.integration

WINDOW = 1000
PARTITIONS = 2


@pytest.fixture(scope="module")
def data() -> SimulatedLog:
    log = simulated_log()
    assert len(log.logs) >= 3 * WINDOW
    ScoringLogRecord.model_validate_json(log.logs[0])  # what the worker writes
    return log


def _config(bootstrap: str, topics: dict[str, str], group: str) -> MonitorConfig:
    return MonitorConfig(
        bootstrap=bootstrap,
        scoring_log_topic=topics["log"],
        labels_topic=topics["labels"],
        reports_topic=topics["reports"],
        group_id=group,
        windows=WindowSpec(WindowKind.COUNT, events=WINDOW),
        thresholds=AlertThresholds(min_events=200),
        join=JoinSpec(maturity_days=2.0),
        prediction_span=1,
        idle_close_s=0,
        publish_timeout_s=20,
    )


def _run(config: MonitorConfig, data: SimulatedLog, reports: int, seconds: float) -> MonitorRunner:
    runner = MonitorRunner(config, data.reference, MonitorMetrics(CollectorRegistry()))
    runner.run(threading.Event(), max_reports=reports, max_seconds=seconds)
    return runner


def _committed(bootstrap: str, group: str, topic: str) -> int:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    try:
        offsets = consumer.committed(
            [TopicPartition(topic, p) for p in range(PARTITIONS)], timeout=10
        )
        return sum(max(tp.offset, 0) for tp in offsets)
    finally:
        consumer.close()


def test_monitor_publishes_reports_commits_behind_them_and_resumes(
    kafka_bootstrap: str, topic_label: str, data: SimulatedLog
) -> None:
    topics = {name: unique_topic(f"{topic_label}-{name}") for name in ("log", "labels", "reports")}
    create_topics(kafka_bootstrap, topics.values(), partitions=PARTITIONS)
    group = f"monitor-{uuid.uuid4().hex[:8]}"
    first = 2 * WINDOW + 150  # two full windows, and 150 events of an open third one
    produce(kafka_bootstrap, topics["log"], [(b"C-bad", b"{not a scoring log")])
    produce(kafka_bootstrap, topics["log"], list(zip(data.keys, data.logs, strict=True))[:first])
    produce(kafka_bootstrap, topics["labels"], [*data.labels, data.labels[0]])  # one duplicate

    runner = _run(_config(kafka_bootstrap, topics, group), data, reports=2, seconds=45)
    assert runner.published == 2
    value = runner.metrics.registry.get_sample_value
    assert value("fraud_monitor_records_total", {"topic": topics["log"], "result": "undecodable"})
    records = wait_for_records(kafka_bootstrap, topics["reports"], 2, timeout=20)
    reports = sorted(
        (decode_record(DriftReport, r.value) for r in records), key=lambda r: r.window.start
    )
    assert all(r.window.n == WINDOW and r.model == MODEL for r in reports)
    assert {r.key for r in records} == {MODEL.name.encode()}
    report = reports[-1]
    assert [f.feature for f in report.features] == list(data.reference.feature_names)
    assert all(f.exempt or f.psi is not None for f in report.features if f.kind.value == "numeric")
    assert report.score.psi is not None and report.decision_rates.decisions_live == WINDOW
    assert report.label_join is not None and report.label_join.labels == len(data.labels) + 1
    assert report.label_join.labels_joined > 0
    [performance] = report.performance
    assert performance.model == MODEL and performance.events
    # Committed: everything in the two reported windows (and the bad record), not the open one.
    assert _committed(kafka_bootstrap, group, topics["log"]) == 2 * WINDOW + 1

    # A restart refills the join from the log (record timestamps are recent), redoes no window,
    # and counts the 150 open events again in its first window.
    produce(
        kafka_bootstrap,
        topics["log"],
        list(zip(data.keys, data.logs, strict=True))[first : first + WINDOW],
    )
    again = _run(_config(kafka_bootstrap, topics, group), data, reports=1, seconds=45)
    assert again.published == 1
    value = again.metrics.registry.get_sample_value
    assert value("fraud_monitor_records_total", {"topic": topics["log"], "result": "replayed"}) == (
        2 * WINDOW
    )
    records = wait_for_records(kafka_bootstrap, topics["reports"], 3, timeout=20)
    assert len(records) == 3
    third = max((decode_record(DriftReport, r.value) for r in records), key=lambda r: r.window.end)
    assert third.window.n == WINDOW
    assert third.label_join is not None and third.label_join.entries == 3 * WINDOW
    assert _committed(kafka_bootstrap, group, topics["log"]) == 3 * WINDOW + 1
    # What `fraudstream monitor report --from-topic` reads.
    from_topic, skipped = reports_io.read_topic(kafka_bootstrap, topics["reports"], timeout_s=20)
    assert (len(reports_io.ordered(from_topic)), skipped) == (3, 0)


def test_monitor_command_runs_on_a_signed_package_and_serves_metrics(
    kafka_bootstrap: str, topic_label: str, tmp_path: Path
) -> None:
    package = build_small(small_world(tmp_path), tmp_path / "registry")
    manifest = verify_package(package, TEST_KEY).manifest
    model = ModelRef(
        name=manifest.name, version=manifest.version, content_hash=manifest.content_hash
    )
    data = simulated_log(model=model)
    topics = {name: unique_topic(f"{topic_label}-{name}") for name in ("log", "labels", "reports")}
    create_topics(kafka_bootstrap, topics.values(), partitions=PARTITIONS)
    produce(
        kafka_bootstrap, topics["log"], list(zip(data.keys, data.logs, strict=True))[: WINDOW + 10]
    )
    port = free_port()
    env = os.environ | {
        "FRAUD_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "FRAUD_TOPICS__SCORING_LOG": topics["log"],
        "FRAUD_TOPICS__LABELS": topics["labels"],
        "FRAUD_TOPICS__DRIFT_REPORTS": topics["reports"],
        "FRAUD_SIGNING_KEY": TEST_KEY.decode(),
        "FRAUD_VAR_DIR": str(tmp_path / "var"),
        "FRAUD_MONITOR__GROUP_ID": f"monitor-{uuid.uuid4().hex[:8]}",
        "FRAUD_MONITOR__WINDOW_KIND": "count",
        "FRAUD_MONITOR__WINDOW_EVENTS": str(WINDOW),
        "FRAUD_MONITOR__METRICS_PORT": str(port),
        "FRAUD_MONITOR__THRESHOLDS__MIN_EVENTS": "200",
    }
    command = [str(Path(sys.executable).parent / "fraudstream"), "monitor", "run"]
    log_file = (tmp_path / "monitor.log").open("wb")
    process = subprocess.Popen(
        [*command, "--package", str(package)], env=env, stdout=log_file, stderr=log_file
    )
    try:
        [record] = wait_for_records(kafka_bootstrap, topics["reports"], 1, timeout=45)
        report = decode_record(DriftReport, record.value)
        assert report.model == model and report.window.n == WINDOW
        assert report.feature_set_version == manifest.features.feature_set_version
        assert report.score.scores_live == WINDOW  # the package's score profile is the reference
        assert _scrape_until(port, "fraud_monitor_reports_total 1.0", seconds=10)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        log_file.close()
    assert process.returncode == 0, (tmp_path / "monitor.log").read_text()[-3000:]
    assert "monitor stopped after 1 reports" in (tmp_path / "monitor.log").read_text()


def _scrape_until(port: int, line: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            if line in response.read().decode():
                return True
        time.sleep(0.2)
    return False
