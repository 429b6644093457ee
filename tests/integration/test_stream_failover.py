"""Two workers share the partitions; one is SIGKILLed mid-stream; nothing is lost."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from schemas import Decision
from stream.replay import state_parity
from tests.support.clients import produce, wait_for_ids
from tests.support.stream_setup import simulated_events, stream_setup
from tests.support.stream_worker import StreamWorker

pytestmark = pytest.mark.integration


def test_killed_worker_loses_nothing_and_state_equals_recomputation(
    kafka_bootstrap: str, test_package: Path, tmp_path: Path
) -> None:
    setup = stream_setup(kafka_bootstrap, tmp_path / "var", test_package, "failover")
    events = simulated_events(seed=31, limit=6000)
    first = StreamWorker(setup.env, tmp_path / "a", tmp_path / "a.log", worker_id="worker-a")
    second = StreamWorker(setup.env, tmp_path / "b", tmp_path / "b.log", worker_id="worker-b")
    with first.started(timeout=120), second.started(timeout=120):
        # Both in the group: wait for the rebalance that gave the first one its share back
        # (ready once at start and once after the rebalance).
        first.wait_for_log("Worker ready", timeout=120, occurrences=2)

        def steady_load() -> None:
            for start in range(0, len(events), 300):
                produce(kafka_bootstrap, setup.topic("transactions"), events[start : start + 300])
                time.sleep(0.3)

        producer = threading.Thread(target=steady_load)
        producer.start()
        time.sleep(2.5)
        first.stop(kill=True)  # SIGKILL mid-stream
        producer.join(timeout=120)
        expected = {json.loads(value)["transaction_id"] for _, value in events}
        try:
            decisions = wait_for_ids(
                kafka_bootstrap,
                setup.topic("decisions"),
                expected,
                lambda value: Decision.model_validate_json(value).transaction_id,
                timeout=240,
            )
        except TimeoutError as missing:
            raise AssertionError(f"{missing}\nsurvivor's log:\n{second.tail(80)}") from missing
        # Let the survivor settle so that every state write has reached its changelog.
        time.sleep(3)

    decided = Counter(
        Decision.model_validate_json(r.value or b"").transaction_id for r in decisions
    )
    assert set(decided) == expected, (
        f"{len(expected - set(decided))} transactions without a decision"
    )
    duplicates = sum(count - 1 for count in decided.values())
    print(f"failover: {len(events)} events, {duplicates} duplicate decisions after the kill")

    parity = state_parity(kafka_bootstrap, setup.settings())
    assert parity.cards > 100 and parity.merchants > 10
    assert parity.card_mismatches == []
    assert parity.merchant_mismatches == []
