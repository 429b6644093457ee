"""Take from aiokafka only the records of partitions Faust will deliver.

Replaces, in faust-streaming 0.15.3 / aiokafka 0.14.0, the meaning of the partition set that
`AIOKafkaConsumerThread._fetch_records` (faust/transport/drivers/aiokafka.py ~1088) passes to
aiokafka's `Fetcher.fetched_records` (aiokafka/consumer/fetcher.py ~1209-1250).
Faust passes its live set of active partitions (the very object its main thread pauses and
resumes partitions in). aiokafka reads an empty set as "every partition": `if partitions and
tp not in partitions`. It then drains the records it has fetched of every partition and moves
each drained partition's position past them, while Faust's `Consumer.getmany`
(faust/transport/consumer.py ~757) drops, silently, every record of a partition not in that set.
The set is empty at the end of table recovery: the changelog partitions are paused again and
the input partitions are not resumed yet, while `perform_seek` runs. aiokafka's background
fetcher keeps fetching the input partitions from the position just sought (Faust pauses them
in its own bookkeeping only), so a `fetched_records` call woken in that window takes them and
Faust throws them away: the partition's position ends past records never delivered.
Measured here (tests/integration/test_scoring_api.py
`test_an_answered_decision_survives_the_owner_killed_right_after`): a worker SIGKILLed before
its first commit and restarted at once fetched nothing for 60 s in 3 of 3 runs; its input
partitions' aiokafka positions stood at the high-water marks (31, 31, 41, 37) while nothing was
read and the delivery guard expected offset 0; instrumented, Faust's `getmany` got offsets
0.. of all four input partitions with an empty active set, ~20 ms after "Seek stream
partitions to committed offsets", and dropped them. The guard re-seeks only when a later record
arrives, so a partition with no new traffic stayed stuck.
Delete when: upstream passes a snapshot that aiokafka cannot read as "all" (or skips the call
when no partition is active).
"""

from __future__ import annotations

from collections.abc import Iterator, Set
from typing import Any


class ActivePartitions(Set[Any]):
    """A live view of Faust's active-partition set that is never "empty, so all".

    Membership follows the set as Faust's main thread changes it (a partition resumed while a
    fetch waits is still served by that fetch, as upstream), but the view is always true, so
    aiokafka filters by it even when no partition is active.
    """

    __slots__ = ("_live",)

    def __init__(self, live: Set[Any]) -> None:
        self._live = live

    def __bool__(self) -> bool:
        return True

    def __contains__(self, tp: object) -> bool:
        return tp in self._live

    def __iter__(self) -> Iterator[Any]:
        return iter(list(self._live))  # another thread may change the set

    def __len__(self) -> int:
        return len(self._live)
