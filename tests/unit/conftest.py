"""Shared by the governance, registry, gate and plan tests, made once per session (they only read
them): two packages (a build is the slow part) and a policy with generated actor keys."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pytest

from tests.support.governance import write_policy
from tests.support.model_builds import TEST_KEY, build_small, small_world


class TwoPackages(NamedTuple):
    a: Path  # card-fraud-hgb 1.0.0
    b: Path  # card-fraud-hgb 2.0.0, same data and test split, more trees


@pytest.fixture(scope="session")
def two_packages(tmp_path_factory: pytest.TempPathFactory) -> TwoPackages:
    root: Path = tmp_path_factory.mktemp("two-packages")
    world = small_world(root / "world")
    a = build_small(world, root / "built-a", "1.0.0", key=TEST_KEY)
    b = build_small(world, root / "built-b", "2.0.0", key=TEST_KEY, trees=60)
    return TwoPackages(a, b)


@pytest.fixture(scope="session")
def policy_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A root with registry/policy.toml and keys/ACTOR.pem (tests.support.governance)."""
    root: Path = tmp_path_factory.mktemp("governance")
    write_policy(root)
    return root
