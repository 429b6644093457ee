"""A content-addressed store of datasets: the canonical Parquet file's sha256 is the id.

Layout under the root (default var/datasets/):
    <id>/data.parquet      the canonical file (models.datasets.parquet settings)
    <id>/manifest.json     DatasetManifest
    splits/<id>.json       SplitManifest
A dataset directory appears by one atomic rename, so readers never see half of one.
"""

from __future__ import annotations

import getpass
import os
import shutil
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from models.datasets.columns import LABELS_SCHEMA, TRANSACTIONS_SCHEMA
from models.datasets.errors import DatasetIntegrityError, DatasetNotFoundError
from models.datasets.manifest import (
    ColumnSpec,
    DatasetManifest,
    DatasetSource,
    SplitManifest,
    TimeSpan,
    WriterInfo,
)
from models.datasets.parquet import (
    COMPRESSION,
    PARQUET_FORMAT_VERSION,
    ROW_GROUP_SIZE,
    canonical_parquet_bytes,
    conform,
    read_parquet_bytes,
    sha256_hex,
)

DEFAULT_ROOT = Path("var/datasets")
DATA_FILE = "data.parquet"
MANIFEST_FILE = "manifest.json"

TRANSACTION_ORDER = [("event_time", "ascending"), ("transaction_id", "ascending")]
LABEL_ORDER = [
    ("labelled_at", "ascending"),
    ("transaction_id", "ascending"),
    ("label_source", "ascending"),
]

Kind = Literal["transactions", "labels"]


def canonical_transactions(table: Any) -> Any:
    """The stored form of a transactions table: fixed columns, types and row order."""
    return conform(table, TRANSACTIONS_SCHEMA, TRANSACTION_ORDER)


def canonical_labels(table: Any) -> Any:
    return conform(table, LABELS_SCHEMA, LABEL_ORDER)


