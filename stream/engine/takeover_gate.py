"""A warm successor starts Faust's clients before the old process lets go; only what needs
the old process gone waits for it.

Replaces, in faust-streaming 0.15.3: the order of `BootStrategy.server` (faust/app/base.py
~268-285: sensors, producer, web server, consumer, agents, conductor, tables), for a process
that takes over a worker's data dir from a running one (stream.decision_path.handover). The
successor waited for the data-dir lock before Faust started at all, so every service's start
(the producer's and consumer's connections and metadata, the consumer thread, the agents) lay
between the old process's final commit and the new one's join: 31-49 ms of each handover's
pause in rolling restarts here ("Starting..." to "Subscribed").

Here such a process starts the producer, the consumer (its client and thread, without a
subscription: nothing joins the group yet) and the agents first, then waits at a gate, and
only then the web server (the old process holds its port until it lets go), the conductor
(whose subscription joins the group under the same static member id, which must wait for the
old member's final commit) and the tables (whose stores the old process holds). A process
that took the lock at once starts in Faust's own order.
Delete when: Faust can start its clients before it joins.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from faust.app.base import BootStrategy
from mode import Service, ServiceT


class TakeoverGate(Service):
    """Starts once `wait` has returned, or the worker is stopping."""

    def __init__(self, wait: Callable[[], Awaitable[None]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._wait = wait

    async def on_start(self) -> None:
        await self.wait_for_stopped(self._wait())


class GatedBoot(BootStrategy):
    """Faust's server services, those that need the old process gone after the gate."""

    def __init__(self, app: Any, gate: TakeoverGate) -> None:
        super().__init__(app)
        self.gate = gate

    def server(self) -> Iterable[ServiceT]:
        return self._chain(
            self.sensors(),
            self.kafka_producer(),
            self.kafka_consumer(),
            self.agents(),
            [self.gate],
            self.web_server(),
            self.kafka_conductor(),
            self.tables(),
        )


def start_before_the_gate(app: Any, wait: Callable[[], Awaitable[None]]) -> None:
    """Make `app` start its clients, then await `wait`, then join and open its stores."""
    app.boot_strategy = GatedBoot(app, TakeoverGate(wait, loop=app.loop, beacon=app.beacon))
