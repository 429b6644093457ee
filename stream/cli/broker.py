"""`fraudstream broker fetch | up | down | status`: a local Kafka broker without Docker."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from stream.broker import (
    DEFAULT_CONTROLLER_PORT,
    DEFAULT_KAFKA_VERSION,
    DEFAULT_PORT,
    BrokerConfig,
    BrokerError,
    KafkaBroker,
    ensure_jars,
    reset_work_dir,
)
from stream.broker.state import BrokerState, clear_state, read_state, write_state
from stream.settings import get_settings

broker_app = typer.Typer(
    help="Run a local Apache Kafka broker (single-node KRaft, loopback only).",
    no_args_is_help=True,
)

# Exit status of `status` when no broker runs, as in the LSB init-script convention.
NOT_RUNNING = 3

KafkaVersion = Annotated[str, typer.Option(help="Apache Kafka version to fetch and run")]
CacheDir = Annotated[
    Path | None, typer.Option(help="Jar cache root (default: the repository's .cache/kafka)")
]


def _broker_dir() -> Path:
    return (get_settings().var_dir / "broker").resolve()


def _state_path() -> Path:
    return _broker_dir() / "broker.json"


def _fail(exc: Exception) -> typer.Exit:
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(1)


@broker_app.command()
def fetch(kafka_version: KafkaVersion = DEFAULT_KAFKA_VERSION, cache_dir: CacheDir = None) -> None:
    """Resolve the broker jars from Maven Central into the cache (no network once cached)."""
    from stream.broker.jars import cached_jar_dir, default_cache_root
    from stream.cli.progress import StepProgress

    started = time.monotonic()
    root = cache_dir if cache_dir is not None else default_cache_root()
    # The first fetch runs Maven for a minute or more: say so instead of sitting silent.
    with StepProgress() as step:
        if cached_jar_dir(kafka_version, root) is None:
            step(f"fetching Kafka {kafka_version} jars from Maven Central (mvn)")
        try:
            lib = ensure_jars(kafka_version, cache_dir)
        except BrokerError as exc:
            raise _fail(exc) from exc
    jars = len(list(lib.glob("*.jar")))
    typer.echo(f"Kafka {kafka_version}: {jars} jars in {lib} ({time.monotonic() - started:.1f} s)")


@broker_app.command()
def up(
    port: Annotated[int, typer.Option(help="Client (PLAINTEXT) port")] = DEFAULT_PORT,
    controller_port: Annotated[int, typer.Option(help="KRaft controller port")] = (
        DEFAULT_CONTROLLER_PORT
    ),
    kafka_version: KafkaVersion = DEFAULT_KAFKA_VERSION,
    cache_dir: CacheDir = None,
    fresh: Annotated[bool, typer.Option(help="Delete earlier topics and data first")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the broker")] = 90.0,
) -> None:
    """Start the broker in the background; prints its bootstrap address on stdout."""
    state_path = _state_path()
    try:
        recorded = read_state(state_path)
    except BrokerError as exc:
        raise _fail(exc) from exc
    if recorded is not None and recorded.is_running():
        typer.echo(f"already running at {recorded.bootstrap} (pid {recorded.pid})", err=True)
        typer.echo(recorded.bootstrap)
        return
    clear_state(state_path)
    config = BrokerConfig(
        work_dir=_broker_dir(),
        port=port,
        controller_port=controller_port,
        kafka_version=kafka_version,
        cache_root=cache_dir,
    )
    if fresh:
        reset_work_dir(config)
    broker = KafkaBroker(config)
    started = time.monotonic()
    try:
        bootstrap = broker.start(timeout=timeout, detach=True)
    except BrokerError as exc:
        raise _fail(exc) from exc
    assert broker.pid is not None
    write_state(
        state_path,
        BrokerState(
            pid=broker.pid,
            bootstrap=bootstrap,
            port=port,
            controller_port=controller_port,
            work_dir=str(broker.config.work_dir),
            properties_path=str(broker.config.properties_path),
            kafka_version=kafka_version,
            started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        ),
    )
    typer.echo(
        f"Kafka {kafka_version} up at {bootstrap} (pid {broker.pid}, "
        f"{time.monotonic() - started:.1f} s; logs in {broker.config.logs_dir})",
        err=True,
    )
    typer.echo(bootstrap)


@broker_app.command()
def down(
    timeout: Annotated[
        float, typer.Option(help="Seconds before SIGTERM turns into SIGKILL")
    ] = 30.0,
) -> None:
    """Stop the broker that `up` started (only that process, identified by pid and command line)."""
    state_path = _state_path()
    try:
        recorded = read_state(state_path)
    except BrokerError as exc:
        raise _fail(exc) from exc
    if recorded is None:
        typer.echo("no broker recorded; nothing to stop", err=True)
        return
    if not recorded.is_running():
        clear_state(state_path)
        typer.echo(f"broker pid {recorded.pid} is no longer running; cleared its record", err=True)
        return
    gentle = recorded.stop(timeout)
    clear_state(state_path)
    how = "stopped" if gentle else f"did not stop within {timeout:.0f} s; killed"
    typer.echo(f"broker pid {recorded.pid} at {recorded.bootstrap} {how}", err=True)


@broker_app.command()
def status() -> None:
    """Say whether the broker that `up` started runs (exit status 3 when it does not)."""
    try:
        recorded = read_state(_state_path())
    except BrokerError as exc:
        raise _fail(exc) from exc
    if recorded is None or not recorded.is_running():
        typer.echo("not running")
        raise typer.Exit(NOT_RUNNING)
    typer.echo(
        f"running at {recorded.bootstrap} (pid {recorded.pid}, Kafka {recorded.kafka_version}, "
        f"since {recorded.started_at}, data in {recorded.work_dir})"
    )
