"""`fraudstream load`: paced simulated transactions into a running deployment, then the figures."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.console import Console

from stream.settings import get_settings


class _LoadDisplay:
    """Sent and decided so far, on stderr: a live line on a terminal, a line every 5 s in logs."""

    def __init__(self, total: int) -> None:
        self._console = Console(stderr=True, highlight=False)
        self._total = total
        self._started = time.monotonic()
        self._last_line = 0.0
        self._status = self._console.status("starting") if self._console.is_terminal else None
        if self._status is not None:
            self._status.start()

    def __call__(self, sent: int, decided: int) -> None:
        elapsed = time.monotonic() - self._started
        text = (
            f"t={elapsed:5.1f} s  sent {sent:,}/{self._total:,}  decided {decided:,}  "
            f"behind {sent - decided:,}"
        )
        if self._status is not None:
            self._status.update(text)
        elif elapsed - self._last_line >= 5.0:
            self._console.print(text)
            self._last_line = elapsed

    def close(self) -> None:
        if self._status is not None:
            self._status.stop()


def load(
    rate: Annotated[float, typer.Option(help="Transactions per second", min=0.1)],
    count: Annotated[
        int | None, typer.Option(help="Transactions to send (default: rate × duration)", min=1)
    ] = None,
    duration: Annotated[
        float | None, typer.Option(help="Seconds of traffic at most (caps --count)", min=0.1)
    ] = None,
    drain_timeout: Annotated[
        float, typer.Option(help="Seconds to wait for decisions after the last send")
    ] = 120.0,
    seed: Annotated[int, typer.Option(help="Simulator seed of the traffic")] = 11,
) -> None:
    """Send simulated transactions at a fixed rate to FRAUD_TOPICS__TRANSACTIONS of the
    configured broker, read the decisions back, print throughput and produce → decision
    percentiles. Needs running workers (e.g. `make kafka-up` and `fraudstream worker`)."""
    from stream.load.run import run_load
    from stream.load.traffic import simulated_traffic

    if count is None and duration is None:
        raise typer.BadParameter("give --count, --duration or both")
    wanted = count if count is not None else 10**9
    if duration is not None:
        wanted = min(wanted, max(1, int(rate * duration)))
    settings = get_settings()
    typer.echo(f"simulating {wanted:,} transactions", err=True)
    records = simulated_traffic(wanted, seed=seed)
    display = _LoadDisplay(len(records))
    try:
        report = run_load(
            settings.kafka_bootstrap,
            settings.topics.transactions,
            settings.topics.decisions,
            [(records, rate)],
            drain_timeout_s=drain_timeout,
            on_progress=display,
        )
    finally:
        display.close()
    for line in report.lines():
        typer.echo(line)
    if report.missing:
        typer.echo(f"error: {report.missing:,} transactions got no decision in time", err=True)
        raise typer.Exit(1)
