"""`reproduce`: the worktree path in a throwaway git repository, the dirty-tree warning, and a
rebuild that differs being reported as such."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from models.package import verify_package
from models.training import build as build_module
from models.training import lineage
from models.training.config import TrainingConfig
from models.training.reproduce import ReproduceError, reproduce_package
from tests.support.model_builds import REPO_ROOT, TEST_KEY, SmallWorld, build_small, small_world

GIT_IDENTITY = ("-c", "user.name=fraudstream tests", "-c", "user.email=tests@example.invalid")


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *GIT_IDENTITY, "-C", str(repo), *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def _repository_with_this_code(target: Path) -> str:
    """A new git repository holding this checkout's model code; returns its commit."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for package in ("models", "schemas"):
        shutil.copytree(REPO_ROOT / package, target / package, ignore=ignore)
    shutil.copytree(REPO_ROOT / "config", target / "config", ignore=ignore)
    subprocess.run(["git", "init", "-q", str(target)], check=True)
    _git(target, "add", "-A")
    _git(target, "commit", "-q", "-m", "the code under test")
    return _git(target, "rev-parse", "HEAD")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> SmallWorld:
    return small_world(tmp_path_factory.mktemp("world"))


def test_a_dirty_checkout_rebuilds_in_a_worktree_of_the_recorded_commit(
    world: SmallWorld, tmp_path: Path
) -> None:
    repo = tmp_path / "repo"
    commit = _repository_with_this_code(repo)
    package = build_small(world, tmp_path / "registry", repo=repo)
    recorded = verify_package(package, TEST_KEY).manifest.code
    assert (recorded.git_commit, recorded.git_dirty) == (commit, False)
    edited = repo / "config" / "training.toml"
    edited.write_text(edited.read_text() + "\n# an uncommitted edit\n")
    steps: list[str] = []
    work = tmp_path / "work"
    work.mkdir()

    report = reproduce_package(package, TEST_KEY, world.store, repo, work, steps.append)

    assert report.built_in == f"a temporary git worktree at {commit[:12]}"
    assert any(step.startswith("worktree: training on") for step in steps), steps
    assert report.warnings == []
    assert report.held == "identical model bytes"
    assert all(check.same for check in report.checks), report.checks
    rebuilt = verify_package(report.rebuilt, TEST_KEY).manifest.code
    # The child computed lineage in the worktree: the commit, clean.
    assert (rebuilt.git_commit, rebuilt.git_dirty) == (commit, False)
    assert not (work / "worktree").exists()
    assert len(_git(repo, "worktree", "list").splitlines()) == 1


def test_a_commit_missing_from_the_repository_is_named(world: SmallWorld, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    _repository_with_this_code(repo)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(lineage, "git_state", lambda _repo: ("ab" * 20, False))
        package = build_small(world, tmp_path / "registry")
    work = tmp_path / "work"
    work.mkdir()
    with pytest.raises(ReproduceError, match="is not in the repository"):
        reproduce_package(package, TEST_KEY, world.store, repo, work)


def test_a_package_built_from_a_dirty_tree_is_rebuilt_with_a_warning(
    world: SmallWorld, tmp_path: Path
) -> None:
    commit = "d1" * 20
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(lineage, "git_state", lambda _repo: (commit, True))
        package = build_small(world, tmp_path / "registry")
        patch.setattr(lineage, "git_state", lambda _repo: (commit, False))
        report = reproduce_package(package, TEST_KEY, world.store, REPO_ROOT, tmp_path)
    assert len(report.warnings) == 1
    assert "git_dirty=true" in report.warnings[0]
    assert "cannot be reproduced exactly" in report.warnings[0]
    assert report.reproduced  # the bytes still match; the warning says what that cannot prove


def test_a_rebuild_that_differs_is_not_reproduced(world: SmallWorld, tmp_path: Path) -> None:
    commit = "e2" * 20
    original_train = build_module.train_model

    def train_differently(train: object, config: TrainingConfig) -> object:
        values = config.model_dump()
        values["model"]["learning_rate"] = 0.3
        return original_train(train, TrainingConfig.model_validate(values))  # type: ignore[arg-type]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(lineage, "git_state", lambda _repo: (commit, False))
        package = build_small(world, tmp_path / "registry")
        patch.setattr(build_module, "train_model", train_differently)
        report = reproduce_package(package, TEST_KEY, world.store, REPO_ROOT, tmp_path)
    assert not report.reproduced
    outcome = {check.what: check.same for check in report.checks}
    assert outcome["model.joblib bytes"] is False
    assert outcome["test-set predictions"] is False
    assert outcome["split row sets"] is True
