"""The availability figures of a chaos run, from input and decision timestamps."""

from __future__ import annotations

import numpy as np
import pytest

from stream.chaos.availability import DecisionSeen, InputSeen, measure


def test_gap_per_partition_fallbacks_and_disrupted_figures() -> None:
    inputs = [InputSeen(0, 1_000 * i, f"t{i}") for i in range(6)] + [
        InputSeen(1, 1_000 * i + 500, f"u{i}") for i in range(6)
    ]
    decisions = [
        DecisionSeen("t0", 100, False),
        DecisionSeen("t1", 1_100, False),
        # Partition 0 stops between 1.1 s and 5.2 s: its worker was killed.
        DecisionSeen("t2", 5_200, True),
        DecisionSeen("t3", 5_300, True),
        DecisionSeen("t4", 5_400, False),
        DecisionSeen("t5", 5_500, False),
        DecisionSeen("t2", 5_600, False),  # a duplicate: the first decision counts
    ] + [DecisionSeen(f"u{i}", 1_000 * i + 600, False) for i in range(6)]
    figures = measure(inputs, decisions, windows_ms=[(1_500, 5_500)])
    assert figures.decided == 12
    assert figures.fallbacks == 2
    assert figures.fallback_share == pytest.approx(2 / 12)
    assert figures.longest_gap_s == {0: 4.1, 1: 1.0}
    assert figures.longest_gap_any_s == 4.1
    assert figures.disrupted_s == 4.0
    # Inside 1.5-5.5 s: t2..t5 and u1..u4 (decided at 1.6, 2.6, 3.6, 4.6 s): 8 in 4 s.
    assert figures.decisions_per_s_disrupted == 2.0
    # Inputs sent inside: t2..t5 (3.2, 2.3, 1.4, 0.5 s to their decisions), u1..u5 (0.1 s).
    waits = [3_200, 2_300, 1_400, 500, 100, 100, 100, 100, 100]
    assert figures.latency_ms_disrupted["p50"] == pytest.approx(np.percentile(waits, 50))
    assert figures.latency_ms_disrupted["p99"] == pytest.approx(np.percentile(waits, 99))
    assert (figures.fallbacks_disrupted, figures.decided_disrupted) == (2, 9)  # t2, t3
    assert figures.fallbacks_by_second == {2: 1, 3: 1}  # t2, t3: sent 2 s and 3 s in
    assert figures.duplicates_by_second == {2: 1}  # t2's second copy
    assert figures.duplicates_by_partition == {0: 1}
    assert figures.decided_rolling == 0 and figures.latency_ms_rolling == {}  # no roll


def test_a_roll_counts_every_input_sent_from_its_first_start_to_its_last_ready() -> None:
    inputs = [InputSeen(0, 1_000 * i, f"t{i}") for i in range(6)]
    decisions = [DecisionSeen(f"t{i}", 1_000 * i + 20 * (i + 1), i in (2, 3)) for i in range(6)]
    figures = measure(inputs, decisions, windows_ms=[(3_000, 3_500)], roll_ms=(1_000, 4_000))
    assert (figures.fallbacks_rolling, figures.decided_rolling) == (2, 4)  # t1..t4 sent inside
    assert figures.latency_ms_rolling["p50"] == pytest.approx(np.percentile([40, 60, 80, 100], 50))


def test_no_disruption_means_no_disrupted_figures() -> None:
    figures = measure([InputSeen(0, 0, "t0")], [DecisionSeen("t0", 10, False)], windows_ms=[])
    assert figures.decisions_per_s_disrupted is None
    assert figures.latency_ms_disrupted == {}
    assert figures.longest_gap_s == {0: 0.0}
