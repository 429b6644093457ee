"""The `fraudstream` command line. Each command group lives in its own module."""

from __future__ import annotations

import os
import sys

from stream.decision_path.successor_boot import boot_plan_from_env, boot_quietly_if_successor

# Before the imports below, which are most of a worker's boot (seconds of CPU), even the
# settings' (~0.3 s): a worker started while its previous process still scores boots at the
# lowest priority. Its settings check again once loaded (worker_cli).
if sys.argv[1:2] == ["worker"] and (plan := boot_plan_from_env(os.environ)) is not None:
    boot_quietly_if_successor(plan.data_dir, plan.boot_nice)

import typer

from stream.cli.audit_cli import audit_app
from stream.cli.broker import broker_app
from stream.cli.chaos_cli import chaos
from stream.cli.data_cli import data_app
from stream.cli.demo_cli import demo
from stream.cli.dlq_cli import dlq_app
from stream.cli.load_cli import load
from stream.cli.models_cli import model_app
from stream.cli.monitor_cli import monitor_app
from stream.cli.registry_cli import changelog_app, keys_app, registry_app, trace
from stream.cli.rolling_cli import rolling_restart_command
from stream.cli.schemas_cli import schemas_app
from stream.cli.score_cli import score
from stream.cli.worker_cli import boot_quietly_if_a_successor, worker

if sys.argv[1:2] == ["worker"]:
    boot_quietly_if_a_successor()  # what the environment alone could not say, late

app = typer.Typer(
    name="fraudstream",
    help="Real-time card-fraud scoring on Kafka, with the model life cycle around it.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(audit_app, name="audit")
app.add_typer(broker_app, name="broker")
app.command("chaos", short_help="Kill workers and restart the broker under load; prove no loss.")(
    chaos
)
app.add_typer(data_app, name="data")
app.command("demo", short_help="Run the end-to-end demo on a broker of its own.")(demo)
app.add_typer(dlq_app, name="dlq")
app.command(
    "load", short_help="Paced simulated traffic into a deployment; throughput and latency."
)(load)
app.add_typer(model_app, name="model")
app.add_typer(monitor_app, name="monitor")
app.command("rolling-restart")(rolling_restart_command)
app.add_typer(schemas_app, name="schemas")
app.command("score", short_help="Score transactions through a worker's online API.")(score)
app.command("worker", short_help="Run the scoring stream worker.")(worker)
app.add_typer(registry_app, name="registry")
app.add_typer(changelog_app, name="changelog")
app.add_typer(keys_app, name="keys")
app.command("trace")(trace)


def main() -> None:
    """Console-script entry point."""
    app()
