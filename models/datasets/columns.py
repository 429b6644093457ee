"""The canonical column layout of stored transactions and labels (Arrow types, fixed order).

Amounts are stored as decimal128(11, 2), not int64 cents: the type itself carries the scale, so
any Parquet reader (pyarrow, pandas, DuckDB, Spark) sees 12.30 and not 1230 with a unit convention
to remember, and a value round-trips exactly to the `Decimal` of `schemas.transaction.Transaction`.
Precision 11 covers the contract's 9 digits with headroom. Numeric code that wants cents reads the
unscaled integers directly (`decimal_to_cents`), which is exact and costs no float rounding.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from schemas.transaction import Transaction

AMOUNT_TYPE = pa.decimal128(11, 2)
TIME_TYPE = pa.timestamp("us", tz="UTC")

TRANSACTION_FIELDS: tuple[str, ...] = tuple(Transaction.model_fields)
"""The contract's fields, in the contract's order: the first columns of every stored dataset."""

GROUND_TRUTH_FIELDS: tuple[str, ...] = ("is_fraud", "fraud_scenario")
"""Simulator truth, never part of a Transaction; null in imported data that has none."""

TRANSACTIONS_SCHEMA = pa.schema(
    [
        pa.field("schema_version", pa.int32(), nullable=False),
        pa.field("transaction_id", pa.string(), nullable=False),
        pa.field("card_id", pa.string(), nullable=False),
        pa.field("merchant_id", pa.string(), nullable=False),
        pa.field("terminal_id", pa.string()),
        pa.field("amount", AMOUNT_TYPE, nullable=False),
        pa.field("currency", pa.string(), nullable=False),
        pa.field("event_time", TIME_TYPE, nullable=False),
        pa.field("mcc", pa.string(), nullable=False),
        pa.field("channel", pa.string(), nullable=False),
        pa.field("country", pa.string(), nullable=False),
        pa.field("entry_mode", pa.string()),
        pa.field("card_present", pa.bool_()),
        pa.field("device_id_hash", pa.string()),
        pa.field("ip_hash", pa.string()),
        pa.field("customer_lat", pa.float64()),
        pa.field("customer_lon", pa.float64()),
        pa.field("is_fraud", pa.bool_()),
        pa.field("fraud_scenario", pa.string()),
    ]
)

LABEL_SOURCES: tuple[str, ...] = ("chargeback", "confirmed_fraud", "cleared")
"""`cleared` marks a transaction confirmed genuine (e.g. after a review); the others are fraud."""

LABELS_SCHEMA = pa.schema(
    [
        pa.field("transaction_id", pa.string(), nullable=False),
        pa.field("card_id", pa.string(), nullable=False),
        pa.field("is_fraud", pa.bool_(), nullable=False),
        pa.field("label_source", pa.string(), nullable=False),
        pa.field("labelled_at", TIME_TYPE, nullable=False),
        pa.field("event_time", TIME_TYPE, nullable=False),
    ]
)

assert TRANSACTIONS_SCHEMA.names[: len(TRANSACTION_FIELDS)] == list(TRANSACTION_FIELDS), (
    "the stored column order must follow the Transaction contract"
)


def cents_to_decimal(cents: npt.NDArray[np.int64]) -> Any:
    """An exact decimal128(11, 2) Arrow array from integer cents (no float on the way)."""
    values = np.ascontiguousarray(cents, dtype=np.int64)
    # decimal128 stores a little-endian 128-bit unscaled integer: low word, then sign extension.
    words = np.empty((len(values), 2), dtype=np.int64)
    words[:, 0] = values
    words[:, 1] = values >> 63
    return pa.Array.from_buffers(AMOUNT_TYPE, len(values), [None, pa.py_buffer(words.tobytes())])


def decimal_to_cents(amounts: Any) -> npt.NDArray[np.int64]:
    """Integer cents from a decimal128(_, 2) Arrow array or chunked array without nulls."""
    if isinstance(amounts, pa.ChunkedArray):
        amounts = amounts.combine_chunks()
    if amounts.type.scale != 2 or amounts.null_count:
        raise ValueError("expected a decimal column with scale 2 and no nulls")
    words = np.frombuffer(amounts.buffers()[1], dtype=np.int64)
    start = amounts.offset * 2
    low = words[start : start + 2 * len(amounts) : 2]
    return np.array(low, dtype=np.int64)
