"""Reading a topic once, from a point in time (or its beginning) to the end offsets seen at the
start, headers and timestamps included. For the tools that look at a topic as it is now
(dead-letter inspection, the one-shot audit), never for a process that keeps consuming."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, TopicPartition

from stream.kafka_clients import new_consumer
from stream.redrive import Headers, header_pairs


class ScanError(Exception):
    """The topic is unknown or could not be read to its end in time."""


class UnknownTopicError(ScanError):
    """The broker does not know the topic (it was never created, or has been deleted)."""


@dataclass(frozen=True, slots=True)
class ScannedRecord:
    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes | None
    headers: Headers


def scan(
    bootstrap: str, topic: str, since_ms: int | None = None, timeout_s: float = 60.0
) -> Iterator[ScannedRecord]:
    """Every record of `topic` (with a timestamp ≥ `since_ms`, if given), per partition in
    offset order; partitions interleave. Raises ScanError past `timeout_s`."""
    consumer = new_consumer(
        bootstrap,
        {
            "group.id": f"fraudstream-scan-{uuid.uuid4().hex[:8]}",  # never joined nor committed
            "enable.auto.commit": False,
            "enable.partition.eof": False,
        },
    )
    deadline = time.monotonic() + timeout_s
    try:
        starts, ends = _bounds(consumer, topic, since_ms, timeout_s)
        consumer.assign([TopicPartition(topic, p, starts[p]) for p in ends])
        while not positions_reached(consumer, topic, ends):
            if time.monotonic() > deadline:
                raise ScanError(f"reading {topic} to its end took over {timeout_s} s")
            for message in consumer.consume(5000, 0.2):
                error = message.error()
                if error is not None:
                    raise ScanError(f"{topic}: {error}")
                partition, offset = message.partition(), message.offset()
                assert partition is not None and offset is not None  # set on every record
                if partition not in ends or offset >= ends[partition]:
                    continue  # written after the scan started
                _, timestamp_ms = message.timestamp()
                yield ScannedRecord(
                    partition,
                    offset,
                    timestamp_ms,
                    message.key(),
                    message.value(),
                    header_pairs(message.headers()),
                )
    finally:
        consumer.close()


def positions_reached(consumer: Consumer, topic: str, ends: dict[int, int]) -> bool:
    """Every partition's position at its end offset.

    Positions, not the last record's offset: a topic written in transactions (a changelog
    under exactly_once) ends in a commit marker that no consumer ever receives.
    """
    positions = consumer.position([TopicPartition(topic, p) for p in ends])
    return all(tp.offset >= ends[tp.partition] for tp in positions)


def _bounds(
    consumer: Consumer, topic: str, since_ms: int | None, timeout_s: float
) -> tuple[dict[int, int], dict[int, int]]:
    """Start and end offset of every partition that holds something to read."""
    described = consumer.list_topics(topic, timeout=timeout_s).topics.get(topic)
    error = described.error if described is not None else None
    if described is None or (error is None and not described.partitions) or _unknown(error):
        raise UnknownTopicError(f"topic {topic} is unknown to the broker")
    if error is not None:  # the topic exists but cannot be read now (e.g. no leader, no access)
        raise ScanError(f"topic {topic}: {error}")
    deadline = time.monotonic() + timeout_s
    marks = {
        p: partition_watermarks(consumer, TopicPartition(topic, p), deadline)
        for p in described.partitions
    }
    starts = dict.fromkeys(marks, OFFSET_BEGINNING)
    if since_ms is not None:
        found = consumer.offsets_for_times(
            [TopicPartition(topic, p, since_ms) for p in marks], timeout=timeout_s
        )
        # -1: nothing at or after that time in this partition.
        starts = {tp.partition: tp.offset if tp.offset >= 0 else -1 for tp in found}
    ends = {
        p: high
        for p, (low, high) in marks.items()
        if high > low and starts[p] != -1 and starts[p] < high
    }
    return starts, ends


def partition_watermarks(
    consumer: Consumer, partition: TopicPartition, deadline: float
) -> tuple[int, int]:
    """Low and high watermark of one partition, retried while the broker says it is moving.

    A topic created a moment ago (or a partition whose leader is being elected) answers
    NOT_LEADER_FOR_PARTITION or LEADER_NOT_AVAILABLE for a short while; that is a wait, not
    a failure of the scan.
    """
    while True:
        remaining = max(0.1, deadline - time.monotonic())
        try:
            return consumer.get_watermark_offsets(partition, timeout=remaining)
        except KafkaException as failure:
            error = failure.args[0] if failure.args else None
            retriable = isinstance(error, KafkaError) and (
                error.retriable() or error.code() in _LEADER_MOVING_CODES
            )
            if not retriable or time.monotonic() + _LEADER_RETRY_S > deadline:
                raise
            time.sleep(_LEADER_RETRY_S)


_LEADER_RETRY_S = 0.2
_LEADER_MOVING_CODES = frozenset(
    {KafkaError.NOT_LEADER_FOR_PARTITION, KafkaError.LEADER_NOT_AVAILABLE}
)


def _unknown(error: KafkaError | None) -> bool:
    return error is not None and error.code() in _UNKNOWN_TOPIC_CODES


_UNKNOWN_TOPIC_CODES = frozenset({KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError._UNKNOWN_TOPIC})
