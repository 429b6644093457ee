"""`fraudstream rolling-restart`: restart workers one at a time, each after the last is ready."""

from __future__ import annotations

import shlex
from typing import Annotated

import typer


def rolling_restart_command(
    workers: Annotated[
        list[str], typer.Argument(help="Workers as NAME=PORT (their web port), in restart order")
    ],
    restart_command: Annotated[
        str,
        typer.Option(
            help="Restarts one worker; {name} and {port} are filled in, e.g. "
            "'systemctl restart fraudstream@{name}' or 'docker compose restart {name}'"
        ),
    ],
    ready_url: Annotated[
        str, typer.Option(help="Its readiness URL; {name} and {port} are filled in")
    ] = "http://127.0.0.1:{port}/ready",
    ready_timeout_s: Annotated[float, typer.Option(help="Longest wait for one worker")] = 120.0,
) -> None:
    """Restart workers one at a time, each only once the one before is ready again."""
    from stream.rolling import CommandWorker, RollingRestartError, rolling_restart
    from stream.settings import get_settings

    token = get_settings().web_token
    chosen = []
    for spec in workers:
        name, _, port = spec.partition("=")
        if not port.isdigit():
            typer.echo(f"error: {spec!r} is not NAME=PORT", err=True)
            raise typer.Exit(2)
        fill = {"name": name, "port": port}
        chosen.append(
            CommandWorker(
                name,
                [part.format(**fill) for part in shlex.split(restart_command)],
                ready_url.format(**fill),
                None if token is None else token.get_secret_value(),
            )
        )
    try:
        restarted = rolling_restart(chosen, ready_timeout_s, say=typer.echo)
    except RollingRestartError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    for done in restarted:
        typer.echo(f"{done.name}: ready {done.seconds_to_ready:.1f} s after its restart")
