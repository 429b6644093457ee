"""Detects a partition whose committed offset stopped moving while records wait behind it.

faust-streaming can leave one partition's commit behind for good after a rebalance or a crash
(its acked-offset gap bookkeeping; faust-streaming issues #606 and #312): nothing is lost at
that moment, but every restart replays the tail and the lag never drains. This watch turns that
silent state into a metric and a log line.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class PartitionProgress:
    committed: int | None = None
    committed_since: float = 0.0


@dataclass
class CommitWatch:
    stuck_after_s: float = 60.0
    _progress: dict[tuple[str, int], PartitionProgress] = field(default_factory=dict)

    def observe(
        self,
        partition: tuple[str, int],
        committed: int | None,
        consumed_up_to: int | None,
        now: float,
    ) -> bool:
        """Record one reading; True when the partition is stuck.

        `committed` is the next offset to read after a restart; `consumed_up_to` the next offset
        the worker would read now. Stuck: records between the two, and no commit for
        `stuck_after_s`.
        """
        progress = self._progress.setdefault(partition, PartitionProgress(committed, now))
        if committed != progress.committed:
            progress.committed, progress.committed_since = committed, now
            return False
        behind = consumed_up_to is not None and (committed is None or consumed_up_to > committed)
        return behind and now - progress.committed_since >= self.stuck_after_s

    def forget(self, keep: set[tuple[str, int]]) -> None:
        """Drop partitions no longer assigned to this worker."""
        for partition in set(self._progress) - keep:
            del self._progress[partition]
