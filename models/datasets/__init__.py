"""Dataset versioning: content-addressed Parquet files, manifests, time splits, imports.

store = DatasetStore()                       # var/datasets/
manifest = store.put_transactions(table, source)
table = store.load(manifest.id)              # verifies the sha256 first
split, parts = split_by_time(table, SplitSpec(), dataset_id=manifest.id)
store.put_split(split)
known = labels_known_at(store.load(labels_id), split.validation_start)
"""

from __future__ import annotations

from models.datasets.columns import (
    LABELS_SCHEMA,
    TRANSACTION_FIELDS,
    TRANSACTIONS_SCHEMA,
    cents_to_decimal,
    decimal_to_cents,
)
from models.datasets.errors import DatasetError, DatasetIntegrityError, DatasetNotFoundError
from models.datasets.importer import BadRow, ImportReport, import_transactions
from models.datasets.manifest import (
    DatasetManifest,
    ImportSource,
    SimulatorSource,
    SplitManifest,
    SplitPart,
    SplitSpec,
)
from models.datasets.splits import labels_known_at, split_by_time
from models.datasets.store import (
    DEFAULT_ROOT,
    DatasetStore,
    canonical_labels,
    canonical_transactions,
)

__all__ = [
    "DEFAULT_ROOT",
    "LABELS_SCHEMA",
    "TRANSACTIONS_SCHEMA",
    "TRANSACTION_FIELDS",
    "BadRow",
    "DatasetError",
    "DatasetIntegrityError",
    "DatasetManifest",
    "DatasetNotFoundError",
    "DatasetStore",
    "ImportReport",
    "ImportSource",
    "SimulatorSource",
    "SplitManifest",
    "SplitPart",
    "SplitSpec",
    "canonical_labels",
    "canonical_transactions",
    "cents_to_decimal",
    "decimal_to_cents",
    "import_transactions",
    "labels_known_at",
    "split_by_time",
]
