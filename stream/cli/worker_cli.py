"""`fraudstream worker`: run one scoring worker until SIGTERM."""

from __future__ import annotations

import typer

from stream.settings import get_settings

worker_app = typer.Typer(help="Run the scoring stream worker.", invoke_without_command=True)


@worker_app.callback()
def worker() -> None:
    """Consume fraud.transactions.v1 and publish decisions, scoring logs and dead letters.

    Configured by FRAUD_* environment variables (see README: Configuration).
    """
    from stream.worker import run_worker

    run_worker(get_settings())
