"""Records fetched before a seek are held back; the real stream after it flows; real gaps pass."""

from __future__ import annotations

from stream.delivery_guard import DeliveryGuard, Verdict

TP = ("fraud.internal.by-merchant.v1", 1)


def test_stale_records_after_a_seek_are_held_back_until_the_expected_one_arrives() -> None:
    guard = DeliveryGuard()
    guard.reset({TP: 870})
    for stale in (900, 901, 902):  # the rest of a batch fetched before the seek
        assert guard.judge(TP, stale) is Verdict.HOLD
    assert guard.judge(TP, 870) is Verdict.DELIVER
    guard.delivered(TP, 870)
    assert guard.judge(TP, 871) is Verdict.DELIVER


def test_a_position_beyond_expected_for_too_long_asks_for_a_seek_then_believes_a_real_gap() -> None:
    guard = DeliveryGuard(reseek_after=3)
    guard.reset({TP: 5})
    verdicts = [guard.judge(TP, offset) for offset in (300, 301, 302)]
    assert verdicts == [Verdict.HOLD, Verdict.HOLD, Verdict.HOLD_AND_RESEEK]
    # After seeking back to 5, the first record is 1000: offsets 5..999 are gone for good.
    assert guard.judge(TP, 1000) is Verdict.DELIVER
    guard.delivered(TP, 1000)
    assert guard.judge(TP, 1001) is Verdict.DELIVER


def test_rereads_and_unknown_partitions_are_left_to_the_engine() -> None:
    guard = DeliveryGuard()
    assert guard.judge(TP, 12345) is Verdict.DELIVER  # nothing known: no opinion
    guard.reset({TP: 100})
    assert guard.judge(TP, 40) is Verdict.DELIVER  # older than expected: a duplicate
    guard.forget(TP)
    assert guard.judge(TP, 5000) is Verdict.DELIVER


def test_a_new_seek_starts_over() -> None:
    guard = DeliveryGuard(reseek_after=2)
    guard.reset({TP: 10})
    assert guard.judge(TP, 50) is Verdict.HOLD
    guard.reset({TP: 20})
    assert guard.judge(TP, 50) is Verdict.HOLD
    assert guard.epoch == 2
