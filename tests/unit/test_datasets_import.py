"""Importing users' own transaction files: validated against the contract, bad rows reported."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from models.datasets import DatasetStore, ImportSource, import_transactions
from models.simulator import SimulatorConfig, simulate, store_simulation

HEADER = (
    "schema_version,transaction_id,card_id,merchant_id,amount,currency,event_time,mcc,channel,"
    "country,card_present,customer_lat,customer_lon,is_fraud\n"
)
GOOD = [
    "1,t1,c1,m1,12.30,EUR,2025-03-01T10:00:00Z,5411,POS,FR,true,48.85,2.35,false\n",
    "1,t2,c1,m2,5,EUR,2025-03-01T10:30:00+01:00,5815,ECOM,FR,false,,,true\n",
    "1,t3,c2,m1,1000.00,GBP,2025-03-02T09:30:00Z,6011,ATM,GB,true,51.5,-0.12,\n",
]
BAD = [
    "1,t4,c3,m1,12.345,EUR,2025-03-01T10:00:00Z,5411,POS,FR,true,,,\n",  # 3 decimals
    "1,t5,c3,m1,10.00,XXX,2025-03-01T10:00:00Z,5411,POS,FR,true,,,\n",  # unknown currency
    "1,t6,c3,m1,10.00,EUR,2025-03-01T10:00:00,5411,POS,FR,true,,,\n",  # no UTC offset
    "1,t1,c3,m1,10.00,EUR,2025-03-01T10:00:00Z,5411,POS,FR,true,,,\n",  # repeated id
    "1,t7,c3,m1,10.00,EUR,2025-03-01T10:00:00Z,54,POS,FR,true,,,\n",  # short MCC
]


def _csv(tmp_path: Path, rows: list[str]) -> Path:
    path = tmp_path / "mine.csv"
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    return path


def test_a_clean_csv_is_stored(tmp_path: Path) -> None:
    store = DatasetStore(tmp_path / "store")
    report = import_transactions(store, _csv(tmp_path, GOOD))
    assert report.manifest is not None and report.rows_ok == 3 and report.bad_rows == []
    table = store.load(report.manifest.id)
    assert table.column("transaction_id").to_pylist() == ["t2", "t1", "t3"]  # by event time (UTC)
    assert [str(value) for value in table.column("amount").to_pylist()] == [
        "5.00",
        "12.30",
        "1000.00",
    ]
    assert table.column("is_fraud").to_pylist() == [True, False, None]
    assert report.manifest.source.kind == "import"
    assert report.manifest.source.rows_read == 3


def test_bad_rows_are_reported_and_nothing_is_stored(tmp_path: Path) -> None:
    store = DatasetStore(tmp_path / "store")
    report = import_transactions(store, _csv(tmp_path, GOOD + BAD))
    assert report.manifest is None and store.ids() == []
    assert [bad.row for bad in report.bad_rows] == [4, 5, 6, 7, 8]
    assert [bad.transaction_id for bad in report.bad_rows] == ["t4", "t5", "t6", "t1", "t7"]
    fields = [bad.errors[0].split(":")[0] for bad in report.bad_rows]
    assert fields == ["amount", "currency", "event_time", "transaction_id", "mcc"]


def test_good_rows_can_be_kept_despite_bad_ones(tmp_path: Path) -> None:
    store = DatasetStore(tmp_path / "store")
    report = import_transactions(store, _csv(tmp_path, GOOD + BAD), allow_bad_rows=True)
    assert report.manifest is not None and isinstance(report.manifest.source, ImportSource)
    assert report.manifest.rows == 3 and report.manifest.source.rows_rejected == 5


def test_a_simulated_parquet_file_imports_to_the_same_id(tmp_path: Path) -> None:
    result = simulate(SimulatorConfig.small(n_cards=40, n_days=8))
    path = tmp_path / "sim.parquet"
    pq.write_table(result.transactions, path)
    imported = import_transactions(DatasetStore(tmp_path / "imported"), path)
    transactions, _ = store_simulation(DatasetStore(tmp_path / "direct"), result)
    assert imported.manifest is not None and imported.manifest.id == transactions.id


def test_unsupported_file_types_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "mine.json"
    path.write_text("[]", encoding="utf-8")
    with pytest.raises(ValueError, match="csv or"):
        import_transactions(DatasetStore(tmp_path / "store"), path)
