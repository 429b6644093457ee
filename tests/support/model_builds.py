"""Small, fast model builds for tests: the small simulated world and a short training config."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from models.datasets import DatasetStore
from models.simulator import SimulatorConfig, simulate, store_simulation
from models.training.build import BuildRequest, build_package
from models.training.config import TrainingConfig

REPO_ROOT = Path(__file__).resolve().parents[2]
TRAINING_TOML = REPO_ROOT / "config" / "training.toml"
TEST_KEY = b"test-signing-key"
# 40 trees instead of the configured count: the same code paths, in a fraction of the time.
TEST_TREES = 40


@dataclass(frozen=True)
class SmallWorld:
    store: DatasetStore
    transactions_id: str
    labels_id: str


def small_world(root: Path, seed: int = 7) -> SmallWorld:
    store = DatasetStore(root / "datasets")
    transactions, labels = store_simulation(store, simulate(SimulatorConfig.small(seed=seed)))
    return SmallWorld(store, transactions.id, labels.id)


def short_training_config() -> TrainingConfig:
    default = TrainingConfig.from_file(TRAINING_TOML)
    values = default.model_dump()
    values["model"]["max_iter"] = TEST_TREES
    return TrainingConfig.model_validate(values)


def short_training_toml(target: Path) -> Path:
    """config/training.toml with the test's tree count, for the CLI's --config."""
    text = TRAINING_TOML.read_text()
    shortened, replaced = re.subn(r"(?m)^max_iter = \d+$", f"max_iter = {TEST_TREES}", text)
    assert replaced == 1, "config/training.toml has no single max_iter line: update this helper"
    target.write_text(shortened)
    return target


def build_small(
    world: SmallWorld,
    registry: Path,
    version: str = "1.0.0",
    *,
    repo: Path = REPO_ROOT,
    key: bytes = TEST_KEY,
    trees: int = TEST_TREES,
) -> Path:
    config = short_training_config()
    if trees != TEST_TREES:
        values = config.model_dump()
        values["model"]["max_iter"] = trees
        config = TrainingConfig.model_validate(values)
    request = BuildRequest(
        transactions_id=world.transactions_id,
        labels_id=world.labels_id,
        config=config,
        version=version,
        arguments={"data": world.transactions_id, "labels": world.labels_id},
    )
    return build_package(request, world.store, registry, key, repo)
