"""The `fraudstream` command line. Each command group lives in its own module."""

from __future__ import annotations

import typer

from stream.cli.audit_cli import audit_app
from stream.cli.broker import broker_app
from stream.cli.chaos_cli import chaos_app
from stream.cli.data_cli import data_app
from stream.cli.demo_cli import demo_app
from stream.cli.dlq_cli import dlq_app
from stream.cli.load_cli import load
from stream.cli.models_cli import model_app
from stream.cli.monitor_cli import monitor_app
from stream.cli.registry_cli import changelog_app, keys_app, registry_app, trace
from stream.cli.rolling_cli import rolling_restart_command
from stream.cli.schemas_cli import schemas_app
from stream.cli.score_cli import score_app
from stream.cli.worker_cli import worker_app

app = typer.Typer(
    name="fraudstream",
    help="Real-time card-fraud scoring on Kafka, with the model life cycle around it.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(audit_app, name="audit")
app.add_typer(broker_app, name="broker")
app.add_typer(chaos_app, name="chaos")
app.add_typer(data_app, name="data")
app.add_typer(demo_app, name="demo")
app.add_typer(dlq_app, name="dlq")
app.command("load")(load)
app.add_typer(model_app, name="model")
app.add_typer(monitor_app, name="monitor")
app.command("rolling-restart")(rolling_restart_command)
app.add_typer(schemas_app, name="schemas")
app.add_typer(score_app, name="score")
app.add_typer(worker_app, name="worker")
app.add_typer(registry_app, name="registry")
app.add_typer(changelog_app, name="changelog")
app.add_typer(keys_app, name="keys")
app.command("trace")(trace)


def main() -> None:
    """Console-script entry point."""
    app()
