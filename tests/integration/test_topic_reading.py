"""Reading a topic to its end also works when it was written in transactions.

Under exactly_once Faust writes changelogs transactionally; each transaction ends in a commit
marker that takes an offset no consumer receives, so "the last record's offset + 1 == end"
never holds. The chaos check and the parity test read those changelogs.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from confluent_kafka import Producer

from stream import topic_scan
from stream.replay import read_topic
from tests.support import clients
from tests.support.topics import create_topics, unique_topic

pytestmark = pytest.mark.integration

# Each reader: (bootstrap, topic) → the values it read, all within 30 s.
READERS: dict[str, Callable[[str, str], list[bytes | None]]] = {
    "replay.read_topic": lambda b, t: [r.value for r in read_topic(b, t, timeout_s=30)],
    "topic_scan.scan": lambda b, t: [r.value for r in topic_scan.scan(b, t, timeout_s=30)],
    "clients.read_to_end": lambda b, t: [r.value for r in clients.read_to_end(b, t, timeout=30)],
}


@pytest.mark.parametrize("reader", list(READERS))
def test_a_transactionally_written_topic_is_read_to_its_end(
    kafka_bootstrap: str, reader: str
) -> None:
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

    values = READERS[reader](kafka_bootstrap, topic)

    assert sorted((v or b"").decode() for v in values) == sorted(
        f"{batch}-{n}" for batch in range(3) for n in range(4)
    )
