"""Creating the topics the worker reads and writes (Faust creates its own changelog topics)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from stream.kafka_clients import new_admin
from stream.settings import Settings

# A dead letter carries the original bytes base64-encoded (4/3 of their size) plus its
# explanation, and the input may be as large as the broker's default limit (1 MB).
DEAD_LETTER_MAX_BYTES = 2 * 1024 * 1024


CARD_STATE_TABLE = "card-state"
MERCHANT_PARTIALS_TABLE = "merchant-partials"
STATE_TABLES = (CARD_STATE_TABLE, MERCHANT_PARTIALS_TABLE)


def changelog_topic(settings: Settings, table: str) -> str:
    """The compacted topic a state table is restored from (Faust's naming)."""
    return f"{settings.app_id}-{table}-changelog"


class TopicSetupError(Exception):
    """A topic could not be created or has the wrong shape."""


def topic_plan(settings: Settings) -> dict[str, tuple[int, dict[str, str]]]:
    """name → (partitions, config). State-bearing topics share the input's partition count."""
    n = settings.partitions
    topics = settings.topics
    compacted = {"cleanup.policy": "compact"}
    return {
        topics.transactions: (n, {}),
        topics.dead_letters: (n, {"max.message.bytes": str(DEAD_LETTER_MAX_BYTES)}),
        topics.decisions: (n, {}),
        topics.scoring_log: (n, {}),
        topics.labels: (n, {}),
        topics.drift_reports: (1, {}),
        topics.model_control: (1, compacted),
        topics.audit: (1, {}),
        topics.dlq_replays: (1, compacted),
        # Faust creates its changelogs itself at start, and a stage whose changelog was created a
        # moment ago can miss it in the metadata ("not found in cluster metadata": the agent
        # crash-loops; seen on a fresh broker). Created here, they are there before Faust asks.
        **{changelog_topic(settings, table): (n, compacted) for table in STATE_TABLES},
    }


def ensure_topics(settings: Settings, timeout_s: float = 30.0) -> frozenset[str]:
    """Create missing topics; refuse a state-bearing topic with another partition count.
    Returns the names of the topics the cluster has now (those found and those created)."""
    admin = new_admin(settings.kafka_bootstrap, security=settings.kafka)
    plan = topic_plan(settings)
    existing = admin.list_topics(timeout=timeout_s).topics
    missing = [
        NewTopic(
            name, num_partitions=parts, replication_factor=settings.replication_factor, config=cfg
        )
        for name, (parts, cfg) in plan.items()
        if name not in existing
    ]
    if missing:
        for name, future in admin.create_topics(missing, request_timeout=timeout_s).items():
            try:
                future.result(timeout=timeout_s)
            except Exception as error:
                if "TOPIC_ALREADY_EXISTS" not in str(error):
                    raise TopicSetupError(f"cannot create topic {name}: {error}") from error
    try:
        # Any partition count here: a wrong one is refused below with its reason.
        metadata = wait_for_topics(admin, plan, None, timeout_s)
    except (TimeoutError, KafkaException) as error:
        raise TopicSetupError(
            f"topics not ready after creation (each in the metadata without error and with a "
            f"leader for every partition): {error}"
        ) from error
    for name in (settings.topics.transactions, *changelog_names(settings)):
        actual = len(metadata[name].partitions)
        if actual != settings.partitions:
            raise TopicSetupError(
                f"topic {name} has {actual} partitions but FRAUD_PARTITIONS={settings.partitions}: "
                "per-card state is partitioned like the input, so the two must agree"
            )
    found = {name for name, topic in existing.items() if topic.error is None}
    return frozenset(found) | frozenset(metadata)


def changelog_names(settings: Settings) -> list[str]:
    return [changelog_topic(settings, table) for table in STATE_TABLES]


def wait_for_topics(
    admin: AdminClient, names: Iterable[str], partitions: int | None, timeout: float = 30.0
) -> dict[str, Any]:
    """Wait until every topic in `names` shows in the metadata without error, with `partitions`
    partitions (any number if None) that all have a leader; return their metadata.

    A freshly created topic can be missing from the next metadata answer for a moment (seen on
    a broker that had just started), or be there without leaders yet; that is a wait, not an
    error. Raises TimeoutError past `timeout`.
    """
    deadline = time.monotonic() + timeout
    pending = set(names)
    ready: dict[str, Any] = {}  # name → its confluent_kafka TopicMetadata
    while pending:
        metadata = admin.list_topics(timeout=max(0.1, deadline - time.monotonic()))
        for name in list(pending):
            topic = metadata.topics.get(name)
            if (
                topic is not None
                and topic.error is None
                and (partitions is None or len(topic.partitions) == partitions)
                and all(p.leader >= 0 for p in topic.partitions.values())
            ):
                pending.discard(name)
                ready[name] = topic
        if pending and time.monotonic() >= deadline:
            raise TimeoutError(f"topics not ready within {timeout} s: {sorted(pending)}")
        if pending:
            time.sleep(0.1)
    return ready
