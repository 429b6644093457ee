"""Decisions awaited by online scoring requests, handed over by the stage as it decides.

An API request is published to the input topic and decided by the agent like every other
event; the request waits here for that decision. The stage looks its decided events up only
while a request waits: the stream pays one dict lookup per event then, nothing otherwise.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import NamedTuple


class Answer(NamedTuple):
    """What a waiting request gets: the decision record, or why there is none."""

    decision: bytes | None
    unavailable: str | None = None  # set when no decision will come to this worker


class DecisionWaiters:
    def __init__(self) -> None:
        self._waiting: dict[str, list[asyncio.Future[Answer]]] = {}

    def __len__(self) -> int:
        return len(self._waiting)

    def expect(self, transaction_id: str) -> asyncio.Future[Answer]:
        """A future for the decision of `transaction_id`; call `forget` when done with it."""
        future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(transaction_id, []).append(future)
        return future

    def forget(self, transaction_id: str, future: asyncio.Future[Answer]) -> None:
        futures = self._waiting.get(transaction_id)
        if futures is None:
            return
        if future in futures:
            futures.remove(future)
        if not futures:
            del self._waiting[transaction_id]

    def resolve(self, decided: Iterable[tuple[str, bytes]]) -> None:
        """Hand each (transaction id, decision record) to the requests waiting for it."""
        waiting = self._waiting
        for transaction_id, decision in decided:
            futures = waiting.pop(transaction_id, None)
            for future in futures or ():
                if not future.done():
                    future.set_result(Answer(decision))

    def release_all(self, why: str) -> None:
        """No decision will reach the waiting requests here (e.g. their partitions moved)."""
        waiting, self._waiting = self._waiting, {}
        for futures in waiting.values():
            for future in futures:
                if not future.done():
                    future.set_result(Answer(None, why))
