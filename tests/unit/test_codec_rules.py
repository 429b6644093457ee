"""The transaction codec, one rule at a time: every kind of bad input → its dead-letter category."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from schemas import examples
from schemas.categories import ErrorCategory
from schemas.codec import (
    PARSER_MAX_DEPTH,
    DecodeLimits,
    Decoder,
    SourceCoords,
    decode_record,
    decode_transaction,
    encode_dead_letter,
    encode_record,
    first_duplicate_key,
    nesting_depth,
    raw_sha256,
    transaction_decoder,
)
from schemas.dead_letter import DeadLetter, dead_letter_id_for
from schemas.decision import Decision
from schemas.errors import RecordRejected
from schemas.transaction import Transaction

NOW = datetime(2026, 11, 2, 10, 16, 0, tzinfo=UTC)
SOURCE = SourceCoords("fraud.transactions.v1", 3, 1042, b"card-42", 1_793_614_530_250)
WORKER = "worker-1:4242"


def valid_fields() -> dict[str, Any]:
    fields: dict[str, Any] = json.loads(encode_record(examples.transaction()))
    return fields


def encoded(**changes: Any) -> bytes:
    return json.dumps(valid_fields() | changes).encode()


def without(name: str) -> bytes:
    fields = valid_fields()
    del fields[name]
    return json.dumps(fields).encode()


def replaced(old: bytes, new: bytes) -> bytes:
    raw = encode_record(examples.transaction())
    assert old in raw
    return raw.replace(old, new, 1)


def decode(raw: bytes | None, limits: DecodeLimits | None = None) -> Transaction | DeadLetter:
    return decode_transaction(
        raw, SOURCE, now=NOW, worker_id=WORKER, limits=limits or DecodeLimits()
    )


def rejected(raw: bytes | None, limits: DecodeLimits | None = None) -> DeadLetter:
    result = decode(raw, limits)
    assert isinstance(result, DeadLetter), f"accepted: {result!r}"
    assert result.value == raw
    return result


def test_a_valid_record_decodes_to_the_same_transaction() -> None:
    assert decode(encode_record(examples.transaction())) == examples.transaction()


def test_unknown_fields_are_ignored() -> None:
    result = decode(encoded(loyalty_tier="gold", three_ds={"version": "2.2", "eci": [5]}))
    assert result == examples.transaction()


def test_optional_fields_may_be_absent_or_null() -> None:
    assert isinstance(decode(without("terminal_id")), Transaction)
    assert isinstance(decode(encoded(customer_lat=None, entry_mode=None)), Transaction)


def test_a_timestamp_with_another_offset_is_accepted_and_keeps_its_offset() -> None:
    result = decode(encoded(event_time="2026-11-02T12:15:30+02:00"))
    assert isinstance(result, Transaction)
    assert result.event_time.utcoffset() == timedelta(hours=2)
    assert result.event_time == datetime(2026, 11, 2, 10, 15, 30, tzinfo=UTC)


CASES: list[tuple[str, bytes | None, ErrorCategory, str | None]] = [
    # transport: cheapest checks first
    ("null value (tombstone)", None, ErrorCategory.EMPTY, None),
    ("zero bytes", b"", ErrorCategory.EMPTY, None),
    (
        "invalid UTF-8 in a value",
        replaced(b'"card-42"', b'"card-\xff"'),
        ErrorCategory.NOT_UTF8,
        None,
    ),
    ("latin-1 bytes", '{"merchant_id": "café"}'.encode("latin-1"), ErrorCategory.NOT_UTF8, None),
    ("syntax error", b'{"schema_version": 1,', ErrorCategory.NOT_JSON, None),
    ("trailing data", encode_record(examples.transaction()) + b"x", ErrorCategory.NOT_JSON, None),
    (
        "a UTF-8 BOM",
        b"\xef\xbb\xbf" + encode_record(examples.transaction()),
        ErrorCategory.NOT_JSON,
        None,
    ),
    ("whitespace only", b"  \n", ErrorCategory.NOT_JSON, None),
    ("a lone surrogate escape", replaced(b'"t-1"', b'"\\ud800"'), ErrorCategory.NOT_JSON, None),
    ("thousands of levels", b"[" * 5000 + b"]" * 5000, ErrorCategory.TOO_DEEP, None),
    (
        "deep inside an unknown field",
        encoded(x=json.loads("[" * 300 + "]" * 300)),
        ErrorCategory.TOO_DEEP,
        None,
    ),
    (
        "an integer of 5000 digits",
        replaced(b"52.52", b"9" * 5000),
        ErrorCategory.OUT_OF_RANGE,
        None,
    ),
    # shape
    ("a JSON array", b"[1, 2]", ErrorCategory.NOT_OBJECT, None),
    ("a JSON string", b'"tx-1"', ErrorCategory.NOT_OBJECT, None),
    ("JSON null", b"null", ErrorCategory.NOT_OBJECT, None),
    ("a JSON number", b"42", ErrorCategory.NOT_OBJECT, None),
    # schema version
    (
        "a newer version",
        encoded(schema_version=2),
        ErrorCategory.UNSUPPORTED_SCHEMA_VERSION,
        "schema_version",
    ),
    (
        "a newer version in another shape",
        b'{"schema_version": 2, "tx": {}}',
        ErrorCategory.UNSUPPORTED_SCHEMA_VERSION,
        "schema_version",
    ),
    (
        "a huge version",
        replaced(b'"schema_version":1', b'"schema_version":1' + b"0" * 400),
        ErrorCategory.UNSUPPORTED_SCHEMA_VERSION,
        "schema_version",
    ),
    ("version 0", encoded(schema_version=0), ErrorCategory.OUT_OF_RANGE, "schema_version"),
    (
        "version as a string",
        encoded(schema_version="1"),
        ErrorCategory.WRONG_TYPE,
        "schema_version",
    ),
    ("version as a bool", encoded(schema_version=True), ErrorCategory.WRONG_TYPE, "schema_version"),
    (
        "version 1.0",
        replaced(b'"schema_version":1', b'"schema_version":1.0'),
        ErrorCategory.WRONG_TYPE,
        "schema_version",
    ),
    # fields
    ("missing card_id", without("card_id"), ErrorCategory.MISSING_FIELD, "card_id"),
    ("card_id a number", encoded(card_id=42), ErrorCategory.WRONG_TYPE, "card_id"),
    ("card_id too long", encoded(card_id="c" * 65), ErrorCategory.OUT_OF_RANGE, "card_id"),
    ("card_id empty", encoded(card_id=""), ErrorCategory.OUT_OF_RANGE, "card_id"),
    ("card_id with a space", encoded(card_id="card 42"), ErrorCategory.INVALID_VALUE, "card_id"),
    ("amount a JSON number", replaced(b'"123.45"', b"123.45"), ErrorCategory.WRONG_TYPE, "amount"),
    ("amount a bool", encoded(amount=True), ErrorCategory.WRONG_TYPE, "amount"),
    ("amount NaN token", replaced(b'"123.45"', b"NaN"), ErrorCategory.NON_FINITE_NUMBER, "amount"),
    (
        "amount Infinity token",
        replaced(b'"123.45"', b"Infinity"),
        ErrorCategory.NON_FINITE_NUMBER,
        "amount",
    ),
    (
        "card_id NaN token",
        replaced(b'"card-42"', b"NaN"),
        ErrorCategory.NON_FINITE_NUMBER,
        "card_id",
    ),
    ("amount 'NaN'", encoded(amount="NaN"), ErrorCategory.NON_FINITE_NUMBER, "amount"),
    ("amount 'Infinity'", encoded(amount="Infinity"), ErrorCategory.NON_FINITE_NUMBER, "amount"),
    ("amount zero", encoded(amount="0.00"), ErrorCategory.OUT_OF_RANGE, "amount"),
    ("amount negative", encoded(amount="-5.00"), ErrorCategory.OUT_OF_RANGE, "amount"),
    (
        "amount above the maximum",
        encoded(amount="1000000.01"),
        ErrorCategory.OUT_OF_RANGE,
        "amount",
    ),
    ("amount 3 places", encoded(amount="1.005"), ErrorCategory.INVALID_VALUE, "amount"),
    ("amount exponent", encoded(amount="1e2"), ErrorCategory.INVALID_VALUE, "amount"),
    ("amount underscores", encoded(amount="1_000"), ErrorCategory.INVALID_VALUE, "amount"),
    ("amount padded", encoded(amount=" 12.50"), ErrorCategory.INVALID_VALUE, "amount"),
    ("amount leading zero", encoded(amount="012.50"), ErrorCategory.INVALID_VALUE, "amount"),
    ("amount not a number", encoded(amount="twelve"), ErrorCategory.INVALID_VALUE, "amount"),
    ("currency not ISO 4217", encoded(currency="EUX"), ErrorCategory.INVALID_VALUE, "currency"),
    ("currency lower case", encoded(currency="eur"), ErrorCategory.INVALID_VALUE, "currency"),
    ("currency a number", encoded(currency=978), ErrorCategory.WRONG_TYPE, "currency"),
    ("currency null", encoded(currency=None), ErrorCategory.WRONG_TYPE, "currency"),
    ("country not ISO 3166", encoded(country="XX"), ErrorCategory.INVALID_VALUE, "country"),
    ("mcc a number", encoded(mcc=5411), ErrorCategory.WRONG_TYPE, "mcc"),
    ("mcc 3 digits", encoded(mcc="541"), ErrorCategory.INVALID_VALUE, "mcc"),
    ("channel unknown", encoded(channel="PHONE"), ErrorCategory.INVALID_VALUE, "channel"),
    ("channel a number", encoded(channel=1), ErrorCategory.WRONG_TYPE, "channel"),
    ("entry_mode a bool", encoded(entry_mode=True), ErrorCategory.WRONG_TYPE, "entry_mode"),
    ("card_present 'yes'", encoded(card_present="yes"), ErrorCategory.WRONG_TYPE, "card_present"),
    ("card_present 1", encoded(card_present=1), ErrorCategory.WRONG_TYPE, "card_present"),
    (
        "device hash upper case",
        encoded(device_id_hash="A" * 64),
        ErrorCategory.INVALID_VALUE,
        "device_id_hash",
    ),
    ("latitude a bool", encoded(customer_lat=True), ErrorCategory.WRONG_TYPE, "customer_lat"),
    ("latitude a string", encoded(customer_lat="52.5"), ErrorCategory.WRONG_TYPE, "customer_lat"),
    (
        "latitude NaN token",
        replaced(b"52.52", b"NaN"),
        ErrorCategory.NON_FINITE_NUMBER,
        "customer_lat",
    ),
    (
        "latitude -Infinity token",
        replaced(b"52.52", b"-Infinity"),
        ErrorCategory.NON_FINITE_NUMBER,
        "customer_lat",
    ),
    (
        "latitude overflows to inf",
        replaced(b"52.52", b"1e400"),
        ErrorCategory.NON_FINITE_NUMBER,
        "customer_lat",
    ),
    (
        "latitude out of range",
        encoded(customer_lat=90.5),
        ErrorCategory.OUT_OF_RANGE,
        "customer_lat",
    ),
    # timestamps: ISO 8601 with an offset, nothing else
    ("epoch seconds", encoded(event_time=1_793_614_530), ErrorCategory.WRONG_TYPE, "event_time"),
    (
        "epoch milliseconds",
        encoded(event_time=1_793_614_530_250),
        ErrorCategory.WRONG_TYPE,
        "event_time",
    ),
    (
        "epoch as a string",
        encoded(event_time="1793614530"),
        ErrorCategory.INVALID_TIMESTAMP,
        "event_time",
    ),
    (
        "a date only",
        encoded(event_time="2026-11-02"),
        ErrorCategory.INVALID_TIMESTAMP,
        "event_time",
    ),
    ("not a date", encoded(event_time="yesterday"), ErrorCategory.INVALID_TIMESTAMP, "event_time"),
    (
        "February 30th",
        encoded(event_time="2026-02-30T10:00:00Z"),
        ErrorCategory.INVALID_TIMESTAMP,
        "event_time",
    ),
    (
        "a space separator",
        encoded(event_time="2026-11-02 10:15:30Z"),
        ErrorCategory.INVALID_TIMESTAMP,
        "event_time",
    ),
    (
        "naive",
        encoded(event_time="2026-11-02T10:15:30"),
        ErrorCategory.NAIVE_TIMESTAMP,
        "event_time",
    ),
    (
        "far in the future",
        encoded(event_time="9999-12-31T23:59:59Z"),
        ErrorCategory.FUTURE_TIMESTAMP,
        "event_time",
    ),
    (
        "beyond the skew",
        encoded(event_time="2026-11-02T10:21:00.000001Z"),
        ErrorCategory.FUTURE_TIMESTAMP,
        "event_time",
    ),
]


@pytest.mark.parametrize(
    ("raw", "category", "field"),
    [pytest.param(raw, category, field, id=name) for name, raw, category, field in CASES],
)
def test_bad_input_becomes_a_dead_letter_with_its_category(
    raw: bytes | None, category: ErrorCategory, field: str | None
) -> None:
    dead = rejected(raw)
    assert dead.category is category, dead.detail
    assert dead.field == field
    assert dead.detail


def test_a_payload_over_the_size_limit_is_refused_before_parsing() -> None:
    megabyte = encoded(note="x" * 1_000_000)
    assert rejected(megabyte).category is ErrorCategory.TOO_LARGE
    assert isinstance(decode(megabyte, DecodeLimits(max_bytes=2_000_000)), Transaction)


def test_the_future_skew_is_inclusive_and_configurable() -> None:
    at_edge = encoded(event_time="2026-11-02T10:21:00Z")  # NOW + 5 min exactly
    assert isinstance(decode(at_edge), Transaction)
    strict = DecodeLimits(max_future_skew=timedelta(0))
    assert rejected(encoded(event_time="2026-11-02T10:16:00.000001Z"), strict).category is (
        ErrorCategory.FUTURE_TIMESTAMP
    )


def test_old_events_are_refused_only_when_a_maximum_age_is_set() -> None:
    old = encoded(event_time="2026-10-01T00:00:00Z")
    assert isinstance(decode(old), Transaction)
    dead = rejected(old, DecodeLimits(max_past_age=timedelta(days=7)))
    assert dead.category is ErrorCategory.STALE_TIMESTAMP
    assert dead.field == "event_time"


def test_a_lower_depth_limit_counts_brackets_outside_strings_only() -> None:
    limits = DecodeLimits(max_depth=3)
    assert isinstance(decode(encoded(x={"a": [1]}), limits), Transaction)  # depth 3
    assert rejected(encoded(x={"a": [[1]]}), limits).category is ErrorCategory.TOO_DEEP
    assert isinstance(decode(encoded(x='[[[[{{{{ " [[[['), limits), Transaction)


def test_nesting_depth() -> None:
    assert nesting_depth(b'{"a": 1}', stop_above=10) == 1
    assert nesting_depth(b'{"a": [{"b": []}]}', stop_above=10) == 4
    assert nesting_depth(b'{"a": "[[[{{{"}', stop_above=10) == 1
    assert nesting_depth(b'{"a": "\\"[[["}', stop_above=10) == 1
    assert nesting_depth(b"[" * 50, stop_above=10) == 11  # stops early


def test_duplicate_keys_last_wins_unless_refused() -> None:
    raw = replaced(b"{", b'{"amount":"999.99",')
    result = decode(raw)
    assert isinstance(result, Transaction)
    assert result.amount == Decimal("123.45")  # what jiter does: the last value wins
    dead = rejected(raw, DecodeLimits(reject_duplicate_keys=True))
    assert dead.category is ErrorCategory.DUPLICATE_KEY
    assert dead.field == "amount"
    escaped = replaced(b"{", b'{"\\u0061mount":"999.99",')  # the same key, spelt differently
    assert rejected(escaped, DecodeLimits(reject_duplicate_keys=True)).field == "amount"
    assert isinstance(
        decode(encode_record(examples.transaction()), DecodeLimits(reject_duplicate_keys=True)),
        Transaction,
    )


def test_first_duplicate_key_looks_into_nested_objects() -> None:
    assert first_duplicate_key(b'{"a": 1, "b": {"c": 1, "c": 2}}') == "c"
    assert first_duplicate_key(b'{"a": 1, "b": [{"a": 2}]}') is None


def test_the_first_error_decides_and_the_detail_lists_them_all() -> None:
    raw = encoded(card_id=7, amount="0", currency="EUX", customer_lat=True)
    dead = rejected(raw)
    assert dead.category is ErrorCategory.WRONG_TYPE
    assert dead.field == "card_id"
    for path in ("card_id", "amount", "currency", "customer_lat"):
        assert f"{path}: " in dead.detail
    assert "[out_of_range]" in dead.detail
    assert "must be > 0" in dead.detail


def test_the_detail_never_echoes_a_huge_input() -> None:
    dead = rejected(encoded(card_id="x" * 60_000))
    assert len(dead.detail) < 300


def test_a_dead_letter_carries_the_source_and_who_rejected_it() -> None:
    raw = encoded(currency="EUX")
    dead = rejected(raw)
    assert dead.record_type == "Transaction"
    assert dead.dead_letter_id == dead_letter_id_for(SOURCE.topic, SOURCE.partition, SOURCE.offset)
    assert (dead.source.topic, dead.source.partition, dead.source.offset) == SOURCE[:3]
    assert dead.source.key == SOURCE.key
    assert dead.source.timestamp_ms == SOURCE.timestamp_ms
    assert dead.dead_lettered_at == NOW
    assert dead.dead_lettered_by == WORKER


def test_a_dead_letter_encodes_and_decodes_with_its_bytes_intact() -> None:
    raw = b'{"amount": "\xff\xfe", "key": "\x00"}'
    dead = rejected(raw)
    data = encode_dead_letter(dead)
    assert json.loads(data)["value"]  # base64url text, so the JSON stays valid UTF-8
    again = decode_record(DeadLetter, data)
    assert again == dead
    assert again.value == raw


def test_a_codec_bug_becomes_an_internal_error_dead_letter(monkeypatch: pytest.MonkeyPatch) -> None:
    decoder = Decoder(Transaction, worker_id=WORKER)

    def broken(raw: bytes) -> Transaction:
        raise RuntimeError("boom")

    monkeypatch.setattr(decoder, "_validate_json", broken)
    raw = encode_record(examples.transaction())
    dead = decoder.decode(raw, SOURCE, now=NOW)
    assert isinstance(dead, DeadLetter)
    assert dead.category is ErrorCategory.INTERNAL_ERROR
    assert "boom" in dead.detail
    assert dead.value == raw


def test_unusable_source_coordinates_still_give_a_dead_letter_with_the_bytes() -> None:
    decoder = Decoder(Transaction, worker_id=WORKER)
    weird = SourceCoords("t" * 300, 0, 0)  # longer than Kafka allows: fails KafkaSource
    dead = decoder.decode(b"", weird, now=NOW)
    assert isinstance(dead, DeadLetter)
    assert dead.category is ErrorCategory.INTERNAL_ERROR
    assert "empty" in dead.detail
    assert dead.value == b""
    # still a valid record that names the input's place and has that place's id
    assert DeadLetter.model_validate(dead.model_dump()) == dead
    assert (dead.source.partition, dead.source.offset) == (0, 0)
    assert dead.dead_letter_id == dead_letter_id_for(weird.topic, 0, 0)


def test_a_naive_clock_is_a_caller_bug_and_raises() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        decode_transaction(b"{}", SOURCE, now=datetime(2026, 11, 2), worker_id=WORKER)


def test_the_window_follows_a_new_now() -> None:
    decoder = transaction_decoder(WORKER)
    raw = encoded(event_time="2026-11-02T11:00:00Z")
    assert isinstance(decoder.decode(raw, SOURCE, now=NOW), DeadLetter)
    later = NOW + timedelta(hours=1)
    assert isinstance(decoder.decode(raw, SOURCE, now=later), Transaction)


def test_limits_and_worker_ids_are_checked_up_front() -> None:
    with pytest.raises(ValueError, match="max_depth"):
        DecodeLimits(max_depth=PARSER_MAX_DEPTH + 1)
    with pytest.raises(ValueError, match="max_bytes"):
        DecodeLimits(max_bytes=0)
    with pytest.raises(ValueError, match="worker_id"):
        Decoder(Transaction, worker_id="has spaces")


def test_decode_record_raises_for_internal_topics() -> None:
    data = encode_record(examples.decision())
    assert decode_record(Decision, data) == examples.decision()
    with pytest.raises(RecordRejected) as caught:
        decode_record(Decision, data.replace(b'"schema_version":1', b'"schema_version":2'))
    assert caught.value.category is ErrorCategory.UNSUPPORTED_SCHEMA_VERSION


def test_raw_sha256() -> None:
    assert raw_sha256(b"abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert raw_sha256(None) == raw_sha256(b"")
