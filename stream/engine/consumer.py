"""Faust's aiokafka consumer with the consumer-side overrides of this package, per app."""

from __future__ import annotations

from typing import Any

from faust.transport.drivers.aiokafka import Consumer as AIOKafkaConsumer

from stream.engine.direct_delivery import DirectDelivery
from stream.engine.positioning import Positioning
from stream.engine.prompt_fetch import PromptFetch, PromptFetchConsumerThread
from stream.engine.release_after_commit import ReleaseAfterCommit


def install_consumer(
    app: Any,
    fetch_max_wait_ms: int,
    gapless_topics: set[str],
    fixes: bool = True,
    fetch_flow_wait_ms: int = 5,
    fetch_flow_min_bytes: int = 1,
) -> None:
    """Make `app` build its consumer from the overrides (before the consumer is first created).

    `gapless_topics`: the stream topics that are neither compacted nor written transactionally,
    so any jump in their offsets is a stale delivery (see stream.engine.delivery_guard).
    `fixes=False` keeps only the speed overrides (prompt fetches, direct delivery): for
    reproducing the engine's delivery defects (stream.engine.active_only included).
    """
    PromptFetchConsumerThread.fetch_max_wait_ms = fetch_max_wait_ms
    PromptFetchConsumerThread.fetch_flow_wait_ms = fetch_flow_wait_ms
    PromptFetchConsumerThread.fetch_flow_min_bytes = fetch_flow_min_bytes
    PromptFetchConsumerThread.drain_only_active = fixes
    app.transport.Consumer = type(
        "EngineConsumer",
        (ReleaseAfterCommit, DirectDelivery, Positioning, PromptFetch, AIOKafkaConsumer),
        {
            "gapless_topics": frozenset(gapless_topics if fixes else ()),
            "position_every_partition": fixes,
        },
    )
