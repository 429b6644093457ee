"""Reading a topic to its end also works when it was written in transactions.

Under exactly_once Faust writes changelogs transactionally; each transaction ends in a commit
marker that takes an offset no consumer receives, so "the last record's offset + 1 == end"
never holds. The chaos check and the parity test read those changelogs.
"""

from __future__ import annotations

import uuid

import pytest
from confluent_kafka import Producer

from stream.replay import read_topic
from tests.support.topics import create_topics, unique_topic

pytestmark = pytest.mark.integration


def test_a_transactionally_written_topic_is_read_to_its_end(kafka_bootstrap: str) -> None:
    topic = unique_topic("transactional")
    create_topics(kafka_bootstrap, [topic], partitions=2)
    producer = Producer(
        {"bootstrap.servers": kafka_bootstrap, "transactional.id": f"t-{uuid.uuid4().hex}"}
    )
    producer.init_transactions(30)
    for batch in range(3):
        producer.begin_transaction()
        for n in range(4):
            producer.produce(topic, f"{batch}-{n}".encode(), f"k{n}".encode())
        producer.commit_transaction(30)
    producer.begin_transaction()
    producer.produce(topic, b"aborted", b"k0")
    producer.abort_transaction(30)

    records = read_topic(kafka_bootstrap, topic, timeout_s=30)

    assert sorted((r.value or b"").decode() for r in records) == sorted(
        f"{batch}-{n}" for batch in range(3) for n in range(4)
    )
