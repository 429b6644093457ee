"""The delayed-label join: late, early, duplicate, missing and out-of-order labels; TTL; bounds."""

from __future__ import annotations

from models.drift import LabelJoin, ModelScore
from models.drift.join import DAY_MS
from schemas.base import DeploymentRole
from tests.support.drift_data import CHAMPION, T0_MS

OUTPUTS = (ModelScore(CHAMPION, DeploymentRole.CHAMPION, 0.9, "DECLINE"),)
MATURITY = 10 * DAY_MS


def _join(max_entries: int = 1000, max_early_labels: int = 1000) -> LabelJoin:
    return LabelJoin(
        maturity_ms=MATURITY,
        max_entries=max_entries,
        max_early_labels=max_early_labels,
        lateness_ms=0,
    )


def _advance(join: LabelJoin, to_ms: int) -> dict[str, tuple[bool, bool]]:
    """Push the clock with a throw-away entry; matured entries → (is_fraud, labelled) by time."""
    join.add_entry(f"clock-{to_ms}", to_ms, OUTPUTS)
    return {str(m.event_ms): (m.is_fraud, m.labelled) for m in join.mature()}


def test_a_late_label_joins_its_pending_entry() -> None:
    join = _join()
    join.add_entry("T1", T0_MS, OUTPUTS)
    join.add_label("T1", True, T0_MS + 3 * DAY_MS)
    assert join.counters.labels_joined == 1
    matured = _advance(join, T0_MS + MATURITY)
    assert matured == {str(T0_MS): (True, True)}
    assert join.counters.matured_labelled == 1


def test_an_unlabelled_entry_is_genuine_once_it_expires_and_not_before() -> None:
    join = _join()
    join.add_entry("T1", T0_MS, OUTPUTS)
    assert _advance(join, T0_MS + MATURITY - 1) == {}
    assert _advance(join, T0_MS + MATURITY) == {str(T0_MS): (False, False)}
    assert join.counters.matured_unlabelled == 1
    assert join.pending == 2  # the two clock entries


def test_the_latest_labelled_at_wins_whatever_the_arrival_order() -> None:
    join = _join()
    join.add_entry("T1", T0_MS, OUTPUTS)
    join.add_entry("T2", T0_MS, OUTPUTS)
    # T1: the later label (cleared) arrives first, the earlier (fraud) second: cleared stands.
    join.add_label("T1", False, T0_MS + 5 * DAY_MS)
    join.add_label("T1", True, T0_MS + 2 * DAY_MS)
    # T2: arrival order = labelled order: the later (fraud) stands.
    join.add_label("T2", False, T0_MS + 2 * DAY_MS)
    join.add_label("T2", True, T0_MS + 5 * DAY_MS)
    matured = join_matured(join, T0_MS + MATURITY)
    assert matured == [False, True]
    assert join.counters.labels_joined == 2
    assert join.counters.labels_duplicate == 2


def join_matured(join: LabelJoin, clock_ms: int) -> list[bool]:
    join.add_entry("clock", clock_ms, OUTPUTS)
    return [m.is_fraud for m in join.mature()]


def test_a_duplicate_label_never_counts_twice() -> None:
    join = _join()
    join.add_entry("T1", T0_MS, OUTPUTS)
    for source_day in (3, 3, 4):
        join.add_label("T1", True, T0_MS + source_day * DAY_MS)
    assert join_matured(join, T0_MS + MATURITY) == [True]
    assert join.counters.matured_labelled == 1
    assert join.counters.labels == 3
    assert join.counters.labels_joined == 1
    assert join.counters.labels_duplicate == 2


def test_a_label_read_before_its_entry_waits_for_it() -> None:
    join = _join()
    join.add_label("T1", True, T0_MS + DAY_MS)  # the scoring log is behind
    assert join.early_labels == 1
    join.add_entry("T1", T0_MS, OUTPUTS)
    assert join.early_labels == 0
    assert join.counters.labels_joined == 1
    assert join_matured(join, T0_MS + MATURITY) == [True]


def test_a_waiting_label_whose_entry_never_comes_is_unmatched() -> None:
    join = _join()
    join.add_label("T-never", True, T0_MS + DAY_MS)
    join.add_entry("T1", T0_MS + 2 * DAY_MS, OUTPUTS)  # the log has moved past the label
    join.mature()
    assert join.early_labels == 0
    assert join.counters.labels_unmatched == 1


def test_a_label_after_its_entry_matured_is_unmatched_and_changes_nothing() -> None:
    join = _join()
    join.add_entry("T1", T0_MS, OUTPUTS)
    assert join_matured(join, T0_MS + MATURITY) == [False]
    join.add_label("T1", True, T0_MS + MATURITY)
    assert join.counters.labels_unmatched == 1
    assert join.counters.matured_labelled == 0


def test_entries_mature_in_arrival_order_even_out_of_event_order() -> None:
    join = _join()
    join.add_entry("T-late", T0_MS + 2 * DAY_MS, OUTPUTS)
    join.add_entry("T-early", T0_MS, OUTPUTS)  # older, read second (another partition)
    join.add_entry("clock", T0_MS + MATURITY + DAY_MS, OUTPUTS)
    assert [m.event_ms for m in join.mature()] == []  # T-late holds the line: not mature yet
    join.add_entry("clock2", T0_MS + MATURITY + 2 * DAY_MS, OUTPUTS)
    assert [m.event_ms for m in join.mature()] == [T0_MS + 2 * DAY_MS, T0_MS]


def test_a_replayed_entry_is_taken_once() -> None:
    join = _join()
    join.add_entry("T1", T0_MS, OUTPUTS)
    join.add_entry("T1", T0_MS, OUTPUTS)
    assert join.pending == 1
    assert join.counters.duplicate_entries == 1


def test_the_join_is_bounded_and_counts_what_it_evicts() -> None:
    join = _join(max_entries=3, max_early_labels=2)
    for index in range(5):
        join.add_entry(f"T{index}", T0_MS + index, OUTPUTS)
    assert join.pending == 3
    assert join.counters.evicted == 2
    for index in range(4):
        join.add_label(f"L{index}", True, T0_MS + DAY_MS)
    assert join.early_labels == 2
    assert join.counters.labels_unmatched == 2
    # Evicted entries are not evaluated: only the three kept ones mature.
    assert len(join_matured(join, T0_MS + MATURITY + 10)) == 2  # one more evicted by "clock"
    assert join.counters.evicted == 3
