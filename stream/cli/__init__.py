"""The `fraudstream` command line. Each command group lives in its own module."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="fraudstream",
    help="Real-time card-fraud scoring on Kafka, with the model life cycle around it.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def main() -> None:
    """Console-script entry point."""
    app()
