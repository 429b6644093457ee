"""Training data: features replayed over the whole dataset, then cut into the time splits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from models.datasets import (
    SplitManifest,
    SplitSpec,
    decimal_to_cents,
    labels_known_at,
    split_by_time,
)
from models.features.offline import build_feature_matrix, facts_from_table

Matrix = npt.NDArray[np.float64]
Flags = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class SplitData:
    features: Matrix
    labels: Flags  # what the build knew (labels reported by the cut-off)
    truth: Flags  # simulator ground truth where present, else the known labels
    amounts: Matrix
    cards: list[str]
    days: npt.NDArray[np.int64]
    transaction_ids: list[str]


@dataclass(frozen=True)
class TrainingData:
    split: SplitManifest
    parts: dict[str, SplitData]
    labels_known_at: datetime


def prepare(
    transactions: Any, labels: Any, *, dataset_id: str, fractions: tuple[float, float, float]
) -> TrainingData:
    """Features for every row (history replayed from the first row), then the three splits.

    Features are built over the whole dataset in time order, so a validation or test row sees
    the same history it would have seen live; the splits only decide which rows train and
    which are held out.
    """
    split, _ = split_by_time(transactions, SplitSpec(fractions=fractions), dataset_id=dataset_id)
    features = build_feature_matrix(facts_from_table(transactions))
    cutoff = pc.max(transactions.column("event_time")).as_py()
    known = labels_known_at(labels, cutoff)
    fraud_ids = set(known.filter(known.column("is_fraud")).column("transaction_id").to_pylist())
    ids = transactions.column("transaction_id").to_pylist()
    labelled = np.fromiter((i in fraud_ids for i in ids), dtype=np.bool_, count=len(ids))
    truth_column = transactions.column("is_fraud")
    truth = (
        labelled
        if truth_column.null_count
        else np.asarray(truth_column.to_numpy(zero_copy_only=False), dtype=np.bool_)
    )
    amounts = decimal_to_cents(transactions.column("amount")) / 100
    micros = transactions.column("event_time").cast(pa.int64()).to_numpy()
    days = micros // 86_400_000_000
    cards = transactions.column("card_id").to_pylist()
    times = transactions.column("event_time")
    bounds = {
        "train": pc.less(times, pa.scalar(split.validation_start, type=times.type)),
        "validation": pc.and_(
            pc.greater_equal(times, pa.scalar(split.validation_start, type=times.type)),
            pc.less(times, pa.scalar(split.test_start, type=times.type)),
        ),
        "test": pc.greater_equal(times, pa.scalar(split.test_start, type=times.type)),
    }
    parts = {}
    for name, mask in bounds.items():
        rows = np.flatnonzero(np.asarray(mask.to_numpy(zero_copy_only=False), dtype=np.bool_))
        parts[name] = SplitData(
            features=features[rows],
            labels=labelled[rows],
            truth=truth[rows],
            amounts=amounts[rows],
            cards=[cards[i] for i in rows],
            days=days[rows],
            transaction_ids=[ids[i] for i in rows],
        )
    return TrainingData(split=split, parts=parts, labels_known_at=cutoff)
