"""The seek to committed offsets in one request gives what aiokafka's own gives (real broker)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import OffsetAndMetadata, TopicPartition
from confluent_kafka import Producer

from stream.engine.committed_seek import committed_offsets_in_one_request
from tests.support.topics import create_topics, unique_topic

pytestmark = pytest.mark.integration

PARTITIONS = 5
RECORDS_PER_PARTITION = 12
# Partition → committed offset; partition 4 has none. 0 is committed but not sought (as aiokafka).
COMMITTED = {0: 7, 1: 0, 2: 12, 3: 1}


async def _seek_both_ways(bootstrap: str, topic: str, group: str) -> tuple[Any, ...]:
    partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
    own, batched = (
        AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
        for _ in range(2)
    )
    await own.start()
    await batched.start()
    try:
        own.assign(partitions)
        await own.commit({partitions[p]: OffsetAndMetadata(o, "") for p, o in COMMITTED.items()})
        batched.assign(partitions)
        requests = []
        fetch = batched._coordinator.fetch_committed_offsets

        async def counted(tps: list[TopicPartition]) -> Any:
            requests.append(sorted(tps))
            return await fetch(tps)

        batched._coordinator.fetch_committed_offsets = counted
        expected = await own.seek_to_committed()
        got = await committed_offsets_in_one_request(batched)
        positions = {
            tp.partition: (await own.position(tp), await batched.position(tp)) for tp in partitions
        }
        return expected, got, requests, positions
    finally:
        await own.stop()
        await batched.stop()


def test_one_request_seeks_where_aiokafka_seeks_and_returns_the_same_offsets(
    kafka_bootstrap: str, topic_label: str
) -> None:
    topic = unique_topic(topic_label)
    create_topics(kafka_bootstrap, [topic], partitions=PARTITIONS)
    producer = Producer({"bootstrap.servers": kafka_bootstrap})
    for partition in range(PARTITIONS):
        for n in range(RECORDS_PER_PARTITION):
            producer.produce(topic, value=f"{partition}-{n}".encode(), partition=partition)
    assert producer.flush(30) == 0

    group = f"test-seek-{uuid.uuid4().hex[:8]}"
    expected, got, requests, positions = asyncio.run(_seek_both_ways(kafka_bootstrap, topic, group))

    assert got == expected
    assert {tp.partition: offset for tp, offset in got.items()} == {
        0: 7,
        1: 0,
        2: 12,
        3: 1,
        4: None,
    }
    assert len(requests) == 1  # one OffsetFetch for all five partitions
    assert [tp.partition for tp in requests[0]] == list(range(PARTITIONS))
    # Same positions: sought to the committed offset where it is above 0; elsewhere the
    # consumer's reset (latest by default) decides, for both alike.
    for partition, (own_position, batched_position) in positions.items():
        assert batched_position == own_position, partition
    assert positions[0][1] == 7 and positions[2][1] == 12 and positions[3][1] == 1
