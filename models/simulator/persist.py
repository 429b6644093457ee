"""Putting a simulation into the dataset store, with its config as the recorded source."""

from __future__ import annotations

from models.datasets.manifest import DatasetManifest, SimulatorSource
from models.datasets.store import DatasetStore
from models.simulator.generate import SimulationResult


def store_simulation(
    store: DatasetStore, result: SimulationResult, *, created_by: str | None = None
) -> tuple[DatasetManifest, DatasetManifest]:
    """(transactions manifest, labels manifest); idempotent like every put."""
    source = SimulatorSource(seed=result.config.seed, config=result.config.model_dump(mode="json"))
    transactions = store.put_transactions(result.transactions, source, created_by=created_by)
    labels = store.put_labels(
        result.labels, source, transactions_id=transactions.id, created_by=created_by
    )
    return transactions, labels
