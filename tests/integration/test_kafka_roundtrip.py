"""Plain confluent-kafka against the real broker: topics, keyed partitioning, group commits."""

from __future__ import annotations

import json
import time
import uuid
from collections import defaultdict

import pytest
from aiokafka.partitioner import murmur2
from confluent_kafka import Consumer, TopicPartition

from tests.support.clients import end_offsets, produce
from tests.support.topics import create_topics, unique_topic

pytestmark = pytest.mark.integration

PARTITIONS = 4
CARDS = [f"card-{n:03d}" for n in range(24)]
EVENTS_PER_CARD = 10


def _events() -> list[tuple[bytes, bytes]]:
    # Interleaved across cards, so per-key order is only kept if partitioning is consistent.
    return [
        (card.encode(), json.dumps({"seq": round_ * len(CARDS) + i, "card": card}).encode())
        for round_ in range(EVENTS_PER_CARD)
        for i, card in enumerate(CARDS)
    ]


def _java_partition(key: bytes) -> int:
    """The partition Kafka's Java client (and aiokafka, hence Faust) picks for `key`."""
    return (murmur2(key) & 0x7FFFFFFF) % PARTITIONS


def test_group_reads_every_keyed_message_once_and_commits_to_the_end(
    kafka_bootstrap: str, topic_label: str
) -> None:
    topic = unique_topic(topic_label)
    create_topics(kafka_bootstrap, [topic], partitions=PARTITIONS)
    sent = produce(kafka_bootstrap, topic, _events())

    group = f"test-group-{uuid.uuid4().hex[:8]}"
    consumer = Consumer(
        {
            "bootstrap.servers": kafka_bootstrap,
            "group.id": group,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    received = []
    try:
        consumer.subscribe([topic])
        deadline = time.monotonic() + 60
        while len(received) < len(sent) and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None:
                continue
            assert message.error() is None, message.error()
            received.append(message)
        # Anything beyond the sent messages would be a duplicate; give it a moment to show up.
        extra = consumer.poll(1.0)
        assert extra is None or extra.error() is not None, "more messages than were sent"
        consumer.commit(asynchronous=False)
    finally:
        consumer.close()

    seqs = [json.loads(m.value())["seq"] for m in received]
    assert sorted(seqs) == list(range(len(CARDS) * EVENTS_PER_CARD))  # each exactly once

    partitions_of: dict[bytes, set[int]] = defaultdict(set)
    for message in received:
        partitions_of[message.key()].add(message.partition())
    assert {key: parts for key, parts in partitions_of.items() if len(parts) != 1} == {}
    assert {key: parts.pop() for key, parts in partitions_of.items()} == {
        card.encode(): _java_partition(card.encode()) for card in CARDS
    }
    assert len({r.partition for r in sent}) == PARTITIONS  # the keys really spread out

    # Within a key, consumption order is production order.
    seqs_by_key: dict[bytes, list[int]] = defaultdict(list)
    for message in received:
        seqs_by_key[message.key()].append(json.loads(message.value())["seq"])
    assert all(seq == sorted(seq) for seq in seqs_by_key.values())

    # The broker stored the group's offsets at the end of every partition.
    checker = Consumer({"bootstrap.servers": kafka_bootstrap, "group.id": group})
    try:
        committed = checker.committed(
            [TopicPartition(topic, p) for p in range(PARTITIONS)], timeout=10
        )
    finally:
        checker.close()
    assert {tp.partition: tp.offset for tp in committed} == end_offsets(kafka_bootstrap, topic)
