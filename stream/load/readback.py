"""Decisions read as they are written, each joined to the moment its input was sent.

The reader is assigned at the decisions topic's end offsets before the first record is sent,
so it sees exactly this run's decisions (and any other traffic's, which it ignores by id).
Produce → decision is measured on one clock, this process's: sent just before produce(),
read when the decision record reaches this consumer.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from confluent_kafka import TopicPartition

from stream.kafka_clients import new_consumer
from stream.prompt_reading import take_available
from stream.topic_scan import partition_watermarks


def transaction_id_of(value: bytes) -> bytes:
    """The id from transaction or decision JSON, without decoding the rest."""
    return value.split(b'"transaction_id":"', 1)[1].split(b'"', 1)[0]


@dataclass
class Readback:
    sent_at: dict[bytes, float] = field(default_factory=dict)  # id -> time.time() at send
    read_at: dict[bytes, float] = field(default_factory=dict)  # id -> first decision read
    fallbacks: int = 0
    duplicates: int = 0  # decisions read again for an id (at-least-once redelivery)

    def latencies_ms(self) -> list[float]:
        return [1000 * (read - self.sent_at[key]) for key, read in self.read_at.items()]


class DecisionReader:
    """Reads `topic` in a thread from its current end until `stop()`."""

    def __init__(self, bootstrap: str, topic: str, readback: Readback) -> None:
        self._consumer = new_consumer(
            bootstrap,
            {
                "group.id": f"fraudstream-load-{time.time_ns()}",
                "enable.auto.commit": False,
                "fetch.wait.max.ms": 10,
            },
        )
        partitions = self._consumer.list_topics(topic, timeout=30).topics[topic].partitions
        ends = []
        deadline = time.monotonic() + 30
        for p in partitions:
            _, high = partition_watermarks(self._consumer, TopicPartition(topic, p), deadline)
            ends.append(TopicPartition(topic, p, high))
        self._consumer.assign(ends)
        self.readback = readback
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._read, name="decision-reader", daemon=True)
        # Fetching before the traffic starts: the first poll connects and resolves offsets,
        # which would otherwise land on the first records' latency.
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            self._consumer.poll(0.1)
        self._thread.start()

    def decided(self) -> int:
        with self._lock:
            return len(self.readback.read_at)

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(30)
        self._consumer.close()

    def _read(self) -> None:
        back = self.readback
        while not self._stopping.is_set():
            for message in take_available(self._consumer, 1000, 0.1):
                value = message.value()
                if message.error() is not None or not value:
                    continue
                now = time.time()
                key = transaction_id_of(value)
                with self._lock:
                    if key not in back.sent_at:
                        continue
                    if key in back.read_at:
                        back.duplicates += 1
                        continue
                    back.read_at[key] = now
                    back.fallbacks += b'"fallback":true' in value
