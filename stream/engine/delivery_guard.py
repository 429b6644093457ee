"""Keeps records fetched before a seek from being delivered after it.

Faust hands fetched records to the streams one by one, with awaits between them, from batches
fetched by a consumer thread. A seek (after every rebalance) can therefore land in the middle
of a batch: the batch's remaining records predate the new position and still get delivered.
Faust then reads the jump as a gap and marks the skipped offsets as processed (the commit
passes them: lost), or records the stale offset as read and drops the real records that follow
(the commit stops: stuck). On topics that cannot have gaps (not compacted, not written
transactionally: the input and the hand-over topics), a record beyond the next expected offset
is stale and is held back; the fetcher delivers it again, in order, from the new position.

The first record held after a seek also asks for a seek back to the expected offset: the
fetcher's position may itself be off, and holding alone would then drop record after record
until the partition ran dry: a stall, which is what this fixes. After that seek the
expected record arrives within one fetch; should records keep arriving beyond it for
`give_up_after_s`, the records in between are really gone (e.g. deleted by retention) and the
jump is accepted. Every hold episode is logged by the consumer, so none is silent.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from enum import Enum

Partition = Hashable


class Verdict(Enum):
    DELIVER = "deliver"
    HOLD = "hold"  # stale: do not deliver, do not count as read
    HOLD_AND_RESEEK = "hold_and_reseek"  # first held record: also seek back to the expected one


@dataclass
class DeliveryGuard:
    give_up_after_s: float = 30.0  # records beyond expected this long after a seek: a real gap
    clock: Callable[[], float] = time.monotonic
    _expected: dict[Partition, int] = field(default_factory=dict)
    _holding_since: dict[Partition, float] = field(default_factory=dict)
    _gap_accepted: set[Partition] = field(default_factory=set)
    epoch: int = 0

    def reset(self, positions: dict[Partition, int]) -> None:
        """After a seek: the next offset each partition must deliver."""
        self.epoch += 1
        for partition, offset in positions.items():
            self._expected[partition] = offset
            self._clear(partition)

    def forget(self, partition: Partition) -> None:
        self._expected.pop(partition, None)
        self._clear(partition)

    def judge(self, partition: Partition, offset: int) -> Verdict:
        if self.would_deliver(partition, offset):
            if partition in self._holding_since:
                self._gap_accepted.add(partition)  # held for too long: believe the gap
            return Verdict.DELIVER
        if partition not in self._holding_since:
            self._holding_since[partition] = self.clock()
            return Verdict.HOLD_AND_RESEEK
        return Verdict.HOLD

    def would_deliver(self, partition: Partition, offset: int) -> bool:
        """judge() without side effects: whether the record would be delivered now."""
        expected = self._expected.get(partition)
        if expected is None or offset <= expected or partition in self._gap_accepted:
            return True  # unknown position, the next record, a re-read, or an accepted gap
        since = self._holding_since.get(partition)
        return since is not None and self.clock() - since >= self.give_up_after_s

    def expected(self, partition: Partition) -> int | None:
        return self._expected.get(partition)

    def delivered(self, partition: Partition, offset: int) -> None:
        self._expected[partition] = offset + 1
        self._clear(partition)

    def _clear(self, partition: Partition) -> None:
        self._holding_since.pop(partition, None)
        self._gap_accepted.discard(partition)
