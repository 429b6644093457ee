"""Topic names that never collide between tests, and topics that are ready when returned."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterable, Mapping

from confluent_kafka.admin import AdminClient, NewTopic


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


def wait_for_topics(
    admin: AdminClient, names: Iterable[str], partitions: int, timeout: float = 30.0
) -> None:
    deadline = time.monotonic() + timeout
    pending = set(names)
    while pending:
        metadata = admin.list_topics(timeout=max(0.1, deadline - time.monotonic()))
        for name in list(pending):
            topic = metadata.topics.get(name)
            if (
                topic is not None
                and topic.error is None
                and len(topic.partitions) == partitions
                and all(p.leader >= 0 for p in topic.partitions.values())
            ):
                pending.discard(name)
        if pending and time.monotonic() >= deadline:
            raise TimeoutError(f"topics not ready within {timeout} s: {sorted(pending)}")
        if pending:
            time.sleep(0.1)
