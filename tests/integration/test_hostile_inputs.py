"""Hostile records through a real worker: huge and binary keys, odd headers, absurd event times.

Each one must leave exactly one outcome: a dead letter valid against the exported JSON Schema,
naming the record's real partition and offset under its own id, which `dlq list` reads and the
outcome audit counts.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from confluent_kafka import KafkaError, Message
from jsonschema import Draft202012Validator

from schemas import DeadLetter
from schemas.dead_letter import MAX_KEY_BYTES, dead_letter_id_for
from schemas.export import DEFAULT_OUT_DIR
from stream.audit import audit_once
from stream.settings import TopicNames
from tests.support.cli import run_cli
from tests.support.clients import java_compatible_producer, wait_for_records
from tests.support.stream_setup import simulated_events, stream_setup
from tests.support.stream_worker import StreamWorker

pytestmark = pytest.mark.integration

Headers = list[tuple[str, bytes]]
HOSTILE_HEADERS: Headers = [
    ("", b"\x00\xff" * 100),
    ("x-\u00e9\u00e8-\U0001f4a9", b"\xff" * 10_000),
    ("content-type", b"application/json"),
]


def _hostile_records(valid: bytes) -> list[tuple[bytes | None, bytes | None, Headers, str]]:
    """(key, value, headers, expected category)."""
    good = json.loads(valid)

    def variant(transaction_id: str, **changes: object) -> bytes:
        return json.dumps({**good, "transaction_id": transaction_id, **changes}).encode()

    return [
        (b"\x00" + bytes(range(256)) * 39 + b"k" * 15, variant("tx-10k-key"), [], "key_mismatch"),
        (os.urandom(500_000), variant("tx-500k-key"), HOSTILE_HEADERS, "key_mismatch"),
        (b"", variant("tx-empty-key"), HOSTILE_HEADERS, "key_mismatch"),
        (b"\xff\xfe" * 3000, b"\xff\xfe\x00 not utf-8", HOSTILE_HEADERS, "not_utf8"),
        (None, None, HOSTILE_HEADERS, "empty"),
        (
            good["card_id"].encode(),
            variant("tx-nan").replace(f'"amount": "{good["amount"]}"'.encode(), b'"amount": NaN'),
            [],
            "non_finite_number",
        ),
        (
            good["card_id"].encode(),
            variant("tx-year-1", event_time="0001-01-01T00:00:00+14:00"),
            HOSTILE_HEADERS,
            "stale_timestamp",
        ),
        (
            good["card_id"].encode(),
            variant("tx-1970", event_time="1970-01-01T00:00:00Z"),
            [],
            "stale_timestamp",
        ),
    ]


def _produce(
    bootstrap: str, topic: str, records: list[tuple[bytes | None, bytes | None, Headers]]
) -> list[tuple[int, int]]:
    """Send the records with their headers; (partition, offset) of each, in order."""
    producer = java_compatible_producer(bootstrap, **{"message.max.bytes": 2_000_000})
    landed: dict[int, tuple[int, int]] = {}
    errors: list[str] = []

    def on_delivery(index: int) -> Callable[[KafkaError | None, Message], None]:
        def report(error: KafkaError | None, message: Message) -> None:
            if error is not None:
                errors.append(str(error))
            else:
                landed[index] = (message.partition() or 0, message.offset() or 0)

        return report

    for index, (key, value, headers) in enumerate(records):
        producer.produce(
            topic, key=key, value=value, headers=headers or None, on_delivery=on_delivery(index)
        )
        producer.poll(0)
    assert producer.flush(30) == 0 and not errors, errors
    return [landed[index] for index in range(len(records))]


def test_hostile_records_each_get_one_valid_dead_letter(
    kafka_bootstrap: str, test_package: Path, tmp_path: Path
) -> None:
    setup = stream_setup(kafka_bootstrap, tmp_path / "var", test_package, "hostile")
    valid = simulated_events(limit=20)
    hostile = _hostile_records(valid[0][1])
    records = [(key, value, []) for key, value in valid]
    records += [(key, value, headers) for key, value, headers, _ in hostile]
    inputs = setup.topic("transactions")

    worker = StreamWorker(setup.env, tmp_path / "data", tmp_path / "worker.log")
    with worker.started(timeout=120):
        coords = _produce(kafka_bootstrap, inputs, records)
        wait_for_records(kafka_bootstrap, setup.topic("decisions"), len(valid), 120)
        stored = wait_for_records(kafka_bootstrap, setup.topic("dead_letters"), len(hostile), 60)

    schema = json.loads((DEFAULT_OUT_DIR / "DeadLetter.json").read_text(encoding="utf-8"))
    validator = Draft202012Validator(schema)
    letters: dict[tuple[int, int], DeadLetter] = {}
    for record in stored:
        document = json.loads(record.value or b"")
        errors = [error.message[:200] for error in validator.iter_errors(document)]
        assert not errors, errors
        letter = DeadLetter.model_validate_json(record.value or b"")
        letters[(letter.source.partition, letter.source.offset)] = letter
    assert len(letters) == len(hostile)  # one each, every one under its own coordinates

    for (key, value, _, category), where in zip(hostile, coords[len(valid) :], strict=True):
        letter = letters[where]
        assert letter.category.value == category, letter.detail
        assert letter.dead_letter_id == dead_letter_id_for(inputs, *where)
        assert letter.source.topic == inputs
        assert letter.value == value
        if key is not None and len(key) > MAX_KEY_BYTES:
            assert letter.source.key == key[:MAX_KEY_BYTES]
            assert letter.source.key_length == len(key)
        else:
            assert letter.source.key == key

    listed = run_cli(setup.env, "dlq", "list", "--limit", "100")
    assert listed.returncode == 0, listed.stderr
    assert f"{len(hostile)} dead letters" in listed.stdout
    assert "not dead letters" not in listed.stderr
    assert all(letter.dead_letter_id in listed.stdout for letter in letters.values())

    summary = audit_once(kafka_bootstrap, TopicNames(**setup.topics))
    assert summary.missing == []
    assert (summary.inputs, summary.decided, summary.dead_lettered) == (
        len(records),
        len(valid),
        len(hostile),
    )
    assert summary.complete
