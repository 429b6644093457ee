"""Records fetched before a seek are held back; the real stream after it flows; real gaps pass."""

from __future__ import annotations

from stream.engine.delivery_guard import DeliveryGuard, Verdict

TP = ("fraud.internal.by-merchant.v1", 1)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_stale_records_after_a_seek_are_held_back_until_the_expected_one_arrives() -> None:
    guard = DeliveryGuard()
    guard.reset({TP: 870})
    verdicts = [guard.judge(TP, stale) for stale in (900, 901, 902)]  # rest of an old batch
    # The first one held also asks for a seek back, in case the position itself is off.
    assert verdicts == [Verdict.HOLD_AND_RESEEK, Verdict.HOLD, Verdict.HOLD]
    assert guard.judge(TP, 870) is Verdict.DELIVER
    guard.delivered(TP, 870)
    assert guard.judge(TP, 871) is Verdict.DELIVER


def test_a_partition_whose_records_all_arrive_beyond_expected_is_sought_back_not_starved() -> None:
    # The stall this prevents: every record held, none ever re-fetched, the partition idle.
    guard = DeliveryGuard()
    guard.reset({TP: 487})
    assert guard.judge(TP, 488) is Verdict.HOLD_AND_RESEEK
    assert guard.judge(TP, 489) is Verdict.HOLD
    assert guard.judge(TP, 487) is Verdict.DELIVER  # what the seek back brings
    guard.delivered(TP, 487)
    assert guard.judge(TP, 488) is Verdict.DELIVER


def test_records_beyond_expected_long_after_the_seek_back_are_a_real_gap() -> None:
    clock = Clock()
    guard = DeliveryGuard(give_up_after_s=30.0, clock=clock)
    guard.reset({TP: 5})
    assert guard.judge(TP, 1000) is Verdict.HOLD_AND_RESEEK
    clock.now += 29.0
    assert guard.judge(TP, 1000) is Verdict.HOLD
    assert not guard.would_deliver(TP, 1000)
    clock.now += 1.0
    # Offsets 5..999 are gone for good (retention): believed, delivered, in order from there.
    assert guard.would_deliver(TP, 1000)
    assert guard.judge(TP, 1000) is Verdict.DELIVER
    guard.delivered(TP, 1000)
    assert guard.judge(TP, 1001) is Verdict.DELIVER
    assert guard.judge(TP, 1500) is Verdict.HOLD_AND_RESEEK  # a new jump is a new episode


def test_rereads_and_unknown_partitions_are_left_to_the_engine() -> None:
    guard = DeliveryGuard()
    assert guard.judge(TP, 12345) is Verdict.DELIVER  # nothing known: no opinion
    guard.reset({TP: 100})
    assert guard.judge(TP, 40) is Verdict.DELIVER  # older than expected: a duplicate
    guard.forget(TP)
    assert guard.judge(TP, 5000) is Verdict.DELIVER


def test_a_new_seek_starts_over() -> None:
    clock = Clock()
    guard = DeliveryGuard(give_up_after_s=10.0, clock=clock)
    guard.reset({TP: 10})
    assert guard.judge(TP, 50) is Verdict.HOLD_AND_RESEEK
    clock.now += 9.0
    guard.reset({TP: 20})
    clock.now += 9.0
    assert guard.judge(TP, 50) is Verdict.HOLD_AND_RESEEK
    assert guard.epoch == 2
