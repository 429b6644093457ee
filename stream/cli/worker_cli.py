"""`fraudstream worker`: run the scoring worker until SIGTERM."""

from __future__ import annotations

import typer

from stream.settings import get_settings

worker_app = typer.Typer(
    help="Run the scoring stream worker.", invoke_without_command=True, no_args_is_help=False
)


@worker_app.callback()
def worker() -> None:
    """Consume fraud.transactions.v1 and publish decisions, scoring logs and dead letters.

    One process: validate, card and merchant state, micro-batched scoring. Configured by
    FRAUD_* variables (README, Configuration).
    """
    from stream.decision_path.worker import run_worker
    from stream.signing_keys import DevSigningKeyRefused

    try:
        run_worker(get_settings())
    except DevSigningKeyRefused as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
