"""The launcher's failure paths against a real JVM: each ends in a clear error within seconds
(far inside the start timeout) and leaves no broker process behind."""

from __future__ import annotations

import shutil
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from stream.broker import (
    BrokerConfig,
    BrokerExitedError,
    BrokerStartTimeoutError,
    JavaNotFoundError,
    JavaTooOldError,
    KafkaBroker,
    MavenNotFoundError,
    PortInUseError,
    StorageFormatError,
    ensure_jars,
    free_ports,
)

# Generous for the start itself; a failure must arrive far sooner (asserted below).
START_TIMEOUT = 120.0
FAIL_FAST = 40.0


@pytest.fixture(scope="module")
def jars() -> Path:
    """The real broker jars (fetched once by `make test`'s kafka-jars step, or here)."""
    return ensure_jars()


@pytest.fixture
def config(tmp_path: Path) -> BrokerConfig:
    port, controller_port = free_ports(2)
    return BrokerConfig(work_dir=tmp_path / "broker", port=port, controller_port=controller_port)


@pytest.fixture
def bin_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "bin"
    directory.mkdir()
    return directory


@pytest.fixture
def listening_socket() -> Iterator[socket.socket]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder


def _java_processes_for(config: BrokerConfig) -> list[int]:
    """Pids whose command line names this config's work dir: what must be gone after a failure."""
    marker = str(config.work_dir.resolve()).encode()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if marker in (proc / "cmdline").read_bytes():
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def _only_java_on_path(bin_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    java = shutil.which("java")
    assert java is not None, "these tests need the Java runtime the broker runs on"
    (bin_dir / "java").symlink_to(java)
    monkeypatch.setenv("PATH", str(bin_dir))


def test_missing_java_is_reported(
    config: BrokerConfig, bin_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(bin_dir))
    with pytest.raises(JavaNotFoundError, match="no 'java' on PATH"):
        KafkaBroker(config).start(timeout=START_TIMEOUT)


def test_too_old_java_is_reported(
    config: BrokerConfig, bin_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = bin_dir / "java"
    fake.write_text("#!/bin/sh\necho 'java version \"1.8.0_392\"' >&2\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    with pytest.raises(JavaTooOldError, match=r"Java 8; Kafka 3\.9\.1 needs Java 11"):
        KafkaBroker(config).start(timeout=START_TIMEOUT)


def test_missing_maven_without_cached_jars_is_reported(
    tmp_path: Path, bin_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _only_java_on_path(bin_dir, monkeypatch)
    port, controller_port = free_ports(2)
    empty_cache = BrokerConfig(
        work_dir=tmp_path / "broker",
        port=port,
        controller_port=controller_port,
        cache_root=tmp_path / "empty-cache",
    )
    with pytest.raises(MavenNotFoundError, match="no 'mvn' on PATH"):
        KafkaBroker(empty_cache).start(timeout=START_TIMEOUT)


def test_taken_port_is_refused_before_a_jvm_starts(
    jars: Path, tmp_path: Path, listening_socket: socket.socket
) -> None:
    taken = listening_socket.getsockname()[1]
    config = BrokerConfig(
        work_dir=tmp_path / "broker", port=taken, controller_port=free_ports(1)[0]
    )
    broker = KafkaBroker(config)
    with pytest.raises(PortInUseError, match=f"broker port {taken} on 127.0.0.1 already in use"):
        broker.start(timeout=START_TIMEOUT)
    assert broker.pid is None
    assert not (config.work_dir / "data").exists()


def test_bind_failure_in_the_broker_log_is_reported(
    jars: Path,
    tmp_path: Path,
    listening_socket: socket.socket,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The port is taken after the pre-check: the race the log scan exists for.
    monkeypatch.setattr("stream.broker.launcher.ensure_ports_free", lambda *args: None)
    taken = listening_socket.getsockname()[1]
    config = BrokerConfig(
        work_dir=tmp_path / "broker", port=taken, controller_port=free_ports(1)[0]
    )
    started = time.monotonic()
    with pytest.raises(PortInUseError, match=f"failed to bind to 127.0.0.1:{taken}"):
        KafkaBroker(config).start(timeout=START_TIMEOUT)
    assert time.monotonic() - started < FAIL_FAST
    assert _java_processes_for(config) == []


def test_broker_dying_at_start_reports_exit_code_and_cause(jars: Path, tmp_path: Path) -> None:
    port, controller_port = free_ports(2)
    # Valid to the storage formatter, fatal to the broker, which loads the class at start.
    config = BrokerConfig(
        work_dir=tmp_path / "broker",
        port=port,
        controller_port=controller_port,
        overrides={"authorizer.class.name": "com.example.NoSuchAuthorizer"},
    )
    started = time.monotonic()
    with pytest.raises(BrokerExitedError) as failure:
        KafkaBroker(config).start(timeout=START_TIMEOUT)
    assert time.monotonic() - started < FAIL_FAST
    assert failure.value.exit_code == 1
    assert "exited with code 1" in str(failure.value)
    assert "ClassNotFoundException: com.example.NoSuchAuthorizer" in str(failure.value)
    assert _java_processes_for(config) == []


def test_invalid_storage_config_is_reported_by_the_format_step(
    jars: Path, config: BrokerConfig
) -> None:
    broken = BrokerConfig(
        work_dir=config.work_dir,
        port=config.port,
        controller_port=config.controller_port,
        overrides={"process.roles": "gardener"},
    )
    with pytest.raises(StorageFormatError, match="StorageTool format failed"):
        KafkaBroker(broken).start(timeout=START_TIMEOUT)


def test_no_answer_within_the_timeout_stops_the_process(jars: Path, config: BrokerConfig) -> None:
    broker = KafkaBroker(config)
    with pytest.raises(BrokerStartTimeoutError, match="did not answer"):
        broker.start(timeout=0.5)
    assert not broker.running
    assert _java_processes_for(config) == []


@pytest.mark.integration
def test_cached_jars_start_a_broker_without_maven(
    jars: Path, config: BrokerConfig, bin_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _only_java_on_path(bin_dir, monkeypatch)
    assert shutil.which("mvn") is None
    broker = KafkaBroker(config)
    try:
        assert broker.start(timeout=START_TIMEOUT) == config.bootstrap
        assert broker.running
        pid = broker.pid
    finally:
        exit_code = broker.stop()
    assert exit_code is not None
    assert pid is not None and not Path(f"/proc/{pid}").exists()
