"""Time splits without look-ahead, stable part hashes, and labels known at a cut-off."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
import pytest

from models.datasets import DatasetStore, SplitSpec, labels_known_at, split_by_time
from models.datasets.splits import no_look_ahead
from models.simulator import (
    LabelConfig,
    SimulationResult,
    SimulatorConfig,
    simulate,
    store_simulation,
)

CREATED = datetime(2026, 11, 2, tzinfo=UTC)


@pytest.fixture(scope="module")
def result() -> SimulationResult:
    return simulate(SimulatorConfig.small(seed=6, labels=LabelConfig(duplicate_share=0.3)))


def _bounds(table: Any) -> tuple[datetime, datetime]:
    found = pc.min_max(table.column("event_time")).as_py()
    return found["min"], found["max"]


def test_parts_are_ordered_in_time_and_cover_the_table(result: SimulationResult) -> None:
    manifest, parts = split_by_time(result.transactions, SplitSpec(), dataset_id="a" * 64)
    train, validation, test = parts["train"], parts["validation"], parts["test"]
    assert _bounds(train)[1] < _bounds(validation)[0]
    assert _bounds(validation)[1] < _bounds(test)[0]
    assert train.num_rows + validation.num_rows + test.num_rows == result.transactions.num_rows
    assert train.num_rows == pytest.approx(0.7 * result.transactions.num_rows, abs=5)
    assert no_look_ahead(manifest)
    assert _bounds(train)[1] < manifest.validation_start <= _bounds(validation)[0]


def test_a_gap_drops_rows_after_each_cut(result: SimulationResult) -> None:
    gap = timedelta(hours=12)
    manifest, parts = split_by_time(
        result.transactions, SplitSpec(fractions=(0.6, 0.2, 0.2), gap=gap), dataset_id="a" * 64
    )
    assert _bounds(parts["validation"])[0] >= manifest.validation_start + gap
    assert _bounds(parts["test"])[0] >= manifest.test_start + gap
    total = sum(part.num_rows for part in parts.values())
    assert total < result.transactions.num_rows


def test_cuts_by_date(result: SimulationResult) -> None:
    start = result.config.start
    spec = SplitSpec(
        fractions=None,
        validation_start=start + timedelta(days=12),
        test_start=start + timedelta(days=16),
    )
    manifest, parts = split_by_time(result.transactions, spec, dataset_id="a" * 64)
    assert (
        _bounds(parts["train"])[1] < start + timedelta(days=12) <= _bounds(parts["validation"])[0]
    )
    assert _bounds(parts["test"])[0] >= start + timedelta(days=16)
    assert manifest.test.rows == parts["test"].num_rows


def test_part_hashes_are_the_documented_digest_and_stable(result: SimulationResult) -> None:
    first, parts = split_by_time(
        result.transactions, SplitSpec(), dataset_id="a" * 64, created_at=CREATED
    )
    shuffled = result.transactions.take(pc.sort_indices(result.transactions.column("card_id")))
    again, _ = split_by_time(shuffled, SplitSpec(), dataset_id="a" * 64, created_at=CREATED)
    assert again == first
    ids = sorted(parts["validation"].column("transaction_id").to_pylist())
    expected = hashlib.sha256("".join(f"{each}\n" for each in ids).encode()).hexdigest()
    assert first.validation.ids_sha256 == expected


def test_split_manifests_are_stored_by_content(tmp_path: Path, result: SimulationResult) -> None:
    store = DatasetStore(tmp_path, clock=lambda: CREATED)
    transactions, _ = store_simulation(store, result)
    manifest, _ = split_by_time(
        store.load(transactions.id), SplitSpec(), dataset_id=transactions.id
    )
    assert store.put_split(manifest) == manifest
    assert store.split(manifest.id) == manifest
    assert store.put_split(manifest) == manifest  # idempotent


def test_labels_known_at_a_cutoff(result: SimulationResult) -> None:
    cutoff = result.config.start + timedelta(days=25)
    everything = labels_known_at(result.labels, cutoff, latest_only=False)
    assert all(label["labelled_at"] <= cutoff for label in everything.to_pylist())
    later = result.labels.num_rows - everything.num_rows
    assert later > 0  # some labels arrive after the cut-off: not known at training time
    latest = labels_known_at(result.labels, cutoff)
    ids = latest.column("transaction_id").to_pylist()
    assert len(ids) == len(set(ids)) < everything.num_rows  # duplicates collapse
    by_id: dict[str, datetime] = {}
    for label in everything.to_pylist():
        by_id[label["transaction_id"]] = max(
            by_id.get(label["transaction_id"], label["labelled_at"]), label["labelled_at"]
        )
    assert {row["transaction_id"]: row["labelled_at"] for row in latest.to_pylist()} == by_id


def test_labels_known_before_anything_happened_is_empty(result: SimulationResult) -> None:
    assert labels_known_at(result.labels, result.config.start).num_rows == 0
    with pytest.raises(ValueError):
        labels_known_at(result.labels, datetime(2025, 3, 1))
