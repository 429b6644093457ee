"""A small real package in seconds: simulate a small population, build with the shipped config.

For demos, chaos runs and tests that need a signed package but not a good model.
"""

from __future__ import annotations

from pathlib import Path

from models.datasets import DatasetStore
from models.simulator import SimulatorConfig, simulate, store_simulation
from models.training.build import BuildRequest, build_package
from models.training.config import TrainingConfig

REPO_ROOT = Path(__file__).resolve().parents[2]
TRAINING_CONFIG = REPO_ROOT / "config" / "training.toml"


def build_small_package(
    root: Path, key: bytes, seed: int = 7, version: str = "0.0.1-small"
) -> Path:
    store = DatasetStore(root / "datasets")
    transactions, labels = store_simulation(store, simulate(SimulatorConfig.small(seed=seed)))
    config = TrainingConfig.from_file(TRAINING_CONFIG)
    request = BuildRequest(transactions.id, labels.id, config, version, {"seed": str(seed)})
    return build_package(request, store, root / "registry", key, REPO_ROOT)
