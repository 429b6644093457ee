"""The online scoring API against a real broker: parity with the stream, the published event,
the scoring log, bad requests, routing between two workers, a starting and a restarting owner."""

from __future__ import annotations

import contextlib
import json
import math
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import orjson
import pytest

from models.features import FEATURE_NAMES
from models.scoring import open_package
from schemas import Decision, ScoringLogRecord
from stream.decision_path.api_routing import card_partition
from stream.replay import accepted_sources, read_topic, recompute
from tests.support.clients import Record, produce, read_to_end, wait_for_ids, wait_for_records
from tests.support.http import Reply, get, post
from tests.support.stream_setup import SIGNING_KEY, simulated_events, stream_setup
from tests.support.stream_worker import StreamWorker

pytestmark = pytest.mark.integration

PARTITIONS = 4


def _same(a: float | None, b: float) -> bool:
    return math.isnan(b) if a is None else a == b


def _txid(value: bytes) -> str:
    return str(json.loads(value)["transaction_id"])


def _assert_one_decision(records: list[Record], answer: Decision) -> None:
    """Every decision record of the answer's transaction says what the answer says."""
    copies = [Decision.model_validate_json(r.value or b"") for r in records]
    mine = {
        (d.decision_id, d.outcome, d.score)
        for d in copies
        if d.transaction_id == answer.transaction_id
    }
    assert mine == {(answer.decision_id, answer.outcome, answer.score)}


def _score(worker: StreamWorker, value: bytes) -> Reply:
    return post(f"{worker.base_url}/v1/score", value, worker.auth_headers())


def test_api_decides_like_the_stream_publishes_once_and_logs(
    kafka_bootstrap: str, test_package: Path, tmp_path: Path
) -> None:
    setup = stream_setup(
        kafka_bootstrap, tmp_path / "var", test_package, "api-parity", FRAUD_WEB_TOKEN="t0ken"
    )
    events = simulated_events(seed=41, limit=600)
    streamed, by_api, by_batch = events[:400], events[400:430], events[430:460]
    worker = StreamWorker(setup.env, tmp_path / "data", tmp_path / "worker.log")
    with worker.started(timeout=120):
        produce(kafka_bootstrap, setup.topic("transactions"), streamed)
        wait_for_records(kafka_bootstrap, setup.topic("decisions"), len(streamed), 120)

        # The token of the web server guards the API too.
        assert post(f"{worker.base_url}/v1/score", by_api[0][1]).status == 401
        answers = {}
        for _, value in by_api:
            reply = _score(worker, value)
            assert reply.status == 200, reply.body
            answers[_txid(value)] = Decision.model_validate_json(reply.body)
        batch = b"[" + b",".join(value for _, value in by_batch) + b"]"
        reply = post(f"{worker.base_url}/v1/score:batch", batch, worker.auth_headers())
        assert reply.status == 200, reply.body
        items = orjson.loads(reply.body)
        assert [item["status"] for item in items] == [200] * len(by_batch)
        for (_, value), item in zip(by_batch, items, strict=True):
            decision = Decision.model_validate(item["decision"])
            assert decision.transaction_id == _txid(value)  # in order
            answers[decision.transaction_id] = decision

        # A transaction the stream already decided: the API answers with that decision.
        _, decided_value = streamed[-1]
        again = Decision.model_validate_json(_score(worker, decided_value).body)

        # The remaining events by the stream, after the API's: the cards' state includes them.
        produce(kafka_bootstrap, setup.topic("transactions"), events[460:])
        logs = wait_for_records(kafka_bootstrap, setup.topic("scoring_log"), len(events) + 1, 120)
        decisions = read_to_end(kafka_bootstrap, setup.topic("decisions"))

    _assert_one_decision(decisions, again)

    # Each API transaction became one input event, and got one decision: the answer's.
    inputs = read_topic(kafka_bootstrap, setup.topic("transactions"))
    api_ids = set(answers)
    published = [r for r in inputs if _txid(r.value or b"") in api_ids]
    assert len(published) == len(api_ids)
    on_topic = {
        d.transaction_id: d
        for d in (Decision.model_validate_json(r.value or b"") for r in decisions)
        if d.transaction_id in api_ids
    }
    assert set(on_topic) == api_ids
    for txid, answer in answers.items():
        assert on_topic[txid].model_dump() == answer.model_dump()

    # Logged like a streamed decision, and its features and score equal the offline
    # recomputation of the stream (the parity test's check), bit for bit.
    logged = [ScoringLogRecord.model_validate_json(r.value or b"") for r in logs]
    first_logs = {}
    for entry in logged:
        first_logs.setdefault(entry.transaction_id, entry)
    assert api_ids <= set(first_logs)
    offline = recompute(inputs, accepted_sources(first_logs.values()))
    api_logs = [first_logs[txid] for txid in sorted(api_ids)]
    expected = np.array([offline.features_of(entry) for entry in api_logs])
    scores = open_package(test_package, SIGNING_KEY.encode()).fraud_probability(expected)
    for entry, vector, score in zip(api_logs, expected, scores, strict=True):
        online = [entry.features[name] for name in FEATURE_NAMES]
        assert all(_same(a, b) for a, b in zip(online, vector, strict=True)), entry.transaction_id
        (champion,) = entry.outputs
        assert champion.score == score == answers[entry.transaction_id].score
        assert entry.outcome == answers[entry.transaction_id].outcome


