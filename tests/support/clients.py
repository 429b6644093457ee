"""Producing test records and reading topics back, every wait bounded."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    Message,
    Producer,
    TopicPartition,
)

from stream.kafka_clients import new_consumer, new_producer
from stream.topic_scan import positions_reached


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


def java_compatible_producer(bootstrap: str, **extra: str | int) -> Producer:
    """A producer that puts a key on the partition the Java client and aiokafka (Faust) choose.

    confluent-kafka's default partitioner hashes with CRC32; Kafka's reference clients use murmur2.
    """
    settings: dict[str, str | int] = {
        "partitioner": "murmur2_random",
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 5,
    }
    settings.update(extra)
    return new_producer(bootstrap, settings)


def produce(
    bootstrap: str,
    topic: str,
    records: Iterable[tuple[bytes | None, bytes]],
    timeout: float = 30.0,
) -> list[Record]:
    """Send (key, value) pairs; return where each landed, in sending order. Raises on failure."""
    producer = java_compatible_producer(bootstrap)
    delivered: dict[int, Record] = {}
    errors: list[str] = []

    def report(index: int) -> Callable[[KafkaError | None, Message], None]:
        def on_delivery(error: KafkaError | None, message: Message) -> None:
            if error is not None:
                errors.append(str(error))
                return
            delivered[index] = Record(
                topic, message.partition(), message.offset(), message.key(), message.value()
            )

        return on_delivery

    count = 0
    for count, (key, value) in enumerate(records, start=1):
        producer.produce(topic, key=key, value=value, on_delivery=report(count - 1))
        producer.poll(0)
    remaining = producer.flush(timeout)
    if remaining or errors or len(delivered) != count:
        raise RuntimeError(
            f"produce to {topic}: {remaining} undelivered after {timeout} s, errors {errors[:5]}"
        )
    return [delivered[index] for index in range(count)]


def end_offsets(bootstrap: str, topic: str, timeout: float = 10.0) -> dict[int, int]:
    """High watermark of every partition of `topic`."""
    consumer = _reader(bootstrap)
    try:
        return {p: high for p, (_, high) in _watermarks(consumer, topic, timeout).items()}
    finally:
        consumer.close()


def read_to_end(bootstrap: str, topic: str, timeout: float = 30.0) -> list[Record]:
    """Every record now in `topic`: from the beginning to the end offsets seen at call time.

    Done when every partition's position reaches its end offset, not when a record at end - 1
    arrives: a topic written in transactions ends in a commit marker no consumer receives.
    """
    consumer = _reader(bootstrap)
    try:
        marks = _watermarks(consumer, topic, timeout)
        ends = {p: high for p, (low, high) in marks.items() if high > low}
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in ends])
        records: list[Record] = []
        deadline = time.monotonic() + timeout
        while not positions_reached(consumer, topic, ends):
            if time.monotonic() >= deadline:
                reached = {
                    tp.partition: tp.offset
                    for tp in consumer.position([TopicPartition(topic, p) for p in ends])
                }
                raise TimeoutError(f"{topic}: read up to {reached}, end offsets {ends}")
            message = consumer.poll(0.2)
            if message is None:
                continue
            if message.error() is not None:
                raise RuntimeError(f"{topic}: {message.error()}")
            partition, offset = message.partition(), message.offset()
            assert partition is not None and offset is not None  # set on consumed records
            if partition not in ends or offset >= ends[partition]:
                continue  # written after the call
            records.append(Record(topic, partition, offset, message.key(), message.value()))
        return records
    finally:
        consumer.close()


def wait_for_records(bootstrap: str, topic: str, count: int, timeout: float = 60.0) -> list[Record]:
    """Wait until `topic` holds at least `count` records, then return all it holds."""
    deadline = time.monotonic() + timeout
    total = 0
    while True:
        total = sum(end_offsets(bootstrap, topic).values())
        if total >= count:
            return read_to_end(bootstrap, topic, max(1.0, deadline - time.monotonic()))
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{topic}: {total} records after {timeout} s, expected {count}")
        time.sleep(0.2)


def _reader(bootstrap: str) -> Consumer:
    # A throwaway group id: assign() never joins it, and nothing is committed.
    return new_consumer(
        bootstrap,
        {
            "group.id": f"test-reader-{uuid.uuid4().hex[:8]}",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
        },
    )


def _watermarks(consumer: Consumer, topic: str, timeout: float) -> dict[int, tuple[int, int]]:
    metadata = consumer.list_topics(topic, timeout=timeout)
    described = metadata.topics.get(topic)
    if described is None or described.error is not None or not described.partitions:
        raise RuntimeError(f"topic {topic} unknown to the broker")
    return {
        partition: consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=timeout)
        for partition in described.partitions
    }


def wait_for_ids(
    bootstrap: str,
    topic: str,
    expected: set[str],
    id_of: Callable[[bytes], str],
    timeout: float = 120.0,
) -> list[Record]:
    """Wait until every id in `expected` appears in `topic` (duplicates allowed); return all."""
    deadline = time.monotonic() + timeout
    while True:
        records = read_to_end(bootstrap, topic, max(1.0, deadline - time.monotonic()))
        seen = {id_of(r.value or b"") for r in records}
        if expected <= seen:
            return records
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{topic}: {len(expected - seen)} ids missing after {timeout} s")
        time.sleep(1.0)
