"""Restarts that do not stop the group: static members, and no false stuck-commit warnings.

Two workers on a real broker. A rebalance (the second worker joining) leaves partitions idle
since a seek: with a 4 s stuck-commit threshold, 16 s of idleness must raise no warning. Then
one worker is SIGKILLed and restarted inside the session timeout: as a static member it gets
its own partitions back, and the other worker sees no rebalance (same generation, same
partitions) and keeps scoring.
"""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from schemas import Decision
from tests.support.clients import produce, wait_for_ids
from tests.support.stream_setup import simulated_events, stream_setup
from tests.support.stream_worker import StreamWorker

pytestmark = pytest.mark.integration

STUCK_AFTER_S = 4
IDLE_S = 16  # four thresholds and three watch readings (every 5 s) at least


def _consumer(worker: StreamWorker) -> dict[str, Any]:
    with urllib.request.urlopen(f"{worker.base_url}/consumer", timeout=5) as answer:
        return dict(json.loads(answer.read()))


def _inputs(view: dict[str, Any], topic: str) -> set[int]:
    return {p["partition"] for p in view["partitions"] if p["topic"] == topic}


def _metric(worker: StreamWorker, name: str) -> float:
    with urllib.request.urlopen(f"{worker.base_url}/metrics", timeout=5) as answer:
        for line in answer.read().decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
    raise AssertionError(f"{name} not exported")


def test_idle_after_rebalance_is_not_stuck_and_a_quick_restart_does_not_rebalance(
    kafka_bootstrap: str, test_package: Path, tmp_path: Path
) -> None:
    setup = stream_setup(
        kafka_bootstrap,
        tmp_path / "var",
        test_package,
        "static",
        FRAUD_STUCK_COMMIT_AFTER_S=STUCK_AFTER_S,
    )
    transactions = setup.topic("transactions")
    events = simulated_events(seed=5, limit=800)
    expected = {json.loads(value)["transaction_id"] for _, value in events}

    def transaction_id(value: bytes) -> str:
        return Decision.model_validate_json(value).transaction_id

    first = StreamWorker(setup.env, tmp_path / "a", tmp_path / "a.log", worker_id="worker-a")
    second = StreamWorker(setup.env, tmp_path / "b", tmp_path / "b.log", worker_id="worker-b")
    with first.started(timeout=120):
        produce(kafka_bootstrap, transactions, events[:400])
        wait_for_ids(
            kafka_bootstrap,
            setup.topic("decisions"),
            {json.loads(v)["transaction_id"] for _, v in events[:400]},
            transaction_id,
            timeout=120,
        )
        time.sleep(3)  # a commit interval: every partition committed to its end
        with second.started(timeout=120):
            first.wait_for_log("Worker ready", timeout=120, occurrences=2)  # the rebalance
            time.sleep(IDLE_S)
            for worker in (first, second):
                assert "committed offset stuck" not in worker.log_text(), worker.tail(30)
                assert _metric(worker, "fraud_stuck_commit_partitions") == 0
                assert _metric(worker, "fraud_unprocessed_partitions") == 0
                assert _metric(worker, "fraud_time_to_ready_seconds") > 0

            before_second, before_first = _consumer(second), _consumer(first)
            first.stop(kill=True)
            first.start(timeout=120)  # well inside the 20 s session timeout
            produce(kafka_bootstrap, transactions, events[400:])
            wait_for_ids(
                kafka_bootstrap, setup.topic("decisions"), expected, transaction_id, timeout=120
            )
            after_second, after_first = _consumer(second), _consumer(first)

    assert after_second["generation"] == before_second["generation"], "the group rebalanced"
    assert _inputs(after_second, transactions) == _inputs(before_second, transactions)
    assert _inputs(after_first, transactions) == _inputs(before_first, transactions)
    assert _inputs(after_first, transactions) | _inputs(after_second, transactions) == {0, 1, 2, 3}
    assert second.log_text().count("Worker ready") == 1, "the survivor was never re-assigned"
