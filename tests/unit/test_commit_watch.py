"""The stuck-commit watch flags a partition only when its commit stalls behind consumed records."""

from __future__ import annotations

from stream.commit_watch import CommitWatch

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
