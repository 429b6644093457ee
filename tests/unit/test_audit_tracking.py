"""The audit's matching, grace periods, re-drives and windows, with times passed in by hand."""

from __future__ import annotations

from stream.audit.tracking import OutcomeTracker, TrackerConfig, Verdict
from stream.redrive import Provenance

TOPIC = "fraud.transactions.v1"
GRACE = 1_000
WINDOW = 10_000


def tracker(max_redrives: int = 2, window_max_inputs: int = 1_000) -> OutcomeTracker:
    return OutcomeTracker(
        TrackerConfig(
            input_topic=TOPIC,
            grace_ms=GRACE,
            max_redrives=max_redrives,
            window_ms=WINDOW,
            window_max_inputs=window_max_inputs,
            max_outcomes=1_000,
        )
    )


def copy_of(partition: int, offset: int, attempt: int = 1) -> Provenance:
    return Provenance(redrive_of=(TOPIC, partition, offset), redrive_attempt=attempt)


def test_decision_after_its_input_settles_it() -> None:
    t = tracker()
    assert t.add_input(0, 10, 100, "tx-1", now_ms=0) is Verdict.PENDING
    assert t.pending == 1
    t.add_decision("tx-1", "d-1", 150)
    assert t.pending == 0
    assert t.windows[0].decided == 1


def test_outcome_read_before_its_input_settles_it_on_arrival() -> None:
    t = tracker()
    t.add_decision("tx-1", "d-1", 150)
    t.add_dead_letter((1, 7), 160)
    assert t.add_input(0, 10, 100, "tx-1", now_ms=0) is Verdict.DECIDED
    assert t.add_input(1, 7, 100, None, now_ms=0) is Verdict.DEAD_LETTERED
    assert t.pending == 0


def test_dead_letter_matches_by_coordinates_not_by_transaction() -> None:
    t = tracker()
    t.add_input(0, 10, 100, "tx-1", now_ms=0)
    t.add_dead_letter((0, 11), 150)  # another input's dead letter
    assert t.pending == 1
    t.add_dead_letter((0, 10), 160)
    assert t.pending == 0
    assert t.windows[0].dead_lettered == 1


def test_inputs_sharing_a_transaction_id_share_its_decision() -> None:
    t = tracker()
    t.add_input(0, 10, 100, "tx-1", now_ms=0)
    t.add_input(0, 11, 101, "tx-1", now_ms=0)  # the payment system sent it twice
    t.add_decision("tx-1", "d-1", 150)
    t.add_decision("tx-1", "d-1", 151)  # decided again under the same id
    assert t.pending == 0
    assert t.windows[0].decided == 2
    assert t.windows[0].duplicates == 1
    assert t.totals.duplicate_decisions == 1


def test_a_second_decision_id_for_one_transaction_is_a_conflict() -> None:
    t = tracker()
    t.add_input(0, 10, 100, "tx-1", now_ms=0)
    t.add_decision("tx-1", "d-1", 150)
    t.add_decision("tx-1", "d-other", 151)
    assert t.totals.conflicting_decisions == 1
    assert t.totals.duplicate_decisions == 0
    assert t.windows[0].conflicts == 1


def test_nothing_is_due_before_its_grace_or_before_outcomes_are_read_that_far() -> None:
    t = tracker()
    t.add_input(0, 10, 100, "tx-1", now_ms=5_000)
    assert t.take_due(5_000 + GRACE - 1) == []
    assert t.next_due_ms() == 5_000 + GRACE
    # The caller passes min(now, read-through): outcomes read only up to 5.5 s, nothing due.
    assert t.take_due(5_500) == []
    due = t.take_due(5_000 + GRACE)
    assert [p.coords for p in due] == [(0, 10)]
    assert t.pending == 1  # due is not settled: the caller re-drives it or loses it


def test_redrive_restarts_the_grace_and_its_copy_dead_letter_settles_the_original() -> None:
    t = tracker()
    t.add_input(2, 40, 100, None, now_ms=0)  # bytes without a transaction id
    (pending,) = t.take_due(GRACE)
    assert t.may_redrive(pending)
    t.redriven(pending, copy=(2, 95), now_ms=GRACE)
    assert t.take_due(2 * GRACE - 1) == []
    # The worker dead-letters the copy: that is the original's outcome too.
    t.add_dead_letter((2, 95), 1_500)
    assert t.pending == 0
    window = t.windows[0]
    assert (window.dead_lettered, window.redriven) == (1, 1)


def test_a_copy_read_back_links_to_its_original_even_without_the_delivery_report() -> None:
    t = tracker()
    t.add_input(2, 40, 100, None, now_ms=0)
    assert t.add_input(2, 95, 1_200, None, now_ms=1_200, origin=copy_of(2, 40)) is Verdict.COPY
    t.add_dead_letter((2, 95), 1_300)
    assert t.pending == 0
    assert (t.windows[0].inputs, t.windows[0].copies) == (1, 1)


