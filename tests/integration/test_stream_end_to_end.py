"""Valid and invalid events in, exactly one outcome each out, every decision naming its package."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from models.package import read_manifest_unverified
from schemas import DeadLetter, Decision, ScoringLogRecord
from tests.support.clients import produce, read_to_end, wait_for_records
from tests.support.stream_setup import simulated_events, stream_setup
from tests.support.stream_worker import StreamWorker

pytestmark = pytest.mark.integration


def _invalid_events(valid_value: bytes) -> list[tuple[bytes | None, bytes, str]]:
    """(key, value, expected dead-letter category) for every kind of bad input we promise."""
    good = json.loads(valid_value)
    key = good["card_id"].encode()

    def variant(**changes: object) -> bytes:
        return json.dumps({**good, **changes}).encode()

    def without(field: str) -> bytes:
        return json.dumps({k: v for k, v in good.items() if k != field}).encode()

    nested = b'{"a":' * 5000 + b"1" + b"}" * 5000
    return [
        (key, b"\xff\xfe\x00garbage", "not_utf8"),
        (key, b"{" + b'"pad": "' + b"x" * 990_000 + b'"}', "too_large"),
        (key, nested, "too_deep"),
        (key, variant(amount="NaN"), "non_finite_number"),
        # A bare NaN token parses (as Python's json does); no field accepts one, whatever its type.
        (
            key,
            valid_value.replace(b'"schema_version":1', b'"schema_version":NaN'),
            "non_finite_number",
        ),
        (key, variant(amount="-5.00"), "out_of_range"),
        (key, variant(amount="99999999.00"), "out_of_range"),
        (key, variant(event_time="yesterday at noon"), "invalid_timestamp"),
        (key, variant(event_time="2026-01-01T10:00:00"), "naive_timestamp"),
        (key, variant(event_time="2999-01-01T10:00:00Z"), "future_timestamp"),
        (key, variant(card_present="yes"), "wrong_type"),
        (key, without("merchant_id"), "missing_field"),
        (key, b"", "empty"),
        (key, b"[1, 2, 3]", "not_object"),
        (key, variant(schema_version=99), "unsupported_schema_version"),
        (
            None,
            valid_value.replace(good["transaction_id"].encode(), b"null-key-tx"),
            "key_mismatch",
        ),
    ]


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _read_endpoints(worker: StreamWorker) -> dict[str, Any]:
    base = worker.base_url
    return {
        "metrics": _get(f"{base}/metrics")[1].decode(),
        "ready": _get(f"{base}/ready")[0],
        "model": json.loads(_get(f"{base}/model")[1]),
        "consumer": json.loads(_get(f"{base}/consumer")[1]),
    }


def _sample(page: str, name: str) -> float:
    """The value of one sample line of a Prometheus text page (0 when absent)."""
    for line in page.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_every_event_gets_exactly_one_outcome(
    kafka_bootstrap: str, test_package: Path, tmp_path: Path
) -> None:
    setup = stream_setup(kafka_bootstrap, tmp_path / "var", test_package, "e2e")
    events = simulated_events(limit=1500)
    invalid = _invalid_events(events[0][1])
    before, after = events[:750], events[750:]
    manifest = read_manifest_unverified(test_package)

    worker = StreamWorker(setup.env, tmp_path / "data", tmp_path / "worker.log")
    with worker.started(timeout=120):
        sent = produce(kafka_bootstrap, setup.topic("transactions"), before)
        sent += produce(
            kafka_bootstrap, setup.topic("transactions"), [(k, v) for k, v, _ in invalid]
        )
        sent += produce(kafka_bootstrap, setup.topic("transactions"), after)
        decisions = wait_for_records(kafka_bootstrap, setup.topic("decisions"), len(events), 180)
        dead = wait_for_records(kafka_bootstrap, setup.topic("dead_letters"), len(invalid), 60)
        logs = wait_for_records(kafka_bootstrap, setup.topic("scoring_log"), len(events), 60)
        endpoints = _read_endpoints(worker)

    # What an operator sees on the worker's web port.
    page = endpoints["metrics"]
    assert _sample(page, "fraud_events_in_total") == len(sent)
    assert _sample(page, 'fraud_invalid_events_total{reason="not_utf8"}') == 1
    assert _sample(page, "fraud_scoring_batch_size_sum") == len(events)
    assert "fraud_decision_latency_seconds_bucket" in page
    assert endpoints["ready"] == 200
    assert endpoints["model"]["champion"]["content_hash"] == manifest.content_hash
    consumer = endpoints["consumer"]
    inputs = [p for p in consumer["partitions"] if p["topic"] == setup.topic("transactions")]
    assert len(inputs) == setup.settings().partitions
    assert all(p["fetching"] and not p["paused"] for p in inputs)
    assert sum(p["highwater"] for p in inputs) == len(sent)

    # The accounting identity: produced == decided + dead-lettered, each exactly once.
    assert len(sent) == len(decisions) + len(dead)
    decided = [Decision.model_validate_json(r.value or b"") for r in decisions]
    ids = Counter(d.transaction_id for d in decided)
    expected_ids = {json.loads(v)["transaction_id"] for _, v in events}
    assert set(ids) == expected_ids
    assert max(ids.values()) == 1
    # Every decision names the package that made it, exactly.
    for decision in decided:
        assert decision.model is not None
        assert decision.model.name == manifest.name
        assert decision.model.version == manifest.version
        assert decision.model.content_hash == manifest.content_hash
        assert decision.fallback is False
        assert decision.score is not None
    # Every dead letter keeps the original bytes and names the right reason.
    letters = [DeadLetter.model_validate_json(r.value or b"") for r in dead]
    by_offset = {(r.partition, r.offset): r for r in sent}
    categories = {}
    for letter in letters:
        original = by_offset[(letter.source.partition, letter.source.offset)]
        assert letter.value == original.value
        categories[original.value] = letter.category.value
    assert len(categories) == len(invalid)
    wrong = {
        value[:60]: (categories[value], category)
        for _, value, category in invalid
        if categories[value] != category
    }
    assert not wrong, wrong
    # The input/output log: one per decision, with the full feature vector and the score.
    logged = [ScoringLogRecord.model_validate_json(r.value or b"") for r in logs]
    assert {entry.decision_id for entry in logged} == {d.decision_id for d in decided}
    assert all(len(entry.features) == len(manifest.features.features) for entry in logged)
    # Nothing left over in the topics after the run.
    assert len(read_to_end(kafka_bootstrap, setup.topic("decisions"))) == len(events)
