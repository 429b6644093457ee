"""Bring your own data: a CSV or Parquet file of transactions, checked against the contract.

Every row is validated as a `schemas.transaction.Transaction` (row by row: imports are small);
rows that fail, and repeated transaction ids, are reported with their row number and reasons.
By default nothing is stored when any row is bad, so a user sees the report before deciding.
Optional ground-truth columns `is_fraud` / `fraud_scenario` are kept when present.
"""

from __future__ import annotations

import json
import re
from datetime import UTC
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict, ValidationError

from models.datasets.columns import TRANSACTION_FIELDS, TRANSACTIONS_SCHEMA
from models.datasets.manifest import DatasetManifest, ImportSource
from models.datasets.parquet import sha256_hex
from models.datasets.store import DatasetStore
from schemas.transaction import Transaction


class GroundTruth(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    is_fraud: bool | None = None
    fraud_scenario: str | None = None


class BadRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    row: int  # 1-based data row (a CSV's header is not counted)
    transaction_id: str | None
    errors: list[str]


class ImportReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    path: str
    file_sha256: str
    rows_read: int
    rows_ok: int
    bad_rows_total: int
    bad_rows: list[BadRow]  # the first `max_reported` of them
    manifest: DatasetManifest | None  # None when nothing was stored

    @property
    def stored(self) -> bool:
        return self.manifest is not None


def import_transactions(
    store: DatasetStore,
    path: str | Path,
    *,
    allow_bad_rows: bool = False,
    created_by: str | None = None,
    max_reported: int = 1000,
) -> ImportReport:
    """Validate `path` (.csv or .parquet) and store its good rows as a transactions dataset.

    With `allow_bad_rows`, good rows are stored even if some are bad; otherwise any bad row
    stops the import (the report says which and why)."""
    source_path = Path(path)
    data = source_path.read_bytes()
    file_format = _format(source_path)
    raw = _read(source_path, file_format)
    good: list[tuple[Transaction, GroundTruth]] = []
    bad: list[BadRow] = []
    seen: set[str] = set()
    for number, record in enumerate(raw.to_pylist(), start=1):
        row = _validated(record, number, seen, from_text=file_format == "csv")
        if isinstance(row, BadRow):
            bad.append(row)
        else:
            good.append(row)
            seen.add(row[0].transaction_id)
    manifest = None
    if good and (allow_bad_rows or not bad):
        source = ImportSource(
            path=str(source_path),
            sha256=sha256_hex(data),
            format=file_format,
            rows_read=raw.num_rows,
            rows_rejected=len(bad),
        )
        manifest = store.put_transactions(_table(good), source, created_by=created_by)
    return ImportReport(
        path=str(source_path),
        file_sha256=sha256_hex(data),
        rows_read=raw.num_rows,
        rows_ok=len(good),
        bad_rows_total=len(bad),
        bad_rows=bad[:max_reported],
        manifest=manifest,
    )


def _format(path: Path) -> Any:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".parquet", ".pq"):
        return "parquet"
    raise ValueError(f"{path}: expected a .csv or .parquet file")


def _read(path: Path, file_format: str) -> Any:
    if file_format == "parquet":
        return pq.read_table(path)
    # Everything as text, empty cells as nulls: the contract, not type inference, decides.
    text_columns = {name: pa.string() for name in TRANSACTIONS_SCHEMA.names}
    return pa_csv.read_csv(
        path,
        convert_options=pa_csv.ConvertOptions(column_types=text_columns, strings_can_be_null=True),
    )


def _validated(
    record: dict[str, Any], number: int, seen: set[str], from_text: bool
) -> tuple[Transaction, GroundTruth] | BadRow:
    candidate_id = record.get("transaction_id")
    label = candidate_id if isinstance(candidate_id, str) else None
    present = {key: value for key, value in record.items() if value is not None}
    try:
        if from_text:
            # A CSV row is read as if it had arrived as JSON on the topic: the codec's rules.
            transaction = Transaction.model_validate_json(json.dumps(_json_typed(present)))
        else:
            transaction = Transaction.model_validate(present)
        truth = GroundTruth.model_validate(present)
    except ValidationError as error:
        reasons = [
            f"{'.'.join(map(str, issue['loc'])) or 'row'}: {issue['msg']}"
            for issue in error.errors()
        ]
        return BadRow(row=number, transaction_id=label, errors=reasons)
    if transaction.transaction_id in seen:
        return BadRow(
            row=number, transaction_id=label, errors=["transaction_id: repeats an earlier row"]
        )
    return transaction, truth


_INTEGER = re.compile(r"^[0-9]+$")
_NUMBER = re.compile(r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$")
_BOOLEANS = {"true": True, "false": False}


def _json_typed(row: dict[str, Any]) -> dict[str, Any]:
    """CSV text turned into the JSON types the contract expects, where the text clearly is one;
    anything else stays text, so validation reports it rather than this guessing."""
    typed = dict(row)
    version = typed.get("schema_version")
    if isinstance(version, str) and _INTEGER.match(version):
        typed["schema_version"] = int(version)
    present = typed.get("card_present")
    if isinstance(present, str) and present.lower() in _BOOLEANS:
        typed["card_present"] = _BOOLEANS[present.lower()]
    for name in ("customer_lat", "customer_lon"):
        value = typed.get(name)
        if isinstance(value, str) and _NUMBER.match(value):
            typed[name] = float(value)
    return typed


def _table(rows: list[tuple[Transaction, GroundTruth]]) -> Any:
    transactions = [transaction for transaction, _ in rows]
    columns: dict[str, list[Any]] = {
        name: [getattr(each, name) for each in transactions] for name in TRANSACTION_FIELDS
    }
    columns["event_time"] = [moment.astimezone(UTC) for moment in columns["event_time"]]
    for name in ("channel", "entry_mode"):
        columns[name] = [None if value is None else value.value for value in columns[name]]
    columns["is_fraud"] = [truth.is_fraud for _, truth in rows]
    columns["fraud_scenario"] = [truth.fraud_scenario for _, truth in rows]
    arrays = [
        pa.array(values, type=field.type)
        for values, field in zip(columns.values(), TRANSACTIONS_SCHEMA, strict=True)
    ]
    return pa.Table.from_arrays(arrays, schema=TRANSACTIONS_SCHEMA)
