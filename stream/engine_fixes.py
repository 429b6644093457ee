"""The one place fraudstream overrides Faust internals, pinned to the versions it was written for.

Fix: after table recovery, faust-streaming 0.15.3 resumes the input partitions, then seeks them
to their committed offsets, then resumes flow control — and resuming flow control empties
every clear-on-resume queue, the agents' input channels included
(`faust/tables/recovery.py` `Recovery.on_recovery_completed` ~624-667 and `_resume_streams`
~306-334; `mode/utils/queues.py` `FlowControlEvent.resume`). The fetcher already runs, so input
records fetched between the partition resume and the queue clear are counted as read
(`Consumer._read_offset`), then thrown away; their re-fetched copies are dropped as already read.
Depending on the interleaving, a gap entry marks them done (the commit passes them: lost) or
nothing does (the partition's commit stops advancing for good).
Here the same three steps run in a safe order: seek, resume flow control (clearing only what
is stale), and only then resume fetching from the input partitions.
Upstream: faust-streaming issues #606 and #312 (commit stuck behind a gap) and #517
(duplicates under exactly-once) show the symptoms; see README "Reliability".
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping
from importlib.metadata import version
from typing import Any, cast

from aiokafka.structs import TopicPartition
from faust.tables.manager import TableManager
from faust.tables.recovery import Recovery
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread
from faust.transport.drivers.aiokafka import Consumer as AIOKafkaConsumer

from stream.delivery_guard import DeliveryGuard, Verdict

log = logging.getLogger(__name__)

PINNED_VERSIONS = {"faust-streaming": "0.15.3", "aiokafka": "0.14.0"}


def engine_versions() -> dict[str, str]:
    return {name: version(name) for name in PINNED_VERSIONS}


def engine_matches_pins() -> bool:
    """False when the engine changed: the fix must be re-checked against the new code."""
    return engine_versions() == PINNED_VERSIONS


class OrderedRecovery(Recovery):
    """Recovery that never lets fetched input records meet a queue clear."""

    async def on_recovery_completed(self, generation_id: int = 0) -> None:
        consumer = self.app.consumer
        self.log.info("Restore complete!")
        await self.app.on_rebalance_complete.send()
        self._set_recovery_ended()
        callbacks = [
            asyncio.ensure_future(
                table.on_recovery_completed(
                    self.actives_for_table[table], self.standbys_for_table[table]
                )
            )
            for table in self.tables.values()
        ]
        if callbacks:
            await asyncio.wait(callbacks)
        if self.app.consumer_generation_id != generation_id:
            self.log.warning("Recovery rebalancing again")
            return
        await self._seek_then_resume(consumer)
        self.tables.on_actives_ready()
        if not self.app.assignor.assigned_standbys():
            self.tables.on_standbys_ready()
        self.app.on_rebalance_end()
        self.log.info("Worker ready")

    async def _resume_streams(self, generation_id: int = 0) -> None:
        consumer = self.app.consumer
        await self.app.on_rebalance_complete.send()
        if self.app.consumer_generation_id != generation_id:
            self.log.warning("Recovery rebalancing again")
            return
        await self._seek_then_resume(consumer)
        self.tables.on_actives_ready()
        self.tables.on_standbys_ready()
        self.app.on_rebalance_end()
        self.log.info("Worker ready")

    async def _seek_then_resume(self, consumer: Any) -> None:
        assignment = consumer.assignment()
        inputs = {tp for tp in assignment if not self._is_changelog_tp(tp)}
        if assignment:
            self.log.info("Seek stream partitions to committed offsets.")
            await self._wait(consumer.perform_seek(), timeout=self.app.conf.broker_request_timeout)
        self.completed.set()
        # Clear stale queued records first, then let fresh ones in: nothing fetched after the
        # seek can be thrown away.
        self.app.flow_control.resume()
        consumer.resume_flow()
        consumer.resume_partitions(inputs)
        await cast(Any, self.app)._fetcher.maybe_start()


class OrderedRecoveryTableManager(TableManager):
    """TableManager whose recovery service is OrderedRecovery (app setting `TableManager`)."""

    @property
    def recovery(self) -> Recovery:
        if self._recovery is None:
            self._recovery = OrderedRecovery(self.app, self, beacon=self.beacon, loop=self.loop)
        return self._recovery


def flush_outputs_before_commits(app: Any, flush_outputs: Callable[[], Awaitable[None]]) -> None:
    """Make Faust's pre-commit producer flush also deliver the worker's own output producer.

    Faust (at_least_once) awaits `app.producer.flush()` right before committing offsets
    (`Consumer._commit_offsets`), and under exactly_once commits them through
    `app.producer.commit_transactions`; wrapping both extends "flushed before commit" to records
    sent through confluent-kafka, so no offset is committed ahead of its outputs. (The outputs
    themselves are not in Faust's transactions: consumers deduplicate them by decision id.)
    """
    producer = app.producer
    faust_flush = producer.flush
    faust_commit_transactions = producer.commit_transactions

    async def flush_both() -> None:
        await flush_outputs()
        await faust_flush()

    async def flush_then_commit_transactions(*args: Any, **kwargs: Any) -> Any:
        # exactly_once commits offsets inside the producer's transactions
        # (`TransactionManager.commit`) and never calls `flush`: same rule, other door.
        await flush_outputs()
        return await faust_commit_transactions(*args, **kwargs)

    producer.flush = flush_both
    producer.commit_transactions = flush_then_commit_transactions


class PromptFetchConsumerThread(AIOKafkaConsumerThread):
    """Faust's consumer thread with a short fetch long-poll instead of a hard-coded 1.5 s.

    faust-streaming creates its aiokafka consumer with `fetch_max_wait_ms=1500`
    (faust/transport/drivers/aiokafka.py, `_create_worker_consumer`). aiokafka keeps one fetch
    in flight per broker, built from the partitions whose buffered records were consumed; a
    partition that becomes fetchable again waits for the in-flight long-poll to end. At low
    and moderate rates that put ~1.5 s on every hop (measured here: 1.7 s p50 from input to
    hand-over at 200 events/s). A short long-poll bounds that wait.
    """

    fetch_max_wait_ms = 20

    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        consumer._fetch_max_wait_ms = self.fetch_max_wait_ms  # read when the consumer starts
        return consumer


class _ReadOffsets(defaultdict[Any, int | None]):
    """Faust's read-offset map, able to skip the write that follows a held-back record."""

    def __init__(self) -> None:
        super().__init__(lambda: None)
        self.skip_next: set[Any] = set()

    def __setitem__(self, tp: Any, offset: int | None) -> None:
        if tp in self.skip_next:
            self.skip_next.discard(tp)
            return
        super().__setitem__(tp, offset)


class PromptFetchConsumer(AIOKafkaConsumer):
    """Faust's aiokafka consumer with prompt fetches and two delivery fixes around seeks.

    Fix 2 — every partition is positioned. `perform_seek` ends in aiokafka's
    `seek_to_committed`, which moves only partitions with a committed offset above 0
    (aiokafka/consumer/consumer.py: `if offset and offset > 0`). A partition taken over from a
    worker that died before its first commit kept the position the background fetcher reached
    during recovery (Faust pauses partitions in its own bookkeeping only), and the records
    fetched then were thrown away by the queue clear. Measured here: the survivor resumed such a
    partition at offset 301 instead of 0; 179 transactions never got a decision. Partitions
    without a committed offset are now sent to the beginning (auto_offset_reset=earliest).

    Fix 3 — no stale record after a seek (see stream.delivery_guard). Measured here: a batch
    fetched before the seek delivered offset 900 right after a seek to 870; Faust marked 871-899
    as processed and 17 transactions never got a decision.
    """

    gapless_topics: frozenset[str] = frozenset()
    position_every_partition = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        read_offsets = _ReadOffsets()
        self._read_offset = read_offsets
        self._guard = DeliveryGuard()
        deliver = self.callback

        async def guarded(message: Any) -> None:
            tp = message.tp
            if tp.topic not in self.gapless_topics:
                await deliver(message)
                return
            verdict = self._guard.judge(tp, message.offset)
            if verdict is not Verdict.DELIVER:
                expected = self._guard.expected(tp)
                if verdict is Verdict.HOLD_AND_RESEEK and expected is not None:
                    log.warning(
                        "record beyond the expected offset held back; seeking back",
                        extra={
                            "topic": tp.topic,
                            "partition": tp.partition,
                            "offset": message.offset,
                            "expected": expected,
                        },
                    )
                    await self.seek(tp, expected)
                read_offsets.skip_next.add(tp)
                return
            epoch = self._guard.epoch
            await deliver(message)
            if self._guard.epoch == epoch:
                self._guard.delivered(tp, message.offset)
            else:  # a seek landed during the delivery: its positions stand
                read_offsets.skip_next.add(tp)

        self.callback = guarded

    def _new_consumer_thread(self) -> AIOKafkaConsumerThread:
        return PromptFetchConsumerThread(self, loop=self.loop, beacon=self.beacon)

    async def _add_gap(self, tp: Any, offset_from: int, offset_to: int) -> None:
        # Faust calls this before delivering a record that jumps; the guard decides first.
        if tp.topic in self.gapless_topics and not self._guard.would_deliver(tp, offset_to):
            return
        await super()._add_gap(tp, offset_from, offset_to)

    async def perform_seek(self) -> None:
        await super().perform_seek()
        if not self.position_every_partition:
            return
        streams = [tp for tp in self.assignment() if not self._is_changelog_tp(tp)]
        uncommitted = [tp for tp in streams if not self._committed_offset.get(tp)]
        starts: Mapping[Any, int] = {}
        if uncommitted:
            await cast(Any, self)._thread.seek_to_beginning(
                *(TopicPartition(tp.topic, tp.partition) for tp in uncommitted)
            )
            starts = await self.earliest_offsets(*uncommitted)
        positions: dict[Any, int] = {}
        for tp in streams:
            position = self._committed_offset.get(tp) or starts.get(tp)
            if position is not None:
                positions[tp] = position
        self._guard.reset(positions)


def prompt_fetches(
    app: Any, fetch_max_wait_ms: int, gapless_topics: set[str], fixes: bool = True
) -> None:
    """Use PromptFetchConsumer for `app` (before its consumer is first created).

    `gapless_topics`: the stream topics that are neither compacted nor written transactionally,
    so that any jump in their offsets is a stale delivery (see stream.delivery_guard).
    `fixes=False` keeps only the prompt fetches: for reproducing the engine's defects.
    """
    PromptFetchConsumerThread.fetch_max_wait_ms = fetch_max_wait_ms
    app.transport.Consumer = type(
        "AppConsumer",
        (PromptFetchConsumer,),
        {
            "gapless_topics": frozenset(gapless_topics if fixes else ()),
            "position_every_partition": fixes,
        },
    )


def consumer_state(app: Any) -> dict[str, Any]:
    """The engine's view of each assigned partition, for operators (`/consumer`).

    Read from Faust's internals (pinned above): which partitions it fetches, where it read and
    committed, what the delivery guard expects — what one needs when a partition stops moving.
    """
    consumer = app.consumer
    active = consumer._get_active_partitions()
    guard = getattr(consumer, "_guard", None)
    partitions = []
    for tp in sorted(consumer.assignment()):
        partitions.append(
            {
                "topic": tp.topic,
                "partition": tp.partition,
                "fetching": tp in active,
                "paused": tp in consumer._paused_partitions,
                "read_offset": consumer._read_offset.get(tp),
                "committed": consumer._committed_offset.get(tp),
                "highwater": consumer.highwater(tp),
                "guard_expects": guard.expected(tp) if guard is not None else None,
            }
        )
    fetcher = app._fetcher
    return {
        "generation": app.consumer_generation_id,
        "flow_active": consumer.flow_active,
        "flow_control_active": app.flow_control.is_active(),
        "recovery_completed": app.tables.recovery.completed.is_set(),
        "fetcher": {"state": fetcher.state, "crashed": fetcher.crashed},
        "partitions": partitions,
    }