class DatasetStore:
    def __init__(
        self,
        root: str | Path = DEFAULT_ROOT,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.root = Path(root)
        self._clock = clock

    # -- writing -------------------------------------------------------------------------------

    def put_transactions(
        self, table: Any, source: DatasetSource, *, created_by: str | None = None
    ) -> DatasetManifest:
        """Store a transactions table; the same content always gets the same id, stored once."""
        return self._put(canonical_transactions(table), "transactions", source, created_by, None)

    def put_labels(
        self,
        table: Any,
        source: DatasetSource,
        *,
        transactions_id: str,
        created_by: str | None = None,
    ) -> DatasetManifest:
        """Store the labels of a stored transactions dataset (a separate id: labels keep
        arriving, and training records exactly which label file it used)."""
        self.manifest(transactions_id)  # the dataset they label must exist
        return self._put(canonical_labels(table), "labels", source, created_by, transactions_id)

    def _put(
        self,
        table: Any,
        kind: Kind,
        source: DatasetSource,
        created_by: str | None,
        transactions_id: str | None,
    ) -> DatasetManifest:
        data = canonical_parquet_bytes(table)
        dataset_id = sha256_hex(data)
        if (self.root / dataset_id).exists():
            self._read_verified(dataset_id)  # same content already stored: keep the first manifest
            return self.manifest(dataset_id)
        manifest = DatasetManifest(
            id=dataset_id,
            kind=kind,
            size_bytes=len(data),
            rows=table.num_rows,
            columns=[
                ColumnSpec(name=field.name, type=str(field.type), nullable=field.nullable)
                for field in table.schema
            ],
            time_span=_span(table, "event_time" if kind == "transactions" else "labelled_at"),
            fraud_rate=_fraud_rate(table) if kind == "transactions" else None,
            label_count=table.num_rows if kind == "labels" else None,
            fraud_label_count=_true_count(table, "is_fraud") if kind == "labels" else None,
            transactions_id=transactions_id,
            source=source,
            created_at=self._clock(),
            created_by=created_by if created_by is not None else _current_user(),
            writer=WriterInfo(
                pyarrow=pa.__version__,
                numpy=np.__version__,
                parquet_format=PARQUET_FORMAT_VERSION,
                compression=COMPRESSION,
                row_group_size=ROW_GROUP_SIZE,
            ),
        )
        self._publish(dataset_id, data, manifest.model_dump_json(indent=2) + "\n")
        return self.manifest(dataset_id)

    def _publish(self, dataset_id: str, data: bytes, manifest_json: str) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".incoming-", dir=self.root))
        try:
            (staging / DATA_FILE).write_bytes(data)
            (staging / MANIFEST_FILE).write_text(manifest_json, encoding="utf-8")
            try:
                staging.rename(self.root / dataset_id)
            except OSError:
                # Another writer published the same content first; theirs is as good as ours.
                if not (self.root / dataset_id).exists():
                    raise
        finally:
            if staging.exists():
                shutil.rmtree(staging)

    def put_split(self, manifest: SplitManifest) -> SplitManifest:
        """Record a split manifest (idempotent: its id is a hash of its content)."""
        self.manifest(manifest.dataset_id)
        target = self._split_path(manifest.id)
        if target.exists():
            return self.split(manifest.id)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(manifest.model_dump_json(indent=2) + "\n", encoding="utf-8")
        partial.replace(target)
        return manifest

    # -- reading -------------------------------------------------------------------------------

    def manifest(self, dataset_id: str) -> DatasetManifest:
        path = self._dir(dataset_id) / MANIFEST_FILE
        if not path.is_file():
            raise DatasetNotFoundError(f"no dataset {dataset_id} in {self.root}")
        return DatasetManifest.model_validate_json(path.read_text(encoding="utf-8"))

    def load(self, dataset_id: str) -> Any:
        """The dataset's table, after checking the file still hashes to its id."""
        return read_parquet_bytes(self._read_verified(dataset_id))

    def verify(self, dataset_id: str) -> None:
        """Raise DatasetIntegrityError if the stored file no longer matches its id."""
        self._read_verified(dataset_id)

    def path_of(self, dataset_id: str) -> Path:
        """The canonical file (for tools that read Parquet themselves; they skip verification)."""
        return self._dir(dataset_id) / DATA_FILE

    def ids(self, kind: Kind | None = None) -> list[str]:
        if not self.root.is_dir():
            return []
        found = sorted(
            entry.name
            for entry in self.root.iterdir()
            if entry.is_dir() and (entry / MANIFEST_FILE).is_file()
        )
        return [each for each in found if kind is None or self.manifest(each).kind == kind]

    def labels_for(self, transactions_id: str) -> list[DatasetManifest]:
        """Every label file stored for a transactions dataset, oldest first."""
        manifests = [self.manifest(each) for each in self.ids("labels")]
        linked = [each for each in manifests if each.transactions_id == transactions_id]
        return sorted(linked, key=lambda each: (each.created_at, each.id))

    def split(self, split_id: str) -> SplitManifest:
        path = self._split_path(split_id)
        if not path.is_file():
            raise DatasetNotFoundError(f"no split {split_id} in {self.root}")
        return SplitManifest.model_validate_json(path.read_text(encoding="utf-8"))

    def _read_verified(self, dataset_id: str) -> bytes:
        path = self._dir(dataset_id) / DATA_FILE
        if not path.is_file():
            raise DatasetNotFoundError(f"no dataset {dataset_id} in {self.root}")
        data = path.read_bytes()
        actual = sha256_hex(data)
        if actual != dataset_id:
            raise DatasetIntegrityError(f"{path} hashes to {actual}, not to its id {dataset_id}")
        return data

    def _dir(self, dataset_id: str) -> Path:
        if len(dataset_id) != 64 or any(char not in "0123456789abcdef" for char in dataset_id):
            raise DatasetNotFoundError(f"{dataset_id!r} is not a dataset id (64 hex digits)")
        return self.root / dataset_id

    def _split_path(self, split_id: str) -> Path:
        return self.root / "splits" / f"{self._dir(split_id).name}.json"


def _span(table: Any, column: str) -> TimeSpan | None:
    if table.num_rows == 0:
        return None
    bounds = pc.min_max(table.column(column)).as_py()
    return TimeSpan(start=bounds["min"], end=bounds["max"])


def _true_count(table: Any, column: str) -> int:
    return int(pc.sum(pc.cast(table.column(column), pa.int64())).as_py() or 0)


def _fraud_rate(table: Any) -> float | None:
    known = table.num_rows - table.column("is_fraud").null_count
    return _true_count(table, "is_fraud") / known if known else None


def _current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        return "unknown"
