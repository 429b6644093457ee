"""Topics the worker just found in the cluster are not declared again at start.

Replaces, in faust-streaming 0.15.3: `Producer.create_topic` (faust/transport/drivers/aiokafka.py
~1344), for topics known to exist. Each topic Faust declares at start (its leader-assignor
topic and the tables' changelogs, some of them twice) costs a CreateTopics request, answered
TOPIC_ALREADY_EXISTS, and a forced metadata refresh: 12-18 ms of a warm successor's start,
between its "Starting..." and its joining the group, while its partitions wait (measured here
from the worker's log, tests/load/bench_takeover.py). The worker's own topic setup
(stream.topics.ensure_topics) has just listed and checked those topics; for them nothing is
sent. Faust never alters an existing topic's settings either, so nothing is lost; a topic it
declares that was not there (the leader topic on a first start) is created as before.
Delete when: Faust skips declaring topics the cluster already has.
"""

from __future__ import annotations

from typing import Any

from faust.transport.drivers.aiokafka import Producer as AIOKafkaProducer


class SkipKnownTopics:
    """Producer mixin: `create_topic` returns at once for a topic in `known_topics`."""

    known_topics: frozenset[str] = frozenset()

    async def create_topic(self, topic: str, *args: Any, **kwargs: Any) -> None:
        if topic in self.known_topics:
            return
        await super().create_topic(topic, *args, **kwargs)  # type: ignore[misc]


def install_producer(app: Any, known_topics: frozenset[str]) -> None:
    """Make `app` build its producer with SkipKnownTopics (before the producer is first made)."""
    app.transport.Producer = type(
        "EngineProducer", (SkipKnownTopics, AIOKafkaProducer), {"known_topics": known_topics}
    )