def test_bad_requests_get_the_dead_letter_reason(
    kafka_bootstrap: str, test_package: Path, tmp_path: Path
) -> None:
    setup = stream_setup(kafka_bootstrap, tmp_path / "var", test_package, "api-bad")
    (_, value), *_ = simulated_events(seed=43, limit=1)
    transaction = json.loads(value)
    worker = StreamWorker(setup.env, tmp_path / "data", tmp_path / "worker.log")
    with worker.started(timeout=120):
        url = f"{worker.base_url}/v1/score"
        cases = {
            b"not json": "not_json",
            b"[]": "not_object",
            orjson.dumps({**transaction, "amount": "lots"}): "invalid_value",
            orjson.dumps({k: v for k, v in transaction.items() if k != "card_id"}): (
                "missing_field"
            ),
            orjson.dumps({**transaction, "event_time": "2001-01-01T00:00:00Z"}): (
                "stale_timestamp"
            ),
        }
        for body, category in cases.items():
            reply = post(url, body)
            assert reply.status == 422, (body, reply.body)
            error = orjson.loads(reply.body)
            assert error["category"] == category and error["detail"], error
        assert post(url, b"{" + b" " * 70_000 + b"}").status == 413
        batch_url = f"{worker.base_url}/v1/score:batch"
        assert post(batch_url, b"[" + b"{}," * 100 + b"{}]").status == 413  # 101 > 100 items
        mixed = orjson.loads(post(batch_url, b"[" + value + b', {"x": 1}]').body)
        assert [item["status"] for item in mixed] == [200, 422]
        # Nothing invalid reached the stream: no dead letter, one input record.
        time.sleep(1)
        assert read_to_end(kafka_bootstrap, setup.topic("dead_letters")) == []
        assert len(read_to_end(kafka_bootstrap, setup.topic("transactions"))) == 1


@contextlib.contextmanager
def _stopped_at_end(worker: StreamWorker) -> Iterator[None]:
    try:
        yield
    finally:
        if worker.running:
            worker.stop()


def _owned_partitions(worker: StreamWorker, topic: str) -> set[int]:
    state = orjson.loads(get(f"{worker.base_url}/consumer", worker.auth_headers()).body)
    return {p["partition"] for p in state["partitions"] if p["topic"] == topic}


def test_requests_are_routed_to_the_card_owner_and_survive_its_restart(
    kafka_bootstrap: str, test_package: Path, tmp_path: Path
) -> None:
    setup = stream_setup(
        kafka_bootstrap, tmp_path / "var", test_package, "api-route", FRAUD_SESSION_TIMEOUT_S=6
    )
    events = simulated_events(seed=47, limit=400)
    topic = setup.topic("transactions")
    first = StreamWorker(setup.env, tmp_path / "a", tmp_path / "a.log", worker_id="worker-a")
    second = StreamWorker(setup.env, tmp_path / "b", tmp_path / "b.log", worker_id="worker-b")
    with first.started(timeout=120), _stopped_at_end(second):
        # A request while the second worker starts: never a decision before it is ready.
        second_replies: list[Reply] = []
        second.launch()
        deadline = time.monotonic() + 120
        while not second.ready() and time.monotonic() < deadline:
            with contextlib.suppress(OSError):  # its web server is not listening yet
                second_replies.append(_score(second, events[0][1]))
            time.sleep(0.05)
        first.wait_for_log("Worker ready", timeout=120, occurrences=2)
        assert second_replies, "no request reached the starting worker"
        assert {r.status for r in second_replies} <= {503, 200}
        assert all(r.headers.get("Retry-After") for r in second_replies if r.status == 503)

        owned_by_b = _owned_partitions(second, topic)
        assert owned_by_b and owned_by_b != set(range(PARTITIONS))
        remote = [
            (k, v) for k, v in events[1:] if card_partition(k.decode(), PARTITIONS) in owned_by_b
        ]
        local = [(k, v) for k, v in events[1:] if (k, v) not in remote]
        for _, value in remote[:20] + local[:20]:
            reply = _score(first, value)
            assert reply.status == 200, reply.body
            assert Decision.model_validate_json(reply.body).transaction_id == _txid(value)
        mixed = remote[20:30] + local[20:30]
        body = b"[" + b",".join(v for _, v in mixed) + b"]"
        items = orjson.loads(post(f"{first.base_url}/v1/score:batch", body).body)
        assert [Decision.model_validate(i["decision"]).transaction_id for i in items] == [
            _txid(v) for _, v in mixed
        ]

        # The owner restarts: the caller retries after Retry-After until a decision comes.
        second.stop(kill=True)
        _, value = remote[40]
        replies = []
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            reply = _score(first, value)
            replies.append(reply)
            if reply.status == 200:
                break
            assert reply.status == 503 and reply.headers.get("Retry-After"), reply.body
            time.sleep(float(reply.headers["Retry-After"]))
        assert replies[-1].status == 200, replies[-1].body
        answer = Decision.model_validate_json(replies[-1].body)
        decisions = wait_for_ids(
            kafka_bootstrap, setup.topic("decisions"), {_txid(value)}, lambda v: _txid(v), 60
        )
    # However many times it was published, the transaction has one decision.
    _assert_one_decision(decisions, answer)
    print(
        f"owner restart: {len(replies)} requests until a decision, statuses "
        f"{[r.status for r in replies]}"
    )
