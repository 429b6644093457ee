"""From generated rows to the stored tables: ids, strings, hashes, Arrow types, final order."""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from models.datasets.columns import (
    LABEL_SOURCES,
    LABELS_SCHEMA,
    TIME_TYPE,
    TRANSACTIONS_SCHEMA,
    cents_to_decimal,
)
from models.simulator import catalogue as cat
from models.simulator.geography import COUNTRIES
from models.simulator.labels import LabelRows
from models.simulator.population import COUNTRY_CODES, mcc_vocabulary
from models.simulator.rows import NO_HASH, Rows
from models.simulator.world import World
from schemas.transaction import TRANSACTION_SCHEMA_VERSION


def event_order(rows: Rows) -> npt.NDArray[np.int64]:
    """Rows by event time; ties keep generation order, so ids (given in this order) break them."""
    return np.argsort(rows.time_us, kind="stable")


def transactions_table(world: World, rows: Rows, mcc_codes: tuple[str, ...]) -> Any:
    """`rows` must already be in event order: transaction ids number them from 1."""
    n = len(rows)
    terminals = world.terminals
    merchant = terminals.merchant[rows.terminal]
    country = terminals.country[rows.terminal]
    fraud = rows.scenario >= 0
    columns = {
        "schema_version": pa.array(np.full(n, TRANSACTION_SCHEMA_VERSION, dtype=np.int32)),
        "transaction_id": numbered("T", np.arange(1, n + 1), 10),
        "card_id": numbered("C", rows.card, 7),
        "merchant_id": numbered("M", merchant, 6),
        "terminal_id": pc.binary_join_element_wise(
            numbered("M", merchant, 6),
            numbered("T", terminals.number_in_merchant[rows.terminal], 2),
            "-",
        ),
        "amount": cents_to_decimal(rows.cents),
        "currency": _lookup([COUNTRIES[code].currency for code in COUNTRY_CODES], country),
        "event_time": pa.array(rows.time_us, type=TIME_TYPE),
        "mcc": _lookup(list(mcc_codes), rows.mcc),
        "channel": _lookup([str(channel) for channel in cat.CHANNELS], rows.channel),
        "country": _lookup(list(COUNTRY_CODES), country),
        "entry_mode": _lookup([str(mode) for mode in cat.ENTRY_MODES], rows.entry_mode),
        "card_present": pa.array(np.isin(rows.channel, cat.CARD_PRESENT_CHANNELS)),
        "device_id_hash": _hashes("device", world, world.n_devices, rows.device),
        "ip_hash": _hashes("ip", world, world.n_ips, rows.ip),
        "customer_lat": pa.array(rows.lat, mask=np.isnan(rows.lat)),
        "customer_lon": pa.array(rows.lon, mask=np.isnan(rows.lon)),
        "is_fraud": pa.array(fraud),
        "fraud_scenario": _lookup(list(cat.SCENARIOS), np.where(fraud, rows.scenario, -1)),
    }
    return pa.table(columns, schema=TRANSACTIONS_SCHEMA)


def labels_table(transactions: Any, labels: LabelRows) -> Any:
    """`labels.row` indexes the transactions table's rows; output sorted by time of labelling."""
    row = pa.array(labels.row)
    unsorted = pa.table(
        {
            "transaction_id": transactions.column("transaction_id").take(row),
            "card_id": transactions.column("card_id").take(row),
            "is_fraud": pa.array(labels.is_fraud),
            "label_source": _lookup(list(LABEL_SOURCES), labels.source),
            "labelled_at": pa.array(labels.labelled_at_us, type=TIME_TYPE),
            "event_time": transactions.column("event_time").take(row),
        },
        schema=LABELS_SCHEMA,
    )
    order = pc.sort_indices(
        unsorted,
        sort_keys=[
            ("labelled_at", "ascending"),
            ("transaction_id", "ascending"),
            ("label_source", "ascending"),
        ],
    )
    return unsorted.take(order)


def numbered(prefix: str, numbers: npt.NDArray[np.int64], width: int) -> Any:
    """Ids like C0000042, built column-wise (no Python loop over rows)."""
    digits = pc.utf8_lpad(pc.cast(pa.array(numbers), pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(prefix, digits, "")


def _lookup(values: list[str], codes: npt.NDArray[np.int64]) -> Any:
    """Strings by code; negative codes become nulls."""
    return pa.array(values, type=pa.string()).take(pa.array(codes, mask=codes < 0))


def _hashes(kind: str, world: World, pool_size: int, codes: npt.NDArray[np.int64]) -> Any:
    """sha256 hex of synthetic identifiers, one per pool entry, seeded so runs differ by seed."""
    pool = [
        hashlib.sha256(f"{kind}:{world.config.seed}:{index}".encode()).hexdigest()
        for index in range(pool_size)
    ]
    return _lookup(pool, np.where(codes == NO_HASH, -1, codes))


def mcc_codes(world: World) -> tuple[str, ...]:
    shift = world.config.shift
    extra = (shift.mcc.mcc,) if shift is not None and shift.mcc is not None else ()
    return mcc_vocabulary(extra)
