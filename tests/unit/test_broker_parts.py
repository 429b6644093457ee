"""The launcher's pure parts: Java version parsing, ports, generated config, log reading."""

from __future__ import annotations

import dataclasses
import os
import socket
from pathlib import Path

import pytest

from stream.broker import BrokerConfig, PortInUseError, free_ports, port_is_free
from stream.broker.config import render_properties, server_properties
from stream.broker.java import minimum_java_major, parse_java_major
from stream.broker.logscan import bind_failure, error_summary
from stream.broker.ports import ensure_ports_free
from stream.broker.state import BrokerState


@pytest.mark.parametrize(
    ("output", "major"),
    [
        ('openjdk version "17.0.15" 2025-04-15', 17),
        ('java version "1.8.0_392"', 8),
        ('openjdk version "21" 2023-09-19', 21),
        ('openjdk version "11.0.2" 2019-01-15', 11),
        ("something else", None),
    ],
)
def test_java_major_version_is_read_from_version_output(output: str, major: int | None) -> None:
    assert parse_java_major(output) == major


def test_kafka_4_needs_a_newer_java_than_kafka_3() -> None:
    assert minimum_java_major("3.9.1") == 11
    assert minimum_java_major("4.1.0") == 17


def test_free_ports_are_distinct_and_bindable() -> None:
    ports = free_ports(5)
    assert len(set(ports)) == 5
    assert all(port_is_free(port) for port in ports)


def test_a_listening_port_is_reported_taken_by_role() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        assert not port_is_free(taken)
        with pytest.raises(PortInUseError, match=f"controller port {taken}"):
            ensure_ports_free({"broker": free_ports(1)[0], "controller": taken})


def test_generated_config_is_single_node_kraft_on_loopback(tmp_path: Path) -> None:
    config = BrokerConfig(work_dir=tmp_path, port=19092, controller_port=19093)
    props = server_properties(config)
    assert props["process.roles"] == "broker,controller"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:19093"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093"
    assert props["advertised.listeners"] == "PLAINTEXT://127.0.0.1:19092"
    for key in (
        "offsets.topic.replication.factor",
        "transaction.state.log.replication.factor",
        "transaction.state.log.min.isr",
    ):
        assert props[key] == "1"
    assert props["group.initial.rebalance.delay.ms"] == "0"
    assert props["auto.create.topics.enable"] == "true"
    assert props["log.dirs"] == str(tmp_path / "data")


def test_overrides_replace_generated_entries(tmp_path: Path) -> None:
    config = BrokerConfig(work_dir=tmp_path, overrides={"log.retention.hours": "1", "x.y": "z"})
    text = render_properties(server_properties(config))
    assert "log.retention.hours=1\n" in text
    assert "log.retention.hours=24" not in text
    assert "x.y=z\n" in text


_DYING_LOG = """\
[2026-11-27 01:57:51,946] INFO Registered signal handlers (LoggingSignalHandler)
[2026-11-27 01:57:51,976] ERROR Encountered fatal fault: caught exception (FaultHandler)
java.lang.ClassNotFoundException: com.example.NoSuchAuthorizer
	at java.base/jdk.internal.loader.BuiltinClassLoader.loadClass(BuiltinClassLoader.java)
[2026-11-27 01:57:52,001] INFO shutting down (kafka.server.BrokerServer)
"""


def test_error_summary_pairs_each_error_with_its_exception() -> None:
    (summary,) = error_summary(_DYING_LOG)
    assert "ERROR Encountered fatal fault" in summary
    assert summary.endswith("java.lang.ClassNotFoundException: com.example.NoSuchAuthorizer")
    assert bind_failure(_DYING_LOG) is None


def test_bind_failure_is_found_in_the_log() -> None:
    log = (
        "[2026-11-27 01:57:58,269] ERROR Unable to start acceptor (DataPlaneAcceptor)\n"
        "org.apache.kafka.common.KafkaException: Socket server failed to bind to "
        "127.0.0.1:53647: Address already in use.\n"
    )
    assert bind_failure(log) == "failed to bind to 127.0.0.1:53647: Address already in use."


def test_a_recorded_pid_that_is_not_our_broker_is_never_signalled(tmp_path: Path) -> None:
    # This test process is alive, but it is not a kafka.Kafka JVM: a reused pid must be left alone.
    state = BrokerState(
        pid=os.getpid(),
        bootstrap="127.0.0.1:1",
        port=1,
        controller_port=2,
        work_dir=str(tmp_path),
        properties_path=str(tmp_path / "server.properties"),
        kafka_version="3.9.1",
        started_at="2026-11-27T00:00:00+00:00",
    )
    assert not state.is_running()
    assert state.stop(timeout=0.1) is True  # nothing to stop, and we are still here


def test_the_broker_runs_the_quick_compiler_unless_asked_for_the_optimising_one(
    tmp_path: Path,
) -> None:
    from stream.broker.launcher import _jit_flags

    quick = BrokerConfig(work_dir=tmp_path)
    assert _jit_flags(quick) == ["-XX:TieredStopAtLevel=1"]
    assert _jit_flags(dataclasses.replace(quick, optimising_jit=True)) == []


def test_the_broker_collects_garbage_with_g1_toward_the_configured_pause_goal(
    tmp_path: Path,
) -> None:
    from stream.broker.launcher import _gc_flags

    config = BrokerConfig(work_dir=tmp_path)
    flags = _gc_flags(config)
    assert flags[:2] == ["-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20"]
    assert flags[2].startswith(f"-Xlog:gc:file={config.gc_log}:")
    shorter = _gc_flags(dataclasses.replace(config, gc_pause_target_ms=5))
    assert shorter[1] == "-XX:MaxGCPauseMillis=5"


def test_the_broker_can_collect_with_a_concurrent_collector_and_log_its_pauses(
    tmp_path: Path,
) -> None:
    from stream.broker.launcher import _gc_flags

    config = BrokerConfig(work_dir=tmp_path)
    zgc = _gc_flags(dataclasses.replace(config, gc_collector="zgc"))
    assert zgc[0] == "-XX:+UseZGC" and not any("MaxGCPauseMillis" in f for f in zgc)
    # ZGC logs its pauses under gc+phases: without it the benchmark would see none.
    assert zgc[1].startswith(f"-Xlog:gc,gc+phases:file={config.gc_log}:")
    shenandoah = _gc_flags(dataclasses.replace(config, gc_collector="shenandoah"))
    assert shenandoah[0] == "-XX:+UseShenandoahGC"
    assert shenandoah[1].startswith(f"-Xlog:gc:file={config.gc_log}:")
