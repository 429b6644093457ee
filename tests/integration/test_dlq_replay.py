"""Dead letters through a real worker: list them, show one, replay the ones that became valid,
exactly once, and account for every input afterwards."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from schemas import DeadLetter, Decision
from stream.audit import audit_once
from stream.redrive import REPLAY_OF_HEADER
from stream.settings import TopicNames
from stream.topic_scan import scan
from tests.support.cli import run_cli
from tests.support.clients import produce, read_to_end, wait_for_records
from tests.support.stream_setup import simulated_events, stream_setup
from tests.support.stream_worker import StreamWorker
from tests.support.topics import unique_topic

# Also the acceptance scenario "a replayed dead letter is decided once" (make acceptance).
pytestmark = [pytest.mark.integration, pytest.mark.acceptance]

SKEW_S = 2
"""The worker's and the replay's FRAUD_MAX_FUTURE_SKEW_S: an event dated AHEAD_S ahead is
dead-lettered now and valid AHEAD_S - SKEW_S later (a real, transient reason)."""
AHEAD_S = 25


def fraudstream(env: dict[str, str], *args: str, expect: int = 0) -> str:
    """Run the real CLI in a child process with the test's settings; its stdout."""
    done = run_cli(env, *args)
    assert done.returncode == expect, f"{args}: {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_list_show_and_replay_once(
    kafka_bootstrap: str, test_package: Path, tmp_path: Path
) -> None:
    ledger_topic = unique_topic("dlq-ledger")
    setup = stream_setup(
        kafka_bootstrap,
        tmp_path / "var",
        test_package,
        "dlq",
        FRAUD_MAX_FUTURE_SKEW_S=SKEW_S,
        FRAUD_TOPICS__DLQ_REPLAYS=ledger_topic,
    )
    env = setup.env
    valid = simulated_events(limit=30)
    template = json.loads(valid[0][1])
    key = template["card_id"].encode()
    inputs = setup.topic("transactions")

    worker = StreamWorker(env, tmp_path / "data", tmp_path / "worker.log")
    with worker.started(timeout=120):
        # Dated from now, not from before the worker started: the clock matters from here.
        valid_at = datetime.now(UTC) + timedelta(seconds=AHEAD_S)
        future = {**template, "transaction_id": "tx-future", "event_time": valid_at.isoformat()}
        bad = [
            (key, json.dumps(future).encode()),
            (
                key,
                json.dumps({**template, "transaction_id": "tx-v99", "schema_version": 99}).encode(),
            ),
            (key, b"{not json at all"),
        ]
        produce(kafka_bootstrap, inputs, valid + bad)
        wait_for_records(kafka_bootstrap, setup.topic("decisions"), len(valid), 120)
        letters = wait_for_records(kafka_bootstrap, setup.topic("dead_letters"), len(bad), 60)
        by_category = {
            letter.category.value: letter
            for letter in (DeadLetter.model_validate_json(r.value or b"") for r in letters)
        }
        assert set(by_category) == {"future_timestamp", "unsupported_schema_version", "not_json"}
        future_id = by_category["future_timestamp"].dead_letter_id
        v99_id = by_category["unsupported_schema_version"].dead_letter_id
        # Still ahead of the replaying clock too: the re-check refuses it.
        early = fraudstream(env, "dlq", "replay", "--category", "future_timestamp", "--dry-run")
        assert "0 of 1 would be replayed" in early
        assert "still invalid: future_timestamp" in early

        listed = fraudstream(env, "dlq", "list")
        assert "3 dead letters" in listed
        assert all(f"{lid}" in listed for lid in (future_id, v99_id))
        only_future = fraudstream(env, "dlq", "list", "--category", "future_timestamp")
        assert future_id in only_future and v99_id not in only_future

        shown = fraudstream(env, "dlq", "show", future_id)
        assert "category:         future_timestamp" in shown
        assert "tx-future" in shown  # the original bytes, as text
        not_json_id = by_category["not_json"].dead_letter_id
        dumped = fraudstream(env, "dlq", "show", not_json_id, "--hex")
        assert b"{not json".hex(" ") in dumped

        _sleep_until(valid_at - timedelta(seconds=SKEW_S - 1))
        dry = fraudstream(env, "dlq", "replay", "--category", "future_timestamp", "--dry-run")
        assert "1 of 1 would be replayed" in dry
        assert _copies(kafka_bootstrap, inputs) == {}  # a dry run produces nothing

        replayed = fraudstream(env, "dlq", "replay", "--category", "future_timestamp")
        assert "1 replayed, 0 failed" in replayed
        decisions = _wait_for_decision(kafka_bootstrap, setup.topic("decisions"), "tx-future")
        assert decisions == 1

        again = fraudstream(env, "dlq", "replay", "--category", "future_timestamp")
        assert "0 replayed" in again and "1 already replayed" in again
        assert _copies(kafka_bootstrap, inputs) == {future_id: 1}

        # A dead letter the codec still rejects is skipped, unless forced.
        skipped = fraudstream(env, "dlq", "replay", "--id", v99_id)
        assert "1 skipped as still invalid" in skipped
        forced = fraudstream(env, "dlq", "replay", "--id", v99_id, "--force")
        assert "1 replayed" in forced
        letters = wait_for_records(kafka_bootstrap, setup.topic("dead_letters"), len(bad) + 1, 60)

    assert _copies(kafka_bootstrap, inputs) == {future_id: 1, v99_id: 1}
    decided = [
        Decision.model_validate_json(r.value or b"")
        for r in read_to_end(kafka_bootstrap, setup.topic("decisions"))
    ]
    assert sum(d.transaction_id == "tx-future" for d in decided) == 1
    newest = DeadLetter.model_validate_json(letters[-1].value or b"")
    assert newest.category.value == "unsupported_schema_version"  # the forced copy, again
    summary = audit_once(kafka_bootstrap, TopicNames(**setup.topics, dlq_replays=ledger_topic))
    assert (summary.inputs, summary.decided, summary.dead_lettered) == (35, 31, 4)
    assert summary.missing == []
    assert summary.duplicate_decisions == 0
    assert summary.complete


def _sleep_until(when: datetime) -> None:
    wait = (when - datetime.now(UTC)).total_seconds()
    assert wait < AHEAD_S + 5, "the clock went backwards"
    if wait > 0:
        time.sleep(wait)


def _copies(bootstrap: str, topic: str) -> dict[str, int]:
    """dead_letter_id → replayed copies of it in the input topic."""
    counts: dict[str, int] = {}
    for record in scan(bootstrap, topic, timeout_s=30):
        for name, value in record.headers:
            if name == REPLAY_OF_HEADER and value is not None:
                counts[value.decode()] = counts.get(value.decode(), 0) + 1
    return counts


def _wait_for_decision(bootstrap: str, topic: str, transaction_id: str, timeout: float = 60) -> int:
    """Decisions for the transaction once there is one, after one more second for any other."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [
            r for r in read_to_end(bootstrap, topic) if transaction_id.encode() in (r.value or b"")
        ]
        if found:
            time.sleep(1.0)
            return sum(
                transaction_id.encode() in (r.value or b"") for r in read_to_end(bootstrap, topic)
            )
        time.sleep(0.3)
    raise TimeoutError(f"no decision for {transaction_id} within {timeout} s")
