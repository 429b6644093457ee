"""Every dead letter the edge builds is valid against the exported JSON Schema, whatever the input.

`admit` is the decision path's verdict on one raw record (value, key, coordinates): a
Transaction or a DeadLetter. Over arbitrary keys (none, empty, up to 1 MB of any bytes), values
(any bytes, valid transactions, oversized ones) and coordinates, each dead letter must validate
against `schemas/json/DeadLetter.json` (the file producers in other languages use), carry the
real source coordinates and the key (whole, or its start + sha256 + length), and have the id of
those coordinates. Record headers are not an input of `admit`: the stage never reads them.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from functools import cache

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from schemas import examples
from schemas.categories import ErrorCategory
from schemas.codec import SourceCoords, decode_record, encode_dead_letter, encode_record
from schemas.dead_letter import MAX_DETAIL_CHARS, MAX_KEY_BYTES, DeadLetter, dead_letter_id_for
from schemas.export import DEFAULT_OUT_DIR
from schemas.rejection import truncate
from schemas.transaction import Transaction
from stream.decision_path.intake import admit, input_decoder
from stream.dlq import DEAD_LETTER_LIMITS
from stream.settings import Settings

NOW = datetime(2026, 11, 2, 10, 16, 0, tzinfo=UTC)
TOPIC = "fraud.transactions.v1"
MEGABYTE = 1 << 20

PROPERTY = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=200,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@cache
def validator() -> Draft202012Validator:
    schema = json.loads((DEFAULT_OUT_DIR / "DeadLetter.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def repeated(pattern: bytes, length: int) -> bytes:
    """`length` bytes of `pattern` repeated: large inputs without drawing each byte."""
    return (pattern * (length // len(pattern) + 1))[:length]


large = st.builds(
    repeated, st.binary(min_size=1, max_size=32), st.integers(min_value=0, max_value=MEGABYTE)
)
keys = st.none() | st.binary(max_size=80) | large | st.just(b"card-42")
VALID = json.loads(encode_record(examples.transaction()))
values = (
    st.none()
    | st.binary(max_size=300)
    | large
    | st.just(encode_record(examples.transaction()))
    | st.builds(lambda card: json.dumps(VALID | {"card_id": card}).encode(), st.text(max_size=80))
)
coords = st.tuples(
    st.integers(min_value=0, max_value=2**31 - 1),
    st.integers(min_value=0, max_value=2**63 - 1),
    st.none() | st.integers(min_value=-1, max_value=2**63 - 1),
)


def check_dead_letter(letter: DeadLetter, value: bytes | None, source: SourceCoords) -> None:
    encoded = encode_dead_letter(letter)
    errors = [e.message[:200] for e in validator().iter_errors(json.loads(encoded))]
    assert not errors, errors
    assert letter.category is not ErrorCategory.INTERNAL_ERROR, letter.detail
    assert letter.value == value
    assert letter.dead_letter_id == dead_letter_id_for(TOPIC, source.partition, source.offset)
    carried = letter.source
    assert (carried.topic, carried.partition, carried.offset, carried.timestamp_ms) == (
        TOPIC,
        source.partition,
        source.offset,
        source.timestamp_ms,
    )
    key = source.key
    if key is None or len(key) <= MAX_KEY_BYTES:
        assert (carried.key, carried.key_length, carried.key_sha256) == (key, None, None)
        assert carried.key_is_whole
    else:
        assert carried.key == key[:MAX_KEY_BYTES]
        assert carried.key_length == len(key)
        assert carried.key_sha256 == hashlib.sha256(key).hexdigest()
    # ... and the DLQ tools read it back.
    assert decode_record(DeadLetter, encoded, limits=DEAD_LETTER_LIMITS) == letter


@PROPERTY
@given(keys, values, coords)
def test_every_dead_letter_is_schema_valid_and_names_its_input(
    key: bytes | None, value: bytes | None, where: tuple[int, int, int | None]
) -> None:
    decoder = input_decoder(Settings(), "prop-worker")
    source = SourceCoords(TOPIC, where[0], where[1], key, where[2])
    verdict = admit(decoder, value, source, NOW)
    if isinstance(verdict, Transaction):
        assert key == verdict.card_id.encode()
    else:
        check_dead_letter(verdict, value, source)


def test_a_valid_transaction_under_a_10_000_byte_key_is_a_key_mismatch() -> None:
    key = bytes(range(256)) * 39 + b"x" * 16
    source = SourceCoords(TOPIC, 2, 4711, key, 1_793_614_530_250)
    value = encode_record(examples.transaction())
    letter = admit(input_decoder(Settings(), "prop-worker"), value, source, NOW)
    assert isinstance(letter, DeadLetter)
    check_dead_letter(letter, value, source)
    assert letter.category is ErrorCategory.KEY_MISMATCH
    assert "(10000 bytes)" in letter.detail
    assert len(letter.detail) < 400


def test_an_overlong_detail_is_cut_to_the_limit_exactly() -> None:
    cut = truncate("x" * (MAX_DETAIL_CHARS + 1))
    assert len(cut) == MAX_DETAIL_CHARS
    assert cut.endswith("(truncated)")
    assert truncate("x" * MAX_DETAIL_CHARS) == "x" * MAX_DETAIL_CHARS
