"""The delayed-label join: late, early, duplicate, missing and out-of-order labels; TTL; bounds."""

from __future__ import annotations

import random
import tracemalloc

from models.drift import LabelJoin, ModelScore
from models.drift.join import DAY_MS, Matured, sample_point
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


# -- at volume: the weighted sample ----------------------------------------------------------

APPROVE = (ModelScore(CHAMPION, DeploymentRole.CHAMPION, 0.1, "APPROVE"),)


def _traffic(join: LabelJoin, days: int, per_day: int) -> list[Matured]:
    """1 % fraud, 70 % of it flagged, 1 % of genuine flagged; fraud labelled 5 days later."""
    rng = random.Random(3)
    matured: list[Matured] = []
    labels: list[tuple[int, str]] = []
    step = DAY_MS // per_day
    for index in range(days * per_day):
        now = T0_MS + index * step
        while labels and labels[0][0] <= now:
            join.add_label(labels.pop(0)[1], True, now)
        fraud = rng.random() < 0.01
        flagged = rng.random() < (0.7 if fraud else 0.01)
        join.add_entry(f"T{index}", now, OUTPUTS if flagged else APPROVE)
        if fraud:
            labels.append((now + 5 * DAY_MS, f"T{index}"))
        matured.extend(join.mature())
    return matured


def test_above_the_old_limit_events_mature_with_weights_that_add_up() -> None:
    # 3,000 events a day, 10 days' maturity, room for 5,000: the old join (evict the oldest)
    # could hold 500 a day and let nothing mature at all.
    join = LabelJoin(maturity_ms=MATURITY, max_entries=5_000, lateness_ms=0)
    per_day, days = 3_000, 16
    matured = _traffic(join, days, per_day)
    assert join.counters.evicted == 0
    assert join.pending <= 5_000
    assert join.sample_rate < 1.0
    # Every event of the first ~6 days matured: the weights stand for all of them.
    assert join.clock_ms is not None
    step = DAY_MS // per_day
    events_matured = sum(
        1 for index in range(days * per_day) if T0_MS + index * step + MATURITY <= join.clock_ms
    )
    weighted = sum(m.weight for m in matured)
    assert abs(weighted - events_matured) / events_matured < 0.05
    assert all(m.weight == 1.0 for m in matured if m.outputs == OUTPUTS)  # flagged: all kept
    frauds = [m for m in matured if m.is_fraud]
    caught = sum(m.weight for m in frauds if m.outputs == OUTPUTS)
    recall = caught / sum(m.weight for m in frauds)
    assert 0.5 < recall < 0.9  # true recall 0.7; ~180 fraud events, a sampled FN weighs ~6


def test_the_sample_is_stable_per_transaction_id() -> None:
    assert sample_point("T123") == sample_point("T123")
    points = [sample_point(f"T{i}") for i in range(20_000)]
    assert 0.48 < sum(points) / len(points) < 0.52
    assert all(0.0 <= p < 1.0 for p in points)


def test_a_full_store_of_flagged_events_still_evicts_the_oldest() -> None:
    join = _join(max_entries=2)
    for index in range(3):
        join.add_entry(f"T{index}", T0_MS + index, OUTPUTS)
    assert join.pending == 2
    assert join.counters.evicted == 1
    assert join.sample_rate == 1.0  # nothing unflagged to sample away


def test_a_pending_entry_costs_under_500_bytes() -> None:
    # 1M events a day: the store holds at most join_max_entries (1M by default) however long
    # the maturity, so this bounds the join at ~500 MB, inside the 1 GiB budget. The id and the
    # outputs are made inside the measurement: the entry keeps them alive (measured: ~420 B).
    join = LabelJoin(maturity_ms=60 * DAY_MS, max_entries=1_000_000, lateness_ms=0)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for index in range(50_000):
        outputs = (ModelScore(CHAMPION, DeploymentRole.CHAMPION, index / 50_001, "APPROVE"),)
        join.add_entry(f"tx-{index:012d}-{index * 7919 % 100_003:06d}", T0_MS + index, outputs)
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert join.pending == 50_000
    assert used / 50_000 < 500, used / 50_000
