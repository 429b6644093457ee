"""The chaos run in a short form: kills and a broker restart under load, then the proof.

`fraudstream chaos` with defaults runs longer (10 kills); see README, Reliability.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from stream.chaos.harness import ChaosPlan, ChaosResult, run_chaos, simulated_load
from tests.support.stream_setup import SIGNING_KEY

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _run(plan: ChaosPlan, package: Path, work: Path) -> ChaosResult:
    return run_chaos(plan, work, package, SIGNING_KEY, simulated_load(plan.events, plan.seed))


def test_short_chaos_run_loses_nothing(test_package: Path, tmp_path: Path) -> None:
    plan = ChaosPlan(events=4_000, rate=250, kills=2, broker_restart=True, seed=11)
    result = _run(plan, test_package, tmp_path)
    outcomes = result.outcomes
    print(
        f"chaos: {len(result.log.kills)} kills, {len(result.log.broker_restarts)} broker "
        f"restart(s), {outcomes.inputs} in, {outcomes.decided} decided, "
        f"{outcomes.duplicate_decisions} duplicates ({outcomes.conflicting_duplicates} "
        f"conflicting), lag {result.lag}"
    )
    assert len(result.log.kills) == 2
    assert len(result.log.broker_restarts) == 1
    assert not result.log.produce_errors
    assert outcomes.inputs == plan.events
    assert outcomes.without_outcome == []
    assert outcomes.decided == plan.events
    assert outcomes.duplicates_after_dedupe == 0
    assert outcomes.conflicting_duplicates == 0  # a replay repeats its first decision
    assert result.parity.equal, (
        result.parity.card_mismatches[:5],
        result.parity.merchant_mismatches[:5],
    )
    assert not any(result.lag.values())


def test_short_rolling_restart_loses_nothing_and_keeps_scoring(
    test_package: Path, tmp_path: Path
) -> None:
    # `fraudstream chaos --scenario rolling` in a short form; the figures: README, Availability.
    plan = ChaosPlan(
        events=5_000, rate=250, kills=0, broker_restart=False, roll=True, disrupt_at=(0.2, 0.2)
    )
    result = _run(plan, test_package, tmp_path)
    figures = result.availability
    print(
        f"rolling: restarts {[round(r.seconds_to_ready, 1) for r in result.log.restarts]} s, "
        f"longest gap {figures.longest_gap_any_s:.1f} s, fallbacks {figures.fallback_share:.2%}, "
        f"while rolling {figures.latency_ms_disrupted}"
    )
    assert [r.worker for r in result.log.restarts] == ["worker-1", "worker-2"]
    assert result.outcomes.without_outcome == []
    assert result.outcomes.decided == plan.events
    assert result.outcomes.conflicting_duplicates == 0
    # Static members back within the session timeout (20 s): no partition waits longer.
    assert figures.longest_gap_any_s <= 20 + 5
    assert not any(result.lag.values())
    # The machine's load beside the figures: the broker and the workers were seen scoring
    # before the roll, and the workers (old and new processes) through it.
    before = result.cpu_percent_before_disruption
    assert before["broker"] > 0 and before["workers"] > 0, before
    roll_start = int(plan.disrupt_at[0] * plan.events / plan.rate)
    during = [result.cpu_percent_by_second.get(s, {}) for s in range(roll_start, roll_start + 3)]
    assert all(second.get("workers", 0) > 0 for second in during), result.cpu_percent_by_second
