"""Every record contract: record → bytes → record gives the same record, in JSON and Python."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from schemas import examples
from schemas.base import Record
from schemas.codec import decode_record, encode_record
from schemas.export import RECORDS

EXAMPLES: dict[str, Callable[[], Record]] = {
    "transaction": examples.transaction,
    "decision": examples.decision,
    "fallback_decision": examples.fallback_decision,
    "scoring_log": examples.scoring_log,
    "dead_letter": examples.dead_letter,
    "fraud_label": examples.fraud_label,
    "drift_report": examples.drift_report,
    "model_control": examples.model_control,
    "dead_letter_replay": examples.dead_letter_replay,
    "outcome_audit": examples.outcome_audit,
}


def test_every_record_type_has_an_example() -> None:
    covered = {type(make()) for make in EXAMPLES.values()}
    assert covered == set(RECORDS)


@pytest.mark.parametrize("make", EXAMPLES.values(), ids=EXAMPLES.keys())
def test_json_round_trip(make: Callable[[], Record]) -> None:
    record = make()
    data = encode_record(record)
    assert data == record.model_dump_json().encode()
    again = decode_record(type(record), data)
    assert again == record
    assert encode_record(again) == data  # stable: a second trip changes nothing


@pytest.mark.parametrize("make", EXAMPLES.values(), ids=EXAMPLES.keys())
def test_python_round_trip(make: Callable[[], Record]) -> None:
    record = make()
    assert type(record).model_validate(record.model_dump()) == record


@pytest.mark.parametrize("make", EXAMPLES.values(), ids=EXAMPLES.keys())
def test_encoding_is_plain_json_with_the_schema_version(make: Callable[[], Record]) -> None:
    record = make()
    decoded = json.loads(encode_record(record))  # strict: no NaN tokens, valid UTF-8
    assert decoded["schema_version"] == type(record).SCHEMA_VERSION


@pytest.mark.parametrize("make", EXAMPLES.values(), ids=EXAMPLES.keys())
def test_records_are_frozen(make: Callable[[], Record]) -> None:
    record = make()
    with pytest.raises(ValueError, match="frozen"):
        record.schema_version = 2  # type: ignore[misc]  # the point: it must not be settable
