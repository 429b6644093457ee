"""`fraudstream audit run | check`: prove every input got exactly one outcome."""

from __future__ import annotations

import logging.config
import signal
import threading

import typer

from stream.settings import get_settings

audit_app = typer.Typer(
    help="Check that every input got exactly one outcome: a decision or a dead letter.",
    no_args_is_help=True,
)


@audit_app.command("run")
def run_command() -> None:
    """Audit continuously: re-drive inputs without an outcome after the grace period, report
    lost ones, publish one record per window to the audit topic, serve /metrics.

    Configured by FRAUD_AUDIT__* (grace_s, max_redrives, window_s, metrics_port, ...).
    Reads the topics the worker creates. Runs until SIGTERM or Ctrl-C.
    """
    from prometheus_client import start_http_server

    from stream.audit import AuditFailed, AuditMetrics, AuditRunner, audit_config
    from stream.logs import logging_config

    settings = get_settings()
    config = audit_config(settings)
    logging.config.dictConfig(logging_config(settings.log_level, config.worker_id))
    if settings.audit.redrive_key is None:
        logging.getLogger("fraudstream.audit").warning(
            "FRAUD_AUDIT__REDRIVE_KEY is not set: re-drive copies are sealed with a random key, "
            "so after a restart earlier copies count as ordinary inputs"
        )
    metrics = AuditMetrics()
    server = None
    if settings.audit.metrics_port:
        server, _ = start_http_server(
            settings.audit.metrics_port, addr=settings.audit.metrics_host, registry=metrics.registry
        )
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    try:
        published = AuditRunner(config, metrics).run(stop)
    except AuditFailed as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    finally:
        if server is not None:
            server.shutdown()
    typer.echo(f"audit stopped after {published} windows")


@audit_app.command("check")
def check_command() -> None:
    """Read the input and outcome topics to their end once and account for every input.

    Exit status 1 when an input has no outcome or de-duplication by decision id leaves a
    transaction with two decisions.
    """
    from stream.audit import audit_once

    settings = get_settings()
    key = settings.audit.redrive_key
    summary = audit_once(
        settings.kafka_bootstrap,
        settings.topics,
        max_event_bytes=settings.max_event_bytes,
        redrive_key=None if key is None else key.get_secret_value().encode(),
    )
    typer.echo(
        f"{summary.inputs} inputs: {summary.decided} decided, {summary.dead_lettered} "
        f"dead-lettered, {len(summary.missing)} without an outcome; "
        f"{summary.redrive_copies} re-drive copies"
    )
    if summary.unverified_redrives:
        typer.echo(
            f"{summary.unverified_redrives} inputs carry a re-drive header without a valid seal "
            "(forged, or FRAUD_AUDIT__REDRIVE_KEY unset or another): audited as inputs"
        )
    typer.echo(
        f"{summary.decision_records} decision records, {summary.duplicate_decisions} repeats "
        f"(dropped by decision id), {summary.duplicates_after_dedupe} left after dedupe"
    )
    for missing in summary.missing[:50]:
        typer.echo(
            f"  no outcome: {settings.topics.transactions}/{missing.partition}/{missing.offset}"
            f" transaction {missing.transaction_id or '(none readable)'}"
        )
    if not summary.complete:
        raise typer.Exit(1)
