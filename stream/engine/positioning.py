"""Every partition positioned after a seek, and no record fetched before a seek delivered after.

Replaces, in faust-streaming 0.15.3 / aiokafka 0.14.0:
- Fix "position every partition": `Consumer.perform_seek` (faust/transport/consumer.py) ends
  in aiokafka's `seek_to_committed`, which moves only partitions with a committed offset above
  0 (aiokafka/consumer/consumer.py: `if offset and offset > 0`). A partition taken over from a
  worker that died before its first commit kept the position the background fetcher reached
  during recovery, and the records fetched then were thrown away by the queue clear. Measured
  here: the survivor resumed such a partition at offset 301 instead of 0; 179 transactions never
  got a decision. Partitions without a committed offset are now sent to the beginning.
- Fix "no stale record": a batch fetched before a seek can still be delivered after it
  (`Consumer._drain_messages` hands records over one by one with awaits between them); Faust
  then records a gap (`Consumer._add_gap`: the commit passes the skipped records) or a stale
  read offset (the commit stops). Measured here: offset 900 delivered right after a seek to 870;
  17 transactions never got a decision. See stream.engine.delivery_guard.
Delete when: upstream positions every assigned partition in `perform_seek` and discards
fetched batches on seek.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, cast

from aiokafka.structs import TopicPartition

from stream.engine.delivery_guard import DeliveryGuard, Verdict

log = logging.getLogger(__name__)


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


class Positioning:
    """Consumer mixin: guarded delivery on gapless topics and a seek that positions all."""

    gapless_topics: frozenset[str] = frozenset()
    position_every_partition = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        this: Any = self
        self._read_offsets = _ReadOffsets()
        this._read_offset = self._read_offsets
        self._guard = DeliveryGuard()
        # Partitions sought and not delivered from since: for these Faust's read offset is the
        # position sought (the next to read), not the last record read (see read_progress).
        self.idle_since_seek: set[Any] = set()
        deliver = this.callback

        async def guarded(message: Any) -> None:
            await self.guarded_delivery(message, deliver)

        this.callback = guarded

    async def guarded_delivery(
        self, message: Any, deliver: Callable[[Any], Awaitable[None]]
    ) -> None:
        """Deliver `message` through `deliver` unless it is stale for its partition."""
        tp = message.tp
        if tp.topic not in self.gapless_topics:
            self.idle_since_seek.discard(tp)
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
                await cast(Any, self).seek(tp, expected)
            self._read_offsets.skip_next.add(tp)
            return
        epoch = self._guard.epoch
        self.idle_since_seek.discard(tp)
        await deliver(message)
        if self._guard.epoch == epoch:
            self._guard.delivered(tp, message.offset)
        else:  # a seek landed during the delivery: its positions stand
            self._read_offsets.skip_next.add(tp)

    @property
    def guard(self) -> DeliveryGuard:
        return self._guard

    async def _add_gap(self, tp: Any, offset_from: int, offset_to: int) -> None:
        # Faust calls this before delivering a record that jumps; the guard decides first.
        if tp.topic in self.gapless_topics and not self._guard.would_deliver(tp, offset_to):
            return
        await cast(Any, super())._add_gap(tp, offset_from, offset_to)

    async def perform_seek(self) -> None:
        await cast(Any, super()).perform_seek()
        this: Any = self
        streams = [tp for tp in this.assignment() if not this._is_changelog_tp(tp)]
        self.idle_since_seek = set(streams)
        if not self.position_every_partition:
            return
        uncommitted = [tp for tp in streams if not this._committed_offset.get(tp)]
        starts: Mapping[Any, int] = {}
        if uncommitted:
            await this._thread.seek_to_beginning(
                *(TopicPartition(tp.topic, tp.partition) for tp in uncommitted)
            )
            starts = await this.earliest_offsets(*uncommitted)
        positions: dict[Any, int] = {}
        for tp in streams:
            position = this._committed_offset.get(tp) or starts.get(tp)
            if position is not None:
                positions[tp] = position
        self._guard.reset(positions)
