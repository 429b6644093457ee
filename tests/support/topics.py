"""Topic names that never collide between tests, and topics that are ready when returned."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping

from confluent_kafka.admin import AdminClient, NewTopic

from stream.topics import wait_for_topics

__all__ = ["create_topics", "unique_topic", "wait_for_topics"]


def unique_topic(label: str) -> str:
    """A fresh topic name carrying `label` (e.g. the test name), so topics stay recognisable."""
    slug = re.sub(r"[^a-zA-Z0-9._-]+", "-", label).strip("-")[:60] or "topic"
    return f"test.{slug}.{uuid.uuid4().hex[:10]}"


def create_topics(
    bootstrap: str,
    names: Iterable[str],
    partitions: int = 4,
    config: Mapping[str, str] | None = None,
    timeout: float = 30.0,
) -> None:
    """Create topics and wait until every partition has a leader, so producers never stall."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    wanted = list(names)
    futures = admin.create_topics(
        [NewTopic(name, partitions, 1, config=dict(config or {})) for name in wanted],
        operation_timeout=timeout,
        request_timeout=timeout,
    )
    for future in futures.values():
        future.result(timeout)
    wait_for_topics(admin, wanted, partitions, timeout)
