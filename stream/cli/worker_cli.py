"""`fraudstream worker`: run the scoring worker until SIGTERM."""

from __future__ import annotations

import typer
from pydantic import ValidationError

from stream.decision_path.successor_boot import boot_quietly_if_successor
from stream.settings import get_settings


def boot_quietly_if_a_successor() -> None:
    """The settings' word on booting quietly: a no-op if the environment's already lowered
    the priority (stream.cli), the only check if it could not be read early."""
    try:
        settings = get_settings()
    except ValidationError:
        return  # `worker` says why
    boot_quietly_if_successor(settings.worker_data_dir, settings.successor_boot_nice)


# A plain command, not a Typer group: it takes no subcommand, so its help shows none.
def worker() -> None:
    """Run the scoring stream worker: consume fraud.transactions.v1 and publish decisions,
    scoring logs and dead letters.

    One process: validate, card and merchant state, micro-batched scoring. Configured by
    FRAUD_* variables (README, Configuration).
    """
    try:
        settings = get_settings()
    except ValidationError as exc:
        # A refused setting (e.g. FRAUD_PROCESSING_GUARANTEE=exactly_once) is an operator's
        # mistake: say which variable and why, without a traceback to dig it out of.
        for line in refusals(exc):
            typer.echo(f"error: {line}", err=True)
        raise typer.Exit(2) from exc
    from stream.decision_path.worker import run_worker
    from stream.signing_keys import DevSigningKeyRefused

    try:
        run_worker(settings)
    except DevSigningKeyRefused as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc


def refusals(exc: ValidationError) -> list[str]:
    """Each invalid setting as `FRAUD_<NAME>: why`."""
    return [
        f"FRAUD_{'__'.join(str(part) for part in error['loc']).upper()}: "
        f"{error['msg'].removeprefix('Value error, ')}"
        for error in exc.errors()
    ]
