"""The stuck-commit watch flags a partition only when its commit stalls behind consumed records."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from faust.types import TP as TP_

from stream.commit_watch import CommitWatch
from stream.engine.introspection import next_offset_to_read
from stream.engine.positioning import Positioning

TP = ("fraud.transactions.v1", 2)


def test_moving_commit_is_never_stuck() -> None:
    watch = CommitWatch(stuck_after_s=60)
    for step in range(10):
        assert not watch.observe(
            TP, committed=100 * step, consumed_up_to=100 * step + 50, now=30.0 * step
        )


def test_commit_stalled_behind_consumed_records_is_stuck_after_the_threshold() -> None:
    watch = CommitWatch(stuck_after_s=60)
    assert not watch.observe(TP, committed=500, consumed_up_to=900, now=0.0)
    assert not watch.observe(TP, committed=500, consumed_up_to=1_200, now=59.0)
    assert watch.observe(TP, committed=500, consumed_up_to=1_500, now=60.0)
    assert not watch.observe(TP, committed=1_500, consumed_up_to=1_500, now=61.0)


def test_idle_partition_with_everything_committed_is_not_stuck() -> None:
    watch = CommitWatch(stuck_after_s=60)
    assert not watch.observe(TP, committed=700, consumed_up_to=700, now=0.0)
    assert not watch.observe(TP, committed=700, consumed_up_to=700, now=3_600.0)


def test_forgotten_partitions_start_over() -> None:
    watch = CommitWatch(stuck_after_s=10)
    watch.observe(TP, committed=1, consumed_up_to=5, now=0.0)
    watch.forget(keep=set())
    assert not watch.observe(TP, committed=1, consumed_up_to=5, now=100.0)


def test_partition_idle_since_a_seek_counts_as_committed() -> None:
    # The case seen in chaos runs: committed 3225 = high-water mark, nothing read since the
    # seek, and Faust's read offset holds the position sought (3225), not a record read.
    watch = CommitWatch(stuck_after_s=60)
    for minute in range(7):
        up_to = next_offset_to_read(3_225, idle_since_seek=True)
        assert up_to == 3_225
        assert not watch.observe(TP, committed=3_225, consumed_up_to=up_to, now=60.0 * minute)


def test_a_record_read_after_the_seek_counts_as_consumed() -> None:
    assert next_offset_to_read(3_225, idle_since_seek=False) == 3_226
    assert next_offset_to_read(None, idle_since_seek=True) is None
    watch = CommitWatch(stuck_after_s=60)
    assert not watch.observe(TP, committed=3_225, consumed_up_to=3_226, now=0.0)
    assert watch.observe(TP, committed=3_225, consumed_up_to=3_226, now=60.0)


class _SeekingBase:
    def __init__(self, assigned: set[Any]) -> None:
        self.callback = self._deliver
        self.delivered: list[int] = []
        self.assigned = assigned

    async def _deliver(self, message: Any) -> None:
        self.delivered.append(message.offset)

    async def perform_seek(self) -> None:
        return None

    def assignment(self) -> set[Any]:
        return self.assigned

    def _is_changelog_tp(self, tp: Any) -> bool:
        return "changelog" in tp.topic


class _Consumer(Positioning, _SeekingBase):
    position_every_partition = False


def test_consumer_knows_which_partitions_were_not_read_since_the_seek() -> None:
    source, other = TP_(*TP), TP_("fraud.transactions.v1", 3)
    changelog = TP_("fraudstream-card-state-changelog", 2)
    consumer = _Consumer({source, other, changelog})
    asyncio.run(consumer.perform_seek())
    assert consumer.idle_since_seek == {source, other}
    message = SimpleNamespace(tp=source, offset=3_225)
    asyncio.run(consumer.guarded_delivery(message, consumer._deliver))
    assert consumer.idle_since_seek == {other}
    assert consumer.delivered == [3_225]