def test_copies_read_after_a_restart_restore_the_redrive_count() -> None:
    t = tracker(max_redrives=2)
    t.add_input(0, 10, 100, "tx-1", now_ms=0)
    t.add_input(0, 20, 200, "tx-1", now_ms=0, origin=copy_of(0, 10, attempt=1))
    t.add_input(0, 30, 300, "tx-1", now_ms=0, origin=copy_of(0, 10, attempt=2))
    (pending,) = t.take_due(GRACE)
    assert pending.redrives == 2
    assert not t.may_redrive(pending)


def test_lost_after_the_last_redrive() -> None:
    t = tracker(max_redrives=1)
    t.add_input(0, 10, 100, "tx-1", now_ms=0)
    (pending,) = t.take_due(GRACE)
    t.redriven(pending, copy=(0, 11), now_ms=GRACE)
    (pending,) = t.take_due(2 * GRACE)
    assert not t.may_redrive(pending)
    lost = t.lose(pending)
    assert (lost.partition, lost.offset, lost.transaction_id, lost.redrives) == (0, 10, "tx-1", 1)
    assert t.pending == 0
    # A decision arriving after all that is a late outcome, not a settlement of anything.
    t.add_decision("tx-1", "d-1", 5_000)
    assert t.windows[0].decided == 0
    assert len(t.windows[0].lost) == 1


def test_postponed_input_keeps_its_attempts() -> None:
    t = tracker(max_redrives=1)
    t.add_input(0, 10, 100, "tx-1", now_ms=0)
    (pending,) = t.take_due(GRACE)
    t.postpone(pending, now_ms=GRACE)
    assert t.take_due(2 * GRACE - 1) == []
    (again,) = t.take_due(2 * GRACE)
    assert again.redrives == 0
    assert t.may_redrive(again)


def test_windows_cut_by_time_and_count_and_cover_contiguous_ranges() -> None:
    t = tracker(window_max_inputs=3)
    for offset in range(3):
        t.add_input(0, offset, 100 + offset, f"tx-{offset}", now_ms=0)
    t.add_input(0, 3, 200, "tx-3", now_ms=1)  # the first window is full
    t.add_input(1, 0, 150, "tx-4", now_ms=WINDOW + 1)  # the second one is old
    assert [w.inputs for w in t.windows] == [3, 1, 1]
    assert t.windows[0].ranges == {0: [0, 3, 102]}
    assert t.windows[1].ranges == {0: [3, 4, 200]}
    assert (t.windows[0].first_ts, t.windows[0].last_ts) == (100, 102)


def test_windows_settle_in_reading_order_only() -> None:
    t = tracker(window_max_inputs=1)
    t.add_input(0, 0, 100, "tx-a", now_ms=0)
    t.add_input(0, 1, 101, "tx-b", now_ms=0)
    t.add_input(0, 2, 102, "tx-c", now_ms=0)
    t.roll(now_ms=WINDOW)
    t.add_decision("tx-b", "d-b", 200)
    t.add_decision("tx-c", "d-c", 200)
    assert t.settled_windows() == []  # the oldest still waits for tx-a
    t.add_decision("tx-a", "d-a", 200)
    settled = t.settled_windows()
    assert [w.ranges[0][:2] for w in settled] == [[0, 1], [1, 2], [2, 3]]
    assert all(w.published for w in settled)
    assert t.windows == []


def test_the_reading_window_does_not_settle_until_it_stops_reading() -> None:
    t = tracker()
    t.add_input(0, 0, 100, "tx-a", now_ms=0)
    t.add_decision("tx-a", "d-a", 200)
    assert t.settled_windows() == []
    t.roll(now_ms=WINDOW)
    assert len(t.settled_windows()) == 1


def test_repeats_after_publication_count_as_late() -> None:
    t = tracker()
    t.add_input(0, 0, 100, "tx-a", now_ms=0)
    t.add_decision("tx-a", "d-a", 200)
    t.roll(now_ms=WINDOW)
    (window,) = t.settled_windows()
    t.add_decision("tx-a", "d-a", 300)
    assert window.duplicates == 0
    assert t.totals.duplicate_decisions == 1
    assert t.totals.late_duplicates == 1


def test_expired_outcomes_no_longer_match() -> None:
    t = tracker()
    t.add_decision("tx-1", "d-1", 1_000)
    assert t.expire_outcomes(before_ms=1_001) == 1
    assert t.add_input(0, 10, 900, "tx-1", now_ms=0) is Verdict.PENDING


def test_a_copy_of_an_input_checked_before_this_audit_started_is_only_counted() -> None:
    t = tracker()
    assert t.add_input(0, 99, 100, None, now_ms=0, origin=copy_of(0, 5)) is Verdict.COPY
    assert t.pending == 0
    assert (t.windows[0].inputs, t.windows[0].copies) == (0, 1)


def test_a_copy_naming_another_topic_is_an_ordinary_input() -> None:
    t = tracker()
    other = Provenance(redrive_of=("elsewhere", 0, 5), redrive_attempt=1)
    assert t.add_input(0, 99, 100, "tx-9", now_ms=0, origin=other) is Verdict.PENDING
