"""Which worker owns a card, and passing a request on to it.

A card's state lives in the card-state table partition of its key, owned by one worker of the
group: only that worker can decide the card's transaction the way the stream does. The owner is
read from Faust's partition assignor (what `app.table_route` uses), keyed by the partition the
Java client, aiokafka and the project's producers all choose for the card id (murmur2).
"""

from __future__ import annotations

from typing import Any

import aiohttp
from aiokafka.partitioner import murmur2
from faust.types import TP

# Set on a request passed on to an owner: an owner that disagrees answers 503 rather than
# passing it on again (two workers with different views of a rebalance would bounce it).
ROUTED_HEADER = "X-Fraud-Routed-By"


def card_partition(card_id: str, partitions: int) -> int:
    """The input (and card-state) partition of a card: Kafka's default partitioner."""
    hashed: int = murmur2(card_id.encode())
    return (hashed & 0x7FFFFFFF) % partitions


class Owners:
    """Owners of the card-state partitions, as the group's last assignment says."""

    def __init__(self, app: Any, card_table: str, input_topic: str) -> None:
        self._app = app
        self._card_table = card_table
        self._input_topic = input_topic

    @property
    def own_url(self) -> str:
        return str(self._app.conf.canonical_url).rstrip("/")

    def owner_of(self, partition: int) -> str | None:
        """The owner's base URL; None while the assignment does not name one (a rebalance)."""
        try:
            metadata = self._app.router.table_metadata(self._card_table)
        except (KeyError, AttributeError):
            return None
        for url, topics in metadata.items():
            if any(partition in owned for owned in topics.values()):
                return str(url).rstrip("/")
        return None

    def consuming(self, partition: int) -> bool:
        """This worker's consumer has the card's input partition assigned right now."""
        assignment = self._app.consumer.assignment()
        return TP(self._input_topic, partition) in assignment


class Forwarder:
    """Passes a request body on to another worker and relays its answer."""

    def __init__(self, worker_id: str, timeout_s: float) -> None:
        self._worker_id = worker_id
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    async def forward(
        self, url: str, body: bytes, authorization: str | None
    ) -> tuple[int, bytes, dict[str, str]]:
        """(status, body, headers to relay); raises aiohttp.ClientError / TimeoutError."""
        if self._session is None:
            # Created on first use: a session belongs to the running loop.
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        headers = {"Content-Type": "application/json", ROUTED_HEADER: self._worker_id}
        if authorization is not None:
            headers["Authorization"] = authorization
        async with self._session.post(url, data=body, headers=headers) as answer:
            relayed = {
                name: answer.headers[name]
                for name in ("Retry-After", "Content-Type")
                if name in answer.headers
            }
            return answer.status, await answer.read(), relayed

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
