"""The chaos run in a short form: kills and a broker restart under load, then the proof.

`fraudstream chaos` with defaults runs longer (10 kills); see README, Reliability.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from stream.chaos.harness import ChaosPlan, run_chaos, simulated_load
from tests.support.stream_setup import SIGNING_KEY

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_short_chaos_run_loses_nothing(test_package: Path, tmp_path: Path) -> None:
    plan = ChaosPlan(events=4_000, rate=250, kills=2, broker_restart=True, seed=11)
    result = run_chaos(
        plan, tmp_path, test_package, SIGNING_KEY, simulated_load(plan.events, plan.seed)
    )
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
