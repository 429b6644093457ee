"""Publishing a scored request to the input topic, where the stream decides it.

Its own librdkafka producer, without linger: a request waits for its record's round trip, and
the stream's output producer must not wait for (or be flushed with) request traffic.
"""

from __future__ import annotations

import asyncio
from typing import Any

from confluent_kafka import KafkaError

from stream.decision_path.answers import Answer
from stream.kafka_clients import new_producer
from stream.settings import KafkaSecurity


class RequestPublisher:
    def __init__(
        self, bootstrap: str, client_id: str, topic: str, security: KafkaSecurity | None = None
    ) -> None:
        self._topic = topic
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

    def prepare(self, timeout_s: float = 30.0) -> None:
        """Fetch the topic's metadata now, so the first request does not wait for it."""
        self._producer.list_topics(self._topic, timeout=timeout_s)

    def publish(
        self, key: bytes, value: bytes, partition: int, answer: asyncio.Future[Answer]
    ) -> None:
        """Queue the record on the card's partition; a failed delivery answers `answer`."""

        def on_delivery(error: KafkaError | None, _message: Any) -> None:
            if error is not None and not answer.done():
                answer.set_result(Answer(None, f"the transaction was not published: {error}"))

        self._producer.produce(
            self._topic, value, key, partition=partition, on_delivery=on_delivery
        )
        self._producer.poll(0)

    def poll(self) -> None:
        """Serve delivery reports (they run on the calling thread: the event loop's)."""
        self._producer.poll(0)

    def close(self, timeout_s: float = 5.0) -> int:
        left: int = self._producer.flush(timeout_s)
        return left
