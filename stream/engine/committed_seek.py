"""The seek to committed offsets in one request, not one per assigned partition.

Replaces, in faust-streaming 0.15.3 / aiokafka 0.14.0: `AIOKafkaConsumer.seek_to_committed`
(aiokafka/consumer/consumer.py ~864-903), which Faust's `perform_seek` calls after every
recovery with no argument, so for every assigned partition (a worker's inputs and all its
tables' changelog partitions, actives and standbys: 10-13 here). It awaits
`committed(tp)` partition by partition, each an OffsetFetch round trip to the group
coordinator, while the worker's inputs wait undecided. Measured here in rolling restarts
under load: 12-51 ms (median 23, twelve handovers) from "Recovery complete" to the fetcher's
start. The coordinator answers many partitions in one OffsetFetch
(`fetch_committed_offsets` takes a list), so one round trip gives the same offsets.
The result and the seeks are aiokafka's own: the committed offset, None where nothing is
committed (left out of `fetch_committed_offsets`' answer), and a seek only where it is above 0.
Delete when: aiokafka fetches the committed offsets of all partitions in one request.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiokafka.structs import TopicPartition


async def committed_offsets_in_one_request(consumer: Any) -> dict[TopicPartition, int | None]:
    """Seek every partition assigned to aiokafka `consumer` to its committed offset, as
    `seek_to_committed()` does, with one OffsetFetch for all of them."""
    partitions = consumer._subscription.assigned_partitions()
    assert partitions, "No partitions are currently assigned"
    fetched = await consumer._coordinator.fetch_committed_offsets(list(partitions))
    committed: dict[TopicPartition, int | None] = {}
    for tp in partitions:
        offset = committed[tp] = fetched[tp].offset if tp in fetched else None
        if offset and offset > 0:
            consumer._fetcher.seek_to(tp, offset)
    return committed


class CommittedSeekInOneRequest:
    """Consumer-thread mixin (Faust's AIOKafkaConsumerThread): `seek_to_committed` with one
    OffsetFetch."""

    async def seek_to_committed(self) -> Mapping[Any, int]:
        this: Any = self
        offsets: Mapping[Any, int] = await this.call_thread(
            committed_offsets_in_one_request, this._ensure_consumer()
        )
        return offsets
