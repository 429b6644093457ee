"""Re-producing original input bytes to the input topic, with headers saying why.

Shared by the dead-letter replay (`fraudstream dlq replay`, header `fraudstream-replay-of`) and
the outcome audit's re-drive of inputs that got no outcome (`fraudstream-redrive-of`). A copy
keeps the original key and value byte for byte and goes to the original partition: the card
state of that key lives there, so the worker recognises a transaction it has already applied
and a copy can never double-count state. Only the Kafka timestamp is new (the copy arrives now).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from confluent_kafka import KafkaError, Message, TopicPartition

from stream.kafka_clients import new_consumer, new_producer

REPLAY_OF_HEADER = "fraudstream-replay-of"
"""On a replayed dead letter: the dead_letter_id."""
REDRIVE_OF_HEADER = "fraudstream-redrive-of"
"""On a re-driven input: `topic/partition/offset` of the original; believed only when sealed
(stream.redrive_seal), as any producer can set it."""
REDRIVE_ATTEMPT_HEADER = "fraudstream-redrive-attempt"
"""On a re-driven input: 1 for the first re-drive of that original, 2 for the next, ..."""

Coords = tuple[int, int]  # (partition, offset) within one topic


class RedriveError(Exception):
    """Copies could not be produced, or originals could not be read back."""


@dataclass(frozen=True)
class Copy:
    """One record to produce: the original key and value, its partition, the provenance."""

    partition: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]


@dataclass(frozen=True)
class Original:
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp_ms: int


def redrive_of(
    topic: str, partition: int, offset: int, attempt: int
) -> tuple[tuple[str, bytes], ...]:
    """The headers of the `attempt`-th re-drive of the input at these coordinates."""
    return (
        (REDRIVE_OF_HEADER, f"{topic}/{partition}/{offset}".encode()),
        (REDRIVE_ATTEMPT_HEADER, str(attempt).encode()),
    )


def replay_of(dead_letter_id: str) -> tuple[tuple[str, bytes], ...]:
    return ((REPLAY_OF_HEADER, dead_letter_id.encode()),)


@dataclass(frozen=True)
class Provenance:
    """What the headers of an input say about where it came from; all None for a plain input.

    `provenance` reads what the headers claim; only the audit's seal makes a re-drive claim
    trustworthy (stream.redrive_seal.verified_provenance), else `unverified_redrive` is set.
    """

    redrive_of: tuple[str, int, int] | None = None
    redrive_attempt: int = 0
    replay_of: str | None = None
    unverified_redrive: bool = False  # a re-drive header whose seal did not verify


PLAIN = Provenance()


Headers = tuple[tuple[str, bytes | None], ...]


def header_pairs(
    raw: Mapping[str, str | bytes | None] | Iterable[tuple[str, str | bytes | None]] | None,
) -> Headers:
    """A client's headers (a list of pairs, or a dict) as (name, bytes) pairs."""
    if not raw:
        return ()
    pairs = raw.items() if isinstance(raw, Mapping) else raw
    return tuple(
        (name, value.encode() if isinstance(value, str) else value) for name, value in pairs
    )


def provenance(headers: Headers | None) -> Provenance:
    """Read the provenance headers; malformed ones are ignored (the input counts as plain)."""
    if not headers:
        return PLAIN
    found = {name: value for name, value in headers if value is not None}
    target = _parse_coords(found.get(REDRIVE_OF_HEADER))
    replayed = found.get(REPLAY_OF_HEADER)
    if target is None and replayed is None:
        return PLAIN
    attempt = found.get(REDRIVE_ATTEMPT_HEADER, b"1")
    return Provenance(
        redrive_of=target,
        redrive_attempt=int(attempt) if target is not None and attempt.isdigit() else 0,
        replay_of=replayed.decode(errors="replace") if replayed is not None else None,
    )


def _parse_coords(raw: bytes | None) -> tuple[str, int, int] | None:
    if raw is None:
        return None
    topic, _, rest = raw.decode(errors="replace").rpartition("/")
    topic, _, partition = topic.rpartition("/")
    if not topic or not partition.isdigit() or not rest.isdigit():
        return None
    return topic, int(partition), int(rest)


class Redriver:
    """A producer of copies to one topic; `send` returns only once each copy is delivered."""

    def __init__(self, bootstrap: str, topic: str, client_id: str) -> None:
        self.topic = topic
        self._producer = new_producer(
            bootstrap,
            {
                "client.id": client_id,
                "enable.idempotence": True,
                "acks": "all",
                "linger.ms": 5,
                # Inputs up to the broker's default limit (1 MB) come back unchanged.
                "message.max.bytes": 2 * 1024 * 1024,
            },
        )

    def send(self, copies: Sequence[Copy], timeout_s: float = 30.0) -> list[int | str]:
        """Produce the copies; per copy, in order, its offset or why it was not delivered."""
        results: list[int | str] = ["not delivered within the timeout"] * len(copies)

        def report(index: int) -> Any:
            def on_delivery(error: KafkaError | None, message: Message) -> None:
                offset = message.offset()
                results[index] = str(error) if error is not None or offset is None else offset

            return on_delivery

        for index, copy in enumerate(copies):
            self._producer.produce(
                self.topic,
                copy.value,
                copy.key,
                partition=copy.partition,
                headers=list(copy.headers),
                on_delivery=report(index),
            )
            self._producer.poll(0)
        self._producer.flush(timeout_s)
        return results

    def close(self, timeout_s: float = 10.0) -> None:
        self._producer.flush(timeout_s)


def read_originals(
    bootstrap: str, topic: str, wanted: Iterable[Coords], timeout_s: float = 30.0
) -> dict[Coords, Original]:
    """The records at these coordinates (those still in the topic), read with a throwaway
    consumer: the audit keeps only coordinates while it waits, not every input's bytes."""
    by_partition: dict[int, set[int]] = {}
    for wanted_partition, wanted_offset in wanted:
        by_partition.setdefault(wanted_partition, set()).add(wanted_offset)
    if not by_partition:
        return {}
    consumer = new_consumer(
        bootstrap,
        {
            "group.id": f"fraudstream-redrive-read-{uuid.uuid4().hex[:8]}",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
        },
    )
    found: dict[Coords, Original] = {}
    try:
        # One pass per partition from its first wanted offset; gaps are read through, which is
        # cheap next to a seek per record as long as the wanted offsets lie close together.
        consumer.assign(
            [TopicPartition(topic, p, min(offsets)) for p, offsets in by_partition.items()]
        )
        last = {p: max(offsets) for p, offsets in by_partition.items()}
        open_partitions = set(by_partition)
        deadline = time.monotonic() + timeout_s
        while open_partitions:
            if time.monotonic() > deadline:
                raise RedriveError(f"reading originals from {topic} took over {timeout_s} s")
            for message in consumer.consume(1000, 0.2):
                partition, offset = message.partition(), message.offset()
                if partition is None or partition not in open_partitions:
                    continue
                error = message.error()
                if error is not None:
                    if error.code() == KafkaError._PARTITION_EOF:
                        open_partitions.discard(partition)  # the rest is gone or not there
                        continue
                    raise RedriveError(f"{topic}/{partition}: {error}")
                assert offset is not None  # set on every record
                if offset in by_partition[partition]:
                    _, timestamp_ms = message.timestamp()
                    assert timestamp_ms is not None  # set on every record
                    found[(partition, offset)] = Original(
                        partition, offset, message.key(), message.value(), timestamp_ms
                    )
                if offset >= last[partition]:
                    open_partitions.discard(partition)
        return found
    finally:
        consumer.close()
