"""Publishing an online-decided transaction to the input topic, and awaiting the broker's answer.

Its own librdkafka producer, without linger, acks=all and idempotent: a request is answered
only once its record (with the decision it carries) is acknowledged by every in-sync replica,
so an answered decision survives the worker. The stream's output producer must not wait for
(or be flushed with) request traffic.

Delivery reports run on the thread that polls: here a thread of its own, blocked in librdkafka
(without the GIL) until a report comes, which hands it to the event loop at once. Polling from
the loop instead would mean a timer: a delay per report, or a wake-up every millisecond.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Sequence
from typing import Any

from confluent_kafka import KafkaError

from stream.kafka_clients import new_producer
from stream.settings import KafkaSecurity

POLL_TIMEOUT_S = 0.2  # how soon the reporting thread notices close()


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
        self._closing = threading.Event()
        self._reporter: threading.Thread | None = None

    def prepare(self, timeout_s: float = 30.0) -> None:
        """Fetch the topic's metadata now, so the first request does not wait for it."""
        self._producer.list_topics(self.topic, timeout=timeout_s)

    def publish(
        self,
        key: bytes,
        value: bytes,
        partition: int,
        headers: Sequence[tuple[str, bytes]],
        settle: Callable[[str | None], None],
    ) -> None:
        """Queue the record on the card's partition; `settle` gets None (on the event loop's
        thread) once the broker acknowledged it, or why it was not written. Called once."""

        loop = asyncio.get_running_loop()

        def on_delivery(error: KafkaError | None, _message: Any) -> None:
            # On the reporting thread: what waits belongs to the loop.
            why = None if error is None else f"the transaction was not published: {error}"
            with contextlib.suppress(RuntimeError):  # the loop closed: nobody waits any more
                loop.call_soon_threadsafe(settle, why)

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
            settle(f"the request producer's queue is full: {exc}")
            return
        if self._reporter is None:
            self._reporter = threading.Thread(
                target=self._serve_reports, name="api-delivery-reports", daemon=True
            )
            self._reporter.start()

    def _serve_reports(self) -> None:
        while not self._closing.is_set():
            self._producer.poll(POLL_TIMEOUT_S)

    def close(self, timeout_s: float = 5.0) -> int:
        self._closing.set()
        if self._reporter is not None:
            self._reporter.join(POLL_TIMEOUT_S * 5)
        left: int = self._producer.flush(timeout_s)
        return left
