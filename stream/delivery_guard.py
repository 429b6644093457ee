"""Keeps records fetched before a seek from being delivered after it.

Faust hands fetched records to the streams one by one, with awaits between them, from batches
fetched by a consumer thread. A seek (after every rebalance) can therefore land in the middle
of a batch: the batch's remaining records predate the new position and still get delivered.
Faust then reads the jump as a gap and marks the skipped offsets as processed (the commit
passes them: lost), or records the stale offset as read and drops the real records that follow
(the commit stops: stuck). On topics that cannot have gaps (not compacted, not written
transactionally: the input and the hand-over topics), a record beyond the next expected offset
is stale and is held back; the fetcher delivers it again, in order, from the new position.

Should records keep arriving beyond the expected offset for longer than any stale batch lasts,
the position itself is wrong: the guard asks for a seek back to the expected offset. If the
first record after that seek is still beyond it, the records in between are really gone (e.g.
deleted by retention) and the jump is accepted.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from enum import Enum

Partition = Hashable


class Verdict(Enum):
    DELIVER = "deliver"
    HOLD = "hold"  # stale: do not deliver, do not count as read
    HOLD_AND_RESEEK = "hold_and_reseek"  # stale for too long: seek back to the expected offset


@dataclass
class DeliveryGuard:
    reseek_after: int = 5_000  # held records before the position is suspected (> a batch)
    _expected: dict[Partition, int] = field(default_factory=dict)
    _held: dict[Partition, int] = field(default_factory=dict)
    _reseeked: set[Partition] = field(default_factory=set)
    epoch: int = 0

    def reset(self, positions: dict[Partition, int]) -> None:
        """After a seek: the next offset each partition must deliver."""
        self.epoch += 1
        for partition, offset in positions.items():
            self._expected[partition] = offset
            self._held.pop(partition, None)
            self._reseeked.discard(partition)

    def forget(self, partition: Partition) -> None:
        self._expected.pop(partition, None)
        self._held.pop(partition, None)
        self._reseeked.discard(partition)

    def judge(self, partition: Partition, offset: int) -> Verdict:
        expected = self._expected.get(partition)
        if expected is None or offset <= expected:
            return Verdict.DELIVER  # unknown position, the next record, or a re-read
        if partition in self._reseeked:
            return Verdict.DELIVER  # still beyond after seeking back: the gap is real
        held = self._held.get(partition, 0) + 1
        self._held[partition] = held
        if held >= self.reseek_after:
            self._reseeked.add(partition)
            return Verdict.HOLD_AND_RESEEK
        return Verdict.HOLD

    def would_deliver(self, partition: Partition, offset: int) -> bool:
        """judge() without counting: whether the record would be delivered now."""
        expected = self._expected.get(partition)
        return expected is None or offset <= expected or partition in self._reseeked

    def expected(self, partition: Partition) -> int | None:
        return self._expected.get(partition)

    def delivered(self, partition: Partition, offset: int) -> None:
        self._expected[partition] = offset + 1
        self._held.pop(partition, None)
        self._reseeked.discard(partition)
