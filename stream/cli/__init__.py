"""The `fraudstream` command line. Each command group lives in its own module."""

from __future__ import annotations

import typer

from stream.cli.broker import broker_app

app = typer.Typer(
    name="fraudstream",
    help="Real-time card-fraud scoring on Kafka, with the model life cycle around it.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(broker_app, name="broker")


def main() -> None:
    """Console-script entry point."""
    app()
