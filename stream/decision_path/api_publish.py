"""Publishing an online-decided transaction to the input topic, and awaiting the broker's answer.

Its own librdkafka producer, without linger, acks=all and idempotent: a request is answered
only once its record (with the decision it carries) is acknowledged by every in-sync replica,
so an answered decision survives the worker. The stream's output producer must not wait for
(or be flushed with) request traffic.

Delivery reports run on the thread that polls: here the event loop's. While records are in
flight a task polls every millisecond, so a report is seen within about one; idle, nothing polls.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from confluent_kafka import KafkaError

from stream.kafka_clients import new_producer
from stream.settings import KafkaSecurity

POLL_INTERVAL_S = 0.001


class RequestPublisher:
    def __init__(
        self, bootstrap: str, client_id: str, topic: str, security: KafkaSecurity | None = None
    ) -> None:
        self.topic = topic
        self._producer = new_producer(
            bootstrap,
            {
                "client.id": client_id,
                "enable.idempotence": True,
                "acks": "all",
                "linger.ms": 0,
                "partitioner": "murmur2_random",
            },
            security,
        )
        self._poller: asyncio.Task[None] | None = None

    def prepare(self, timeout_s: float = 30.0) -> None:
        """Fetch the topic's metadata now, so the first request does not wait for it."""
        self._producer.list_topics(self.topic, timeout=timeout_s)

    def publish(
        self,
        key: bytes,
        value: bytes,
        partition: int,
        headers: Sequence[tuple[str, bytes]],
        delivered: asyncio.Future[str | None],
    ) -> None:
        """Queue the record on the card's partition; `delivered` gets None once the broker
        acknowledged it, or why it was not written."""

        def on_delivery(error: KafkaError | None, _message: Any) -> None:
            if not delivered.done():
                delivered.set_result(
                    None if error is None else f"the transaction was not published: {error}"
                )

        try:
            self._producer.produce(
                self.topic,
                value,
                key,
                partition=partition,
                headers=list(headers),
                on_delivery=on_delivery,
            )
        except BufferError as exc:
            delivered.set_result(f"the request producer's queue is full: {exc}")
            return
        self._producer.poll(0)
        if self._poller is None or self._poller.done():
            self._poller = asyncio.get_running_loop().create_task(self._poll_while_in_flight())

    async def _poll_while_in_flight(self) -> None:
        while len(self._producer) > 0:
            await asyncio.sleep(POLL_INTERVAL_S)
            self._producer.poll(0)

    def poll(self) -> None:
        """Serve delivery reports now."""
        self._producer.poll(0)

    def close(self, timeout_s: float = 5.0) -> int:
        left: int = self._producer.flush(timeout_s)
        return left
