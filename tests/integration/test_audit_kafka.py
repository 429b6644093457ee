"""The outcome audit on a real broker: every outcome found, across a restart of the audit;
inputs the engine skipped re-driven until decided; inputs nobody processes reported lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest
from confluent_kafka import Consumer, TopicPartition
from prometheus_client import CollectorRegistry

from schemas import Decision, OutcomeAudit
from stream.audit import AuditConfig, AuditMetrics, AuditRunner, audit_once
from stream.broker import free_port
from stream.redrive import provenance, redrive_of
from stream.redrive_seal import REDRIVE_SEAL_HEADER, verified_provenance
from stream.settings import TopicNames
from stream.topic_scan import scan
from tests.support.clients import (
    end_offsets,
    java_compatible_producer,
    produce,
    read_to_end,
    wait_for_records,
)
from tests.support.faust_worker import REPO_ROOT
from tests.support.stream_setup import StreamSetup, simulated_events, stream_setup
from tests.support.stream_worker import StreamWorker
from tests.support.topics import create_topics

pytestmark = pytest.mark.integration


def topic_names(setup: StreamSetup) -> TopicNames:
    return TopicNames(**setup.topics)


def create_audited_topics(bootstrap: str, setup: StreamSetup) -> None:
    """The topics the audit reads and writes, before any worker made them."""
    create_topics(
        bootstrap, [setup.topic(t) for t in ("transactions", "decisions", "dead_letters")]
    )
    create_topics(bootstrap, [setup.topic("audit")], partitions=1)


def audit_config(bootstrap: str, setup: StreamSetup, **changes: object) -> AuditConfig:
    config = AuditConfig(
        bootstrap=bootstrap,
        input_topic=setup.topic("transactions"),
        decisions_topic=setup.topic("decisions"),
        dead_letters_topic=setup.topic("dead_letters"),
        audit_topic=setup.topic("audit"),
        group_id=f"{setup.app_id}-audit",
        grace_s=2.0,
        max_redrives=2,
        window_s=0.5,
        window_max_inputs=10_000,
        restart_margin_s=60.0,
        outcome_ttl_s=600.0,
        max_outcomes=100_000,
        max_pending=100_000,
        start_from="earliest",
        max_event_bytes=65_536,
        worker_id="audit-test",
    )
    return replace(config, **changes)  # type: ignore[arg-type]  # test-chosen fields


@contextmanager
def running(runner: AuditRunner) -> Iterator[AuditRunner]:
    """The audit in a thread, stopped (and its errors raised) on the way out."""
    stop = threading.Event()
    errors: list[BaseException] = []

    def target() -> None:
        try:
            runner.run(stop, max_seconds=240)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target, name="audit", daemon=True)
    thread.start()
    try:
        yield runner
    finally:
        stop.set()
        thread.join(30)
        assert not thread.is_alive(), "the audit did not stop"
    if errors:
        raise errors[0]


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what} not within {timeout} s")
        time.sleep(0.2)


def checked(runner: AuditRunner) -> int:
    return sum(record.inputs for record in runner.published)


def metric(metrics: AuditMetrics, name: str, labels: dict[str, str] | None = None) -> float:
    value = metrics.registry.get_sample_value(name, labels or {})
    return 0.0 if value is None else value


def test_every_outcome_found_and_a_restarted_audit_carries_on(
    kafka_bootstrap: str, test_package: Path, tmp_path: Path
) -> None:
    setup = stream_setup(kafka_bootstrap, tmp_path / "var", test_package, "audit-ok")
    events = simulated_events(limit=500)
    first, second = events[:400], events[400:]
    invalid = [(first[0][0], b"{broken"), (None, b"")]
    inputs = setup.topic("transactions")
    worker = StreamWorker(setup.env, tmp_path / "data", tmp_path / "worker.log")
    with worker.started(timeout=120):
        produce(kafka_bootstrap, inputs, first + invalid)
        wait_for_records(kafka_bootstrap, setup.topic("decisions"), len(first), 120)
        wait_for_records(kafka_bootstrap, setup.topic("dead_letters"), len(invalid), 60)

        summary = audit_once(kafka_bootstrap, topic_names(setup))
        assert (summary.inputs, summary.decided, summary.dead_lettered) == (402, 400, 2)
        assert summary.missing == []
        assert (summary.duplicate_decisions, summary.duplicates_after_dedupe) == (0, 0)

        config = audit_config(kafka_bootstrap, setup)
        metrics = AuditMetrics(CollectorRegistry())
        with running(AuditRunner(config, metrics)) as audit:
            wait_until(lambda: checked(audit) == 402, 60, "the first 402 inputs checked")
        assert sum(r.decided for r in audit.published) == 400
        assert sum(r.dead_lettered for r in audit.published) == 2
        assert metric(metrics, "fraud_audit_missing_outcomes_total") == 0
        assert metric(metrics, "fraud_audit_redriven_total") == 0
        assert metric(metrics, "fraud_audit_settled_inputs_total", {"outcome": "lost"}) == 0
        assert metric(metrics, "fraud_audit_last_checked_timestamp_seconds") > 0
        assert committed(kafka_bootstrap, config.group_id, inputs) == end_offsets(
            kafka_bootstrap, inputs
        )

        # While no audit runs, more inputs get their outcomes; the next audit starts where the
        # last one committed and still finds those outcomes (read again from before them).
        produce(kafka_bootstrap, inputs, second)
        wait_for_records(kafka_bootstrap, setup.topic("decisions"), len(events), 120)
        metrics = AuditMetrics(CollectorRegistry())
        with running(AuditRunner(config, metrics)) as audit:
            wait_until(lambda: checked(audit) == len(second), 60, "the next 100 inputs checked")
            time.sleep(config.grace_s + 1)  # nothing else may turn up, nothing may go missing
        assert checked(audit) == len(second)
        assert sum(r.decided for r in audit.published) == len(second)
        assert metric(metrics, "fraud_audit_missing_outcomes_total") == 0

    records = [
        OutcomeAudit.model_validate_json(r.value or b"")
        for r in read_to_end(kafka_bootstrap, setup.topic("audit"))
    ]
    assert sum(r.inputs for r in records) == len(events) + len(invalid)
    assert all(r.lost == 0 and r.duplicate_decisions == 0 for r in records)
    assert len({r.audit_id for r in records}) == len(records)


def test_inputs_the_engine_skipped_are_redriven_and_decided_once(
    kafka_bootstrap: str, test_package: Path, tmp_path: Path
) -> None:
    setup = stream_setup(kafka_bootstrap, tmp_path / "var", test_package, "audit-redrive")
    create_audited_topics(kafka_bootstrap, setup)
    inputs = setup.topic("transactions")
    events = simulated_events(limit=40)
    produce(kafka_bootstrap, inputs, events)
    # What the engine defect does (README, Reliability): the worker group's offsets committed past
    # inputs that never got an outcome. The worker will not read them again by itself.
    commit_to_end(kafka_bootstrap, setup.app_id, inputs)  # the worker's consumer group

    worker = StreamWorker(setup.env, tmp_path / "data", tmp_path / "worker.log")
    with worker.started(timeout=120):
        metrics = AuditMetrics(CollectorRegistry())
        # The worker decides a copy well within the grace unless the machine is very busy;
        # then a second copy goes out, which the decision id makes harmless (checked below).
        config = audit_config(kafka_bootstrap, setup, grace_s=6.0)
        with running(AuditRunner(config, metrics)) as audit:
            wait_until(lambda: checked(audit) == len(events), 90, "every input checked")
        redriven = metric(metrics, "fraud_audit_redriven_total")
        assert redriven >= len(events)
        assert metric(metrics, "fraud_audit_missing_outcomes_total") == redriven
        assert metric(metrics, "fraud_audit_lost_total") == 0
        assert sum(r.redriven for r in audit.published) == len(events)
        assert sum(r.decided for r in audit.published) == len(events)
        wait_for_records(kafka_bootstrap, setup.topic("decisions"), int(redriven), 60)

    decisions = [
        Decision.model_validate_json(r.value or b"")
        for r in read_to_end(kafka_bootstrap, setup.topic("decisions"))
    ]
    # One decision per copy (the originals were never processed), one decision id each.
    assert len(decisions) == redriven
    ids: dict[str, set[str]] = {}
    for decision in decisions:
        ids.setdefault(decision.transaction_id, set()).add(decision.decision_id)
    assert len(ids) == len(events)
    assert {len(decision_ids) for decision_ids in ids.values()} == {1}
    summary = audit_once(kafka_bootstrap, topic_names(setup), redrive_key=config.redrive_key)
    assert (summary.inputs, summary.decided, summary.redrive_copies) == (40, 40, redriven)
    assert summary.unverified_redrives == 0
    assert summary.duplicate_decisions == redriven - len(events)
    assert summary.complete


def test_inputs_with_forged_redrive_headers_are_audited_as_inputs(
    kafka_bootstrap: str, test_package: Path, tmp_path: Path
) -> None:
    setup = stream_setup(kafka_bootstrap, tmp_path / "var", test_package, "audit-forged")
    create_audited_topics(kafka_bootstrap, setup)
    inputs = setup.topic("transactions")
    events = simulated_events(limit=22)
    honest, hidden = events[:20], events[20:]
    sent = produce(kafka_bootstrap, inputs, honest)
    # Each claims to be a re-drive of an honest input: one with a bare header (what any
    # producer can write), one with a made-up seal. Believed, both would vanish from the count.
    named = sent[0]
    claim = redrive_of(inputs, named.partition, named.offset, 1)
    forged = [claim, (*claim, (REDRIVE_SEAL_HEADER, b"ab" * 32))]
    producer = java_compatible_producer(kafka_bootstrap)
    for (key, value), headers in zip(hidden, forged, strict=True):
        producer.produce(inputs, key=key, value=value, headers=list(headers))
    assert producer.flush(30) == 0

    worker = StreamWorker(setup.env, tmp_path / "data", tmp_path / "worker.log")
    with worker.started(timeout=120):
        wait_for_records(kafka_bootstrap, setup.topic("decisions"), len(events), 120)
        metrics = AuditMetrics(CollectorRegistry())
        config = audit_config(kafka_bootstrap, setup)
        with running(AuditRunner(config, metrics)) as audit:
            wait_until(lambda: checked(audit) == len(events), 60, "every input checked")
    assert sum(r.decided for r in audit.published) == len(events)
    assert sum(r.redrive_copies for r in audit.published) == 0
    assert metric(metrics, "fraud_audit_inputs_total", {"kind": "unverified_redrive"}) == 2
    assert metric(metrics, "fraud_audit_inputs_total", {"kind": "redrive_copy"}) == 0
    assert metric(metrics, "fraud_audit_redriven_total") == 0

    summary = audit_once(kafka_bootstrap, topic_names(setup), redrive_key=config.redrive_key)
    assert (summary.inputs, summary.decided, summary.redrive_copies) == (22, 22, 0)
    assert summary.unverified_redrives == 2
    assert summary.complete


def test_inputs_nobody_processes_are_reported_lost(kafka_bootstrap: str, tmp_path: Path) -> None:
    setup = stream_setup(kafka_bootstrap, tmp_path / "var", None, "audit-lost")
    create_audited_topics(kafka_bootstrap, setup)
    inputs = setup.topic("transactions")
    sent = produce(kafka_bootstrap, inputs, simulated_events(limit=3))
    metrics = AuditMetrics(CollectorRegistry())
    config = audit_config(kafka_bootstrap, setup, grace_s=1.0, max_redrives=1)
    with running(AuditRunner(config, metrics)) as audit:
        wait_until(lambda: checked(audit) == 3, 30, "the 3 inputs given up")
    assert metric(metrics, "fraud_audit_lost_total") == 3
    assert metric(metrics, "fraud_audit_missing_outcomes_total") == 6  # before and after a re-drive
    published = read_to_end(kafka_bootstrap, setup.topic("audit"))
    records = [OutcomeAudit.model_validate_json(r.value or b"") for r in published]
    lost = sorted((i.partition, i.offset) for r in records for i in r.lost_inputs)
    assert lost == sorted((r.partition, r.offset) for r in sent)
    assert all(i.redrives == 1 for r in records for i in r.lost_inputs)
    copied = [r for r in scan(kafka_bootstrap, inputs) if r.headers]
    copies = [provenance(r.headers) for r in copied]
    assert sorted(c.redrive_of[1:] for c in copies if c.redrive_of) == lost
    assert {c.redrive_attempt for c in copies} == {1}
    # Sealed with the audit's key: a restarted audit with that key knows them for its own.
    assert all(
        verified_provenance(r.headers, config.redrive_key, r.partition, r.key, r.value) == copies[i]
        for i, r in enumerate(copied)
    )


def committed(bootstrap: str, group: str, topic: str) -> dict[int, int]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    try:
        partitions = [TopicPartition(topic, p) for p in end_offsets(bootstrap, topic)]
        return {tp.partition: tp.offset for tp in consumer.committed(partitions, timeout=10)}
    finally:
        consumer.close()


def commit_to_end(bootstrap: str, group: str, topic: str) -> None:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    try:
        ends = end_offsets(bootstrap, topic)
        consumer.commit(
            offsets=[TopicPartition(topic, p, end) for p, end in ends.items()], asynchronous=False
        )
    finally:
        consumer.close()


def test_audit_commands_serve_metrics_and_fail_the_check(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    setup = stream_setup(
        kafka_bootstrap,
        tmp_path / "var",
        None,
        "audit-cli",
        FRAUD_AUDIT__GRACE_S=1,
        FRAUD_AUDIT__MAX_REDRIVES=0,
        FRAUD_AUDIT__WINDOW_S=0.5,
        FRAUD_AUDIT__START_FROM="earliest",
        FRAUD_AUDIT__GROUP_ID=f"{uuid.uuid4().hex[:8]}-audit",
    )
    create_audited_topics(kafka_bootstrap, setup)
    sent = produce(kafka_bootstrap, setup.topic("transactions"), simulated_events(limit=2))
    port = free_port()
    env = {**os.environ, **setup.env, "FRAUD_AUDIT__METRICS_PORT": str(port)}
    log_path = tmp_path / "audit.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "stream.cli", "audit", "run"],
            env=env,
            cwd=REPO_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until(lambda: scrape(port).get("fraud_audit_windows_total") == 1.0, 60, "a window")
            samples = scrape(port)
            assert samples["fraud_audit_lost_total"] == 2.0
            assert samples['fraud_audit_inputs_total{kind="input"}'] == 2.0
            assert samples['fraud_audit_settled_inputs_total{outcome="lost"}'] == 2.0
        finally:
            os.kill(process.pid, signal.SIGTERM)
            code = process.wait(30)
    output = log_path.read_text()
    assert code == 0, output
    assert output.count("INPUT LOST") == 2
    assert "audit stopped after" in output

    check = subprocess.run(
        [sys.executable, "-m", "stream.cli", "audit", "check"],
        env={**os.environ, **setup.env},
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert check.returncode == 1, check.stdout + check.stderr
    assert "2 inputs: 0 decided, 0 dead-lettered, 2 without an outcome" in check.stdout
    for record in sent:
        assert f"/{record.partition}/{record.offset} transaction T" in check.stdout


def scrape(port: int) -> dict[str, float]:
    """The audit's samples on its /metrics page, by name with labels (empty while it is not up)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as page:
            text = page.read().decode()
    except OSError:
        return {}
    samples = {}
    for line in text.splitlines():
        name, _, value = line.rpartition(" ")
        if name.startswith("fraud_audit_"):
            samples[name] = float(value)
    return samples
