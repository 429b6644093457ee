"""Rolling restarts: one worker at a time, the next only once the previous one is ready again.

Whatever runs the workers (systemd, compose, Kubernetes, `fraudstream chaos`) restarts one;
this decides when. A worker is ready when /ready answers 200: tables restored, merchant view
loaded, model warm. With static membership a worker back within the session timeout gets its
own partitions again, so the others never stop scoring.
"""

from __future__ import annotations

import subprocess
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

Say = Callable[[str], None]


class RollingRestartError(RuntimeError):
    """A worker was not ready (before or after its restart): the roll stops there."""


class Restartable(Protocol):
    name: str

    def restart(self) -> None:
        """Stop the worker (SIGTERM: it commits and leaves) and start it; need not wait."""
        ...

    def ready(self) -> bool: ...


@dataclass(frozen=True)
class Restarted:
    name: str
    seconds_to_ready: float


def rolling_restart(
    workers: Sequence[Restartable],
    ready_timeout_s: float = 120.0,
    poll_s: float = 0.25,
    say: Say = print,
) -> list[Restarted]:
    """Restart `workers` in order; each only once every one before it is ready again.

    A worker that is not ready before its turn stops the roll: restarting another one then
    would leave the group with two workers down.
    """
    done: list[Restarted] = []
    for worker in workers:
        if not worker.ready():
            raise RollingRestartError(f"{worker.name} is not ready; not restarting it")
        began = time.monotonic()
        say(f"restarting {worker.name}")
        worker.restart()
        deadline = began + ready_timeout_s
        while not worker.ready():
            if time.monotonic() > deadline:
                raise RollingRestartError(f"{worker.name} not ready {ready_timeout_s:.0f} s after")
            time.sleep(poll_s)
        done.append(Restarted(worker.name, time.monotonic() - began))
        say(f"{worker.name} ready after {done[-1].seconds_to_ready:.1f} s")
    return done


@dataclass
class CommandWorker:
    """A worker run by a service manager: restarted by a command, asked on its /ready URL."""

    name: str
    restart_command: list[str]
    ready_url: str
    token: str | None = None

    def restart(self) -> None:
        subprocess.run(self.restart_command, check=True, timeout=300)

    def ready(self) -> bool:
        headers = {} if self.token is None else {"Authorization": f"Bearer {self.token}"}
        request = urllib.request.Request(self.ready_url, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=2) as answer:
                return bool(answer.status == 200)
        except OSError:
            return False
