"""Properties of the transaction codec over generated input: it is total, and errors are data.

For any bytes at all, `decode_transaction` returns a Transaction or a DeadLetter and never
raises; a dead letter carries the input byte for byte, is never an `internal_error` (that would
be a codec bug), and survives its own encoding. Derandomized, so every run tests the same cases.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas import examples
from schemas.categories import ErrorCategory
from schemas.codec import (
    SourceCoords,
    decode_record,
    decode_transaction,
    encode_record,
    transaction_decoder,
)
from schemas.codes import COUNTRIES, CURRENCIES
from schemas.dead_letter import DeadLetter
from schemas.primitives import MAX_AMOUNT
from schemas.rejection import Rejection
from schemas.transaction import Channel, EntryMode, Transaction

NOW = datetime(2026, 11, 2, 10, 16, 0, tzinfo=UTC)
SOURCE = SourceCoords("fraud.transactions.v1", 0, 99, None, None)

PROPERTY = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=300,
    suppress_health_check=[HealthCheck.too_slow],
)

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
    | st.sampled_from(["", "NaN", "1e2", "2026-11-02T10:15:30", "2026-11-02T10:15:30Z", "EUR"])
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5)
    ),
    max_leaves=25,
)
VALID = json.loads(encode_record(examples.transaction()))
FIELD_NAMES = sorted(VALID)


def check_outcome(raw: bytes | None) -> Transaction | DeadLetter:
    result = decode_transaction(raw, SOURCE, now=NOW, worker_id="prop-worker")
    assert isinstance(result, Transaction | DeadLetter)
    # decode's inlined fast path and the full path agree on every input
    full = transaction_decoder("prop-worker").check(raw, now=NOW)
    if isinstance(full, Rejection):
        assert isinstance(result, DeadLetter)
        assert (result.category, result.detail) == (full.category, full.detail)
    else:
        assert full == result
    if isinstance(result, DeadLetter):
        assert result.value == raw  # the original bytes, untouched
        assert result.category is not ErrorCategory.INTERNAL_ERROR, result.detail
        assert result.detail
        assert decode_record(DeadLetter, encode_record(result)) == result
    else:
        assert raw is not None
        raw.decode("utf-8")  # nothing that is not UTF-8 gets through
        again = decode_transaction(encode_record(result), SOURCE, now=NOW, worker_id="prop-worker")
        assert again == result
    return result


@settings(PROPERTY, max_examples=1000)
@given(st.binary(max_size=600))
def test_any_bytes(raw: bytes) -> None:
    check_outcome(raw)


@PROPERTY
@given(json_values)
def test_any_json_value(value: Any) -> None:
    check_outcome(json.dumps(value).encode())


@PROPERTY
@given(st.sampled_from(FIELD_NAMES), json_values)
def test_a_valid_record_with_one_field_replaced(name: str, value: Any) -> None:
    check_outcome(json.dumps(VALID | {name: value}).encode())


@PROPERTY
@given(st.sampled_from(FIELD_NAMES))
def test_a_valid_record_with_one_field_removed(name: str) -> None:
    fields = dict(VALID)
    del fields[name]
    result = check_outcome(json.dumps(fields).encode())
    required = Transaction.model_fields[name].is_required()
    assert isinstance(result, DeadLetter) == required


@PROPERTY
@given(st.text(min_size=1, max_size=20), json_values)
def test_a_valid_record_with_an_unknown_field_added(name: str, value: Any) -> None:
    result = check_outcome(json.dumps({name: value} | VALID).encode())
    if name not in VALID:
        assert result == examples.transaction()


@PROPERTY
@given(st.data())
def test_a_valid_encoding_with_its_bytes_damaged(data: st.DataObject) -> None:
    raw = bytearray(encode_record(examples.transaction()))
    position = data.draw(st.integers(min_value=0, max_value=len(raw) - 1))
    action = data.draw(st.sampled_from(["replace", "delete", "insert", "truncate"]))
    byte = data.draw(st.integers(min_value=0, max_value=255))
    if action == "replace":
        raw[position] = byte
    elif action == "delete":
        del raw[position]
    elif action == "insert":
        raw.insert(position, byte)
    else:
        del raw[position:]
    check_outcome(bytes(raw))


ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-"
identifiers = st.text(alphabet=ID_CHARS, min_size=1, max_size=64)
sha256_hex = st.binary(min_size=32, max_size=32).map(bytes.hex)
amounts = st.decimals(
    min_value=Decimal("0.01"), max_value=MAX_AMOUNT, places=2, allow_nan=False, allow_infinity=False
)
event_times = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2026, 11, 2, 10, 21)
).map(lambda naive: naive.replace(tzinfo=UTC))
offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda m: timedelta(minutes=m))


@st.composite
def transactions(draw: st.DrawFn) -> Transaction:
    offset = draw(offsets)
    return Transaction(
        schema_version=1,
        transaction_id=draw(identifiers),
        card_id=draw(identifiers),
        merchant_id=draw(identifiers),
        terminal_id=draw(st.none() | identifiers),
        amount=draw(amounts),
        currency=draw(st.sampled_from(sorted(CURRENCIES))),
        event_time=draw(event_times).astimezone(timezone(offset)),
        mcc=f"{draw(st.integers(min_value=0, max_value=9999)):04d}",
        channel=draw(st.sampled_from(Channel)),
        country=draw(st.sampled_from(sorted(COUNTRIES))),
        entry_mode=draw(st.none() | st.sampled_from(EntryMode)),
        card_present=draw(st.none() | st.booleans()),
        device_id_hash=draw(st.none() | sha256_hex),
        ip_hash=draw(st.none() | sha256_hex),
        customer_lat=draw(st.none() | st.floats(min_value=-90, max_value=90)),
        customer_lon=draw(st.none() | st.floats(min_value=-180, max_value=180)),
    )


@PROPERTY
@given(transactions())
def test_every_valid_transaction_round_trips_through_the_codec(record: Transaction) -> None:
    assert check_outcome(encode_record(record)) == record
