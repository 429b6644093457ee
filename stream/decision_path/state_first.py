"""A micro-batch's decisions leave only once the card states they are recorded in are stored.

A worker killed before committing its input offsets replays those inputs, and a replay answers
with the decision its card's state recorded (stream/decision_path/enrich.py). That holds only if
no decision is ever readable while the state record it is recorded in could still be lost.
Sending the state first through the same producer does not ensure it: librdkafka keeps a
producer's records in order per partition only, and picks which partition's batch goes out
next itself. A decision could then be stored while its card state was still queued; a worker
killed in between replays the transaction without its recorded decision and decides it anew,
late, so differently. That is the reading (not traced) of the one conflicting duplicate a CI
run of `tests/integration/test_chaos_short.py` found, killed as the broker came back.

So each micro-batch's decisions and scoring-log records are held here until librdkafka has
reported every one of its card-state records delivered (acks=all), and batches leave in order.
The delivery reports are served by the agent after each batch and, while anything is held, by
a task that polls every millisecond; a commit first waits for everything held to be sent.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Protocol

from stream.decision_path.output import OutputError

# asyncio's timers resolve to about a millisecond here: polling faster would only spin.
RELEASE_TICK_S = 0.001


class Output(Protocol):
    def send(self, topic: str, key: bytes | None, value: bytes) -> None: ...

    def poll(self) -> None:
        """Serve delivery reports; raise OutputError if a delivery failed."""
        ...


class HeldBatch:
    """One micro-batch's outputs, and how many of its card states are known to be stored."""

    __slots__ = ("records", "states_delivered", "states_sent")

    def __init__(self) -> None:
        # Both set when the batch is handed over (send_once_stored); only then is it judged.
        self.records: list[tuple[str, bytes | None, bytes]] = []
        self.states_sent = 0
        self.states_delivered = 0

    def state_delivered(self) -> None:
        """Delivery report of one of the batch's card-state records (called by the table)."""
        self.states_delivered += 1

    @property
    def stored(self) -> bool:
        return self.states_delivered >= self.states_sent


class StateFirst:
    def __init__(self, output: Output) -> None:
        self._output = output
        self._held: deque[HeldBatch] = deque()
        self._releaser: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        """Batches held."""
        return len(self._held)

    def send_once_stored(
        self, batch: HeldBatch, states_sent: int, records: list[tuple[str, bytes | None, bytes]]
    ) -> None:
        """Send `records` as soon as the `states_sent` card states of `batch` are delivered,
        after every batch handed over before it."""
        batch.records = records
        batch.states_sent = states_sent
        self._held.append(batch)
        self._release_stored()
        if self._held and (self._releaser is None or self._releaser.done()):
            self._releaser = asyncio.get_running_loop().create_task(self._release_while_held())

    def poll(self) -> None:
        """Serve the producer's delivery reports and send what became stored; raises
        OutputError if a delivery failed."""
        self._output.poll()
        self._release_stored()

    async def drain(self, timeout_s: float = 60.0) -> None:
        """Before a commit: wait until every held batch was sent."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            self.poll()
            if not self._held:
                return
            if loop.time() > deadline:
                raise OutputError(
                    f"{len(self._held)} micro-batches still wait for their card states "
                    f"after {timeout_s}s"
                )
            await asyncio.sleep(RELEASE_TICK_S)

    def _release_stored(self) -> None:
        held, send = self._held, self._output.send
        while held and held[0].stored:
            for topic, key, value in held.popleft().records:
                send(topic, key, value)

    async def _release_while_held(self) -> None:
        while self._held:
            await asyncio.sleep(RELEASE_TICK_S)
            try:
                self.poll()
            except OutputError:
                # The producer keeps the failure: the agent's next poll or the commit's
                # flush raises it and stops the worker before anything is committed.
                return
