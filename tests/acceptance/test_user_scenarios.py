"""Acceptance: what fraud analysts and operators rely on, checked against the real broker and a
real `fraudstream worker` scoring with a signed model package.

Also part of this suite, where they already lived (marked `acceptance`, not copied):
- tests/integration/test_dlq_replay.py: an operator replays a dead letter that has become
  valid, and it is decided exactly once;
- tests/integration/test_live_deployment.py: an operator traces a decision of a promoted
  model through package, run, datasets, commit and change log.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from models.package import read_manifest_unverified
from schemas import DeadLetter, Decision
from tests.support.cli import run_cli
from tests.support.clients import produce, wait_for_ids
from tests.support.governance import write_policy
from tests.support.stream_setup import StreamSetup, simulated_events, stream_setup
from tests.support.stream_worker import StreamWorker

pytestmark = [pytest.mark.integration, pytest.mark.acceptance]


@pytest.fixture(scope="module")
def deployment(
    kafka_bootstrap: str, test_package: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[StreamSetup]:
    """One running worker for every scenario of this module."""
    work = tmp_path_factory.mktemp("acceptance")
    setup = stream_setup(kafka_bootstrap, work / "var", test_package, "accept")
    worker = StreamWorker(setup.env, work / "worker", work / "worker.log")
    with worker.started(timeout=120):
        yield setup


def _transaction(**fields: object) -> tuple[bytes, bytes]:
    """A valid transaction like the payment system sends, with `fields` changed."""
    record = json.loads(simulated_events(limit=1)[0][1])
    record.update(fields)
    return str(record["card_id"]).encode(), json.dumps(record).encode()


def _decisions(setup: StreamSetup, ids: set[str]) -> dict[str, Decision]:
    records = wait_for_ids(
        setup.env["FRAUD_KAFKA_BOOTSTRAP"],
        setup.topic("decisions"),
        ids,
        lambda value: json.loads(value)["transaction_id"],
        timeout=60,
    )
    decided = (Decision.model_validate_json(r.value or b"") for r in records)
    return {d.transaction_id: d for d in decided if d.transaction_id in ids}


def test_a_card_testing_burst_is_reviewed_or_declined(deployment: StreamSetup) -> None:
    """A fraudster tries a stolen card with a dozen 1-euro payments at different shops within
    a few minutes. The first ones look ordinary; once eight small payments came before it in
    the hour, every one is held for review or declined, naming the card-testing pattern."""
    card = f"C-test-{uuid.uuid4().hex[:8]}"
    start = datetime.now(UTC) - timedelta(minutes=12)
    burst = [
        _transaction(
            transaction_id=f"T-burst-{card}-{i:02d}",
            card_id=card,
            amount="1.00",
            currency="EUR",
            merchant_id=f"M-shop-{i:02d}",
            terminal_id=f"M-shop-{i:02d}-T01",
            event_time=(start + timedelta(minutes=i)).isoformat().replace("+00:00", "Z"),
        )
        for i in range(12)
    ]
    produce(deployment.env["FRAUD_KAFKA_BOOTSTRAP"], deployment.topic("transactions"), burst)
    ids = [json.loads(value)["transaction_id"] for _, value in burst]
    decided = _decisions(deployment, set(ids))

    for transaction_id in ids[:8]:
        assert "CARD_TESTING_PATTERN" not in decided[transaction_id].reason_codes
    for transaction_id in ids[8:]:
        decision = decided[transaction_id]
        assert decision.outcome in {"REVIEW", "DECLINE"}, decision
        assert "CARD_TESTING_PATTERN" in decision.reason_codes, decision
        assert not decision.fallback  # the model answered; the rule escalated


def test_an_unknown_currency_is_dead_lettered_with_its_reason(deployment: StreamSetup) -> None:
    """A payment arrives in a currency that does not exist. It is not scored: it goes to the
    dead-letter topic, which says which field was wrong and why, and keeps the bytes."""
    key, value = _transaction(transaction_id=f"T-cur-{uuid.uuid4().hex[:8]}", currency="ZZZ")
    bootstrap = deployment.env["FRAUD_KAFKA_BOOTSTRAP"]
    produce(bootstrap, deployment.topic("transactions"), [(key, value)])
    records = wait_for_ids(
        bootstrap,
        deployment.topic("dead_letters"),
        {value.decode()},
        lambda v: (DeadLetter.model_validate_json(v).value or b"").decode(),
        timeout=60,
    )
    [letter] = [
        DeadLetter.model_validate_json(r.value or b"")
        for r in records
        if (DeadLetter.model_validate_json(r.value or b"").value or b"") == value
    ]
    assert letter.category == "invalid_value"
    assert letter.field == "currency"
    assert "ZZZ" in letter.detail or "currency" in letter.detail


def test_an_operator_can_trace_a_decision(deployment: StreamSetup, test_package: Path) -> None:
    """An analyst asks why a payment was decided as it was. `fraudstream trace <id>` shows the
    decision and the exact model (name, version, content hash) and role that made it."""
    transaction_id = f"T-trace-{uuid.uuid4().hex[:8]}"
    produce(
        deployment.env["FRAUD_KAFKA_BOOTSTRAP"],
        deployment.topic("transactions"),
        [_transaction(transaction_id=transaction_id)],
    )
    decision = _decisions(deployment, {transaction_id})[transaction_id]
    write_policy(Path(deployment.env["FRAUD_VAR_DIR"]))  # trace reads the governed registry
    done = run_cli(deployment.env, "trace", transaction_id, "--timeout", "30")
    assert done.returncode == 0, done.stdout + done.stderr
    manifest = read_manifest_unverified(test_package)
    assert f"decision  {decision.decision_id}: {decision.outcome}" in done.stdout
    assert f"model     {manifest.name}:{manifest.version} as champion" in done.stdout
    assert manifest.content_hash in done.stdout
