"""`fraudstream worker [--stage card|merchant]`: run the scoring worker until SIGTERM."""

from __future__ import annotations

from typing import Annotated, Literal

import typer

from stream.settings import get_settings

worker_app = typer.Typer(help="Run the scoring stream worker.", invoke_without_command=True)


@worker_app.callback()
def worker(
    stage: Annotated[
        str | None, typer.Option(help="Run one stage only: card or merchant (default: both)")
    ] = None,
) -> None:
    """Consume fraud.transactions.v1 and publish decisions, scoring logs and dead letters.

    Both stages run as child processes of this one (card: validate + per-card state;
    merchant: per-merchant state + scoring). Configured by FRAUD_* variables (README).
    """
    if stage is None:
        from stream.supervisor import run_supervisor

        raise typer.Exit(run_supervisor())
    if stage not in ("card", "merchant"):
        raise typer.BadParameter("--stage must be card or merchant")
    from stream.worker import run_stage

    chosen: Literal["card", "merchant"] = "card" if stage == "card" else "merchant"
    run_stage(get_settings(), chosen)
