"""A Faust worker (subprocess, RocksDB table) against the real broker: exact outputs, and
table state rebuilt from its changelog when the worker restarts with an empty data directory."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from tests.support.clients import Record, produce, wait_for_records
from tests.support.faust_worker import FaustWorker
from tests.support.topics import create_topics, unique_topic

pytestmark = pytest.mark.integration

APP = "tests.integration.counting_app"
CARDS = [f"card-{n:02d}" for n in range(8)]
ROUNDS = 5


def _amount(seq: int) -> int:
    return 100 + (seq * 37) % 900


def _events(first_seq: int, rounds: int) -> list[tuple[bytes, bytes]]:
    events = []
    for round_ in range(rounds):
        for i, card in enumerate(CARDS):
            seq = first_seq + round_ * len(CARDS) + i
            events.append(
                (card.encode(), json.dumps({"seq": seq, "amount": _amount(seq)}).encode())
            )
    return events


def _expected(events: list[tuple[bytes, bytes]], start: dict[str, tuple[int, int]]) -> dict:
    """The outputs, per seq, that a correct worker emits when totals begin at `start`."""
    totals = dict(start)
    expected = {}
    for key, value in events:
        card, payload = key.decode(), json.loads(value)
        count, total = totals.get(card, (0, 0))
        totals[card] = (count + 1, total + payload["amount"])
        expected[payload["seq"]] = {
            "card": card,
            "seq": payload["seq"],
            "count": count + 1,
            "sum": total + payload["amount"],
        }
    return expected


def _by_seq(records: list[Record]) -> dict[int, dict]:
    outputs = [json.loads(r.value or b"") for r in records]
    by_seq = {out["seq"]: out for out in outputs}
    assert len(by_seq) == len(outputs), "an event produced more than one output"
    return by_seq


def test_worker_outputs_and_restores_table_from_changelog(
    kafka_bootstrap: str, topic_label: str, tmp_path: Path
) -> None:
    source, sink = unique_topic(f"{topic_label}-in"), unique_topic(f"{topic_label}-out")
    create_topics(kafka_bootstrap, [source, sink], partitions=4)
    env = {
        "COUNTING_APP_ID": f"test-counting-{uuid.uuid4().hex[:8]}",
        "COUNTING_BOOTSTRAP": kafka_bootstrap,
        "COUNTING_INPUT": source,
        "COUNTING_OUTPUT": sink,
    }
    first = _events(0, ROUNDS)
    first_expected = _expected(first, {})

    worker = FaustWorker(APP, tmp_path / "data-1", tmp_path / "worker-1.log", env)
    with worker.started(timeout=120):
        # Produced only once the worker is ready: see WORKER_READY in tests.support.faust_worker.
        produce(kafka_bootstrap, source, first)
        outputs = _by_seq(wait_for_records(kafka_bootstrap, sink, len(first), timeout=90))
    assert outputs == first_expected

    # A new worker with an EMPTY data dir knows the totals only if it restores the changelog.
    final_totals = {
        out["card"]: (out["count"], out["sum"])
        for out in sorted(first_expected.values(), key=lambda o: o["seq"])
    }
    second = _events(len(first), 1)
    restarted = FaustWorker(APP, tmp_path / "data-2", tmp_path / "worker-2.log", env)
    assert not restarted.data_dir.exists()
    with restarted.started(timeout=120):
        produce(kafka_bootstrap, source, second)
        outputs = _by_seq(
            wait_for_records(kafka_bootstrap, sink, len(first) + len(second), timeout=90)
        )
    assert outputs == {**first_expected, **_expected(second, final_totals)}
    assert "Restoring state from changelog topics" in restarted.log_text()
