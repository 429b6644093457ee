"""The content-addressed dataset store: ids are file hashes, puts are idempotent, loads verify."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from models.datasets import (
    DatasetIntegrityError,
    DatasetNotFoundError,
    DatasetStore,
    SimulatorSource,
    canonical_transactions,
)
from models.datasets.columns import (
    AMOUNT_TYPE,
    TRANSACTIONS_SCHEMA,
    cents_to_decimal,
    decimal_to_cents,
)
from models.simulator import SimulationResult, SimulatorConfig, simulate, store_simulation

CREATED = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def result() -> SimulationResult:
    return simulate(SimulatorConfig.small(seed=2))


@pytest.fixture
def store(tmp_path: Path) -> DatasetStore:
    return DatasetStore(tmp_path / "datasets", clock=lambda: CREATED)


def _source(result: SimulationResult) -> SimulatorSource:
    return SimulatorSource(seed=result.config.seed, config=result.config.model_dump(mode="json"))


def test_put_then_load_gives_the_canonical_table(
    store: DatasetStore, result: SimulationResult
) -> None:
    manifest = store.put_transactions(result.transactions, _source(result), created_by="tester")
    loaded = store.load(manifest.id)
    assert loaded.equals(canonical_transactions(result.transactions))
    assert loaded.schema.field("amount").type == AMOUNT_TYPE
    assert loaded.schema.names == TRANSACTIONS_SCHEMA.names


def test_manifest_describes_the_dataset(store: DatasetStore, result: SimulationResult) -> None:
    transactions, labels = store_simulation(store, result, created_by="tester")
    table = result.transactions
    assert transactions.rows == table.num_rows
    assert [column.name for column in transactions.columns] == TRANSACTIONS_SCHEMA.names
    assert transactions.time_span is not None
    assert transactions.time_span.start == table.column("event_time")[0].as_py()
    fraud = sum(table.column("is_fraud").to_pylist())
    assert transactions.fraud_rate == pytest.approx(fraud / table.num_rows)
    assert transactions.created_at == CREATED and transactions.created_by == "tester"
    assert transactions.source.kind == "simulator" and transactions.source.seed == 2
    assert SimulatorConfig.model_validate(transactions.source.config) == result.config
    assert labels.kind == "labels" and labels.transactions_id == transactions.id
    assert labels.label_count == result.labels.num_rows
    assert store.labels_for(transactions.id) == [labels]
    on_disk = json.loads((store.root / transactions.id / "manifest.json").read_text())
    assert on_disk["id"] == transactions.id


def test_same_content_same_id_stored_once(store: DatasetStore, result: SimulationResult) -> None:
    first = store.put_transactions(result.transactions, _source(result))
    reversed_rows = result.transactions.take(
        pa.array(range(result.transactions.num_rows - 1, -1, -1))
    )
    reordered_columns = reversed_rows.select(list(reversed(reversed_rows.column_names)))
    later = DatasetStore(store.root, clock=lambda: datetime(2030, 1, 1, tzinfo=UTC))
    second = later.put_transactions(reordered_columns, _source(result), created_by="someone else")
    assert second == first  # the first manifest is kept
    assert store.ids() == [first.id]


def test_different_content_different_id(store: DatasetStore, result: SimulationResult) -> None:
    first = store.put_transactions(result.transactions, _source(result))
    fewer = store.put_transactions(result.transactions.slice(0, 100), _source(result))
    assert first.id != fewer.id
    assert sorted(store.ids("transactions")) == sorted([first.id, fewer.id])


def test_a_tampered_file_is_detected(store: DatasetStore, result: SimulationResult) -> None:
    manifest = store.put_transactions(result.transactions, _source(result))
    path = store.path_of(manifest.id)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(DatasetIntegrityError):
        store.load(manifest.id)
    with pytest.raises(DatasetIntegrityError):
        store.put_transactions(result.transactions, _source(result))


def test_unknown_ids_are_reported(store: DatasetStore, result: SimulationResult) -> None:
    with pytest.raises(DatasetNotFoundError):
        store.load("0" * 64)
    with pytest.raises(DatasetNotFoundError):
        store.manifest("../etc")
    with pytest.raises(DatasetNotFoundError):
        store.put_labels(result.labels, _source(result), transactions_id="0" * 64)


def test_cents_and_decimals_convert_exactly() -> None:
    import numpy as np

    cents = np.array([1, 99, 100, 123456, 100_000_000], dtype=np.int64)
    decimals = cents_to_decimal(cents)
    assert [str(value) for value in decimals.to_pylist()] == [
        "0.01",
        "0.99",
        "1.00",
        "1234.56",
        "1000000.00",
    ]
    assert (decimal_to_cents(decimals) == cents).all()
    assert (decimal_to_cents(decimals.slice(2)) == cents[2:]).all()
