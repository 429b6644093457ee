"""Rebuild a package from its manifest and prove the rebuild is the same model.

The manifest records everything a build read: the training config (whole), the dataset and
labels ids (content hashes), the version, the entry point and the code commit. A rebuild runs
that entry point on those inputs with the code of that commit: in this checkout when it is
clean at the commit, otherwise in a temporary `git worktree` of the commit, in a child Python
process whose imports come from the worktree (same interpreter and libraries), removed after.

"The same" is shown the strictest way that holds: identical model bytes (model.joblib, and
model.treelite when present); failing that, bit-identical scores of both packages on the test
split. The thresholds must be identical too, since they are part of what a package decides.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from models.datasets import DatasetStore
from models.package import MODEL_FILE, VerifiedPackage, verify_package
from models.predictor import TREELITE_FILE
from models.scoring import open_package
from models.training import lineage
from models.training.build import BuildRequest
from models.training.config import TrainingConfig
from models.training.data import prepare

Progress = Callable[[str], None]
COMPARED_FILES = (MODEL_FILE, TREELITE_FILE)

# Runs inside the worktree. It uses only what every build-capable commit has (BuildRequest,
# TrainingConfig, DatasetStore and the recorded entry point), and refuses to run if Python
# imported the package from anywhere but the worktree (e.g. an editable install of this tree).
_DRIVER = """
import importlib, json, sys
from pathlib import Path

job = json.load(sys.stdin)
root = Path.cwd().resolve()
module_name, _, function_name = job["entry_point"].partition(":")
module = importlib.import_module(module_name)
if not Path(module.__file__).resolve().is_relative_to(root):
    sys.exit(f"imported {module_name} from {module.__file__}, not from the worktree {root}")
from models.datasets import DatasetStore
from models.training.build import BuildRequest
from models.training.config import TrainingConfig

request = BuildRequest(
    transactions_id=job["transactions_id"],
    labels_id=job["labels_id"],
    config=TrainingConfig.model_validate(job["config"]),
    version=job["version"],
    arguments=job["arguments"],
    entry_point=job["entry_point"],
)
package = getattr(module, function_name)(
    request,
    DatasetStore(job["store"]),
    Path(job["registry"]),
    bytes.fromhex(job["key"]),
    root,
    lambda message: print(message, file=sys.stderr, flush=True),
)
Path(job["result"]).write_text(str(package))
"""


class ReproduceError(Exception):
    """The rebuild could not be run (not: it ran and differs — that is a report)."""


@dataclass(frozen=True)
class Check:
    what: str
    same: bool
    detail: str = ""


@dataclass(frozen=True)
class ReproduceReport:
    original: Path
    rebuilt: Path
    built_in: str
    warnings: list[str] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    held: str | None = None  # "identical model bytes" | "identical test-set predictions"

    @property
    def reproduced(self) -> bool:
        return self.held is not None


def reproduce_package(
    package_dir: Path,
    key: bytes,
    store: DatasetStore,
    repo: Path,
    work_dir: Path,
    progress: Progress = lambda _: None,
) -> ReproduceReport:
    """Rebuild `package_dir` into `work_dir` and compare; the caller owns `work_dir`."""
    original = verify_package(package_dir, key)
    manifest = original.manifest
    request = _request(original)
    for dataset_id in (request.transactions_id, request.labels_id):
        store.verify(dataset_id)  # here, not minutes later inside the rebuild
    warnings = _warnings(original)
    registry = work_dir / "rebuilt"
    commit = manifest.code.git_commit
    if commit is None or lineage.git_state(repo) == (commit, False):
        where = "this checkout" + (f" (clean, at {commit[:12]})" if commit else "")
        progress(f"rebuilding in {where}")
        rebuilt_dir = _build_here(request, store, registry, key, repo, progress)
    else:
        where = f"a temporary git worktree at {commit[:12]}"
        progress(f"this checkout is not clean at {commit[:12]}: rebuilding in {where}")
        rebuilt_dir = _build_in_worktree(
            request, commit, store, registry, key, repo, work_dir, progress
        )
    rebuilt = verify_package(rebuilt_dir, key)
    progress("comparing the rebuild with the original")
    checks, held = _compare(original, rebuilt, store, key, progress)
    return ReproduceReport(package_dir, rebuilt_dir, where, warnings, checks, held)


def _request(package: VerifiedPackage) -> BuildRequest:
    code = package.manifest.code
    config = TrainingConfig.model_validate(code.training_config)
    if config.sha256() != code.training_config_sha256:
        raise ReproduceError(
            "the recorded training config does not hash to the recorded "
            f"training_config_sha256 ({code.training_config_sha256[:12]}); "
            "this code reads it differently from the code that built the package"
        )
    return BuildRequest(
        transactions_id=package.manifest.data.dataset_id,
        labels_id=package.manifest.data.labels_dataset_id,
        config=config,
        version=package.manifest.version,
        arguments=dict(code.arguments),
        entry_point=code.entry_point,
    )


def _warnings(package: VerifiedPackage) -> list[str]:
    code = package.manifest.code
    if code.git_commit is None:
        return [
            "the package was built outside git: no code version is recorded, so the rebuild "
            "uses this checkout and cannot show the code was the same"
        ]
    if code.git_dirty:
        return [
            f"the package was built from a work tree with uncommitted changes (git_dirty=true): "
            f"commit {code.git_commit[:12]} is not the whole code that built it, so it cannot "
            "be reproduced exactly; the rebuild uses that commit alone"
        ]
    return []


def _build_here(
    request: BuildRequest,
    store: DatasetStore,
    registry: Path,
    key: bytes,
    repo: Path,
    progress: Progress,
) -> Path:
    module_name, _, function_name = request.entry_point.partition(":")
    build = getattr(importlib.import_module(module_name), function_name)
    built: Path = build(request, store, registry, key, repo, progress)
    return built


def _build_in_worktree(
    request: BuildRequest,
    commit: str,
    store: DatasetStore,
    registry: Path,
    key: bytes,
    repo: Path,
    work_dir: Path,
    progress: Progress,
) -> Path:
    top = Path(_git(repo, "rev-parse", "--show-toplevel"))
    try:
        _git(top, "cat-file", "-e", f"{commit}^{{commit}}")
    except ReproduceError:
        raise ReproduceError(
            f"commit {commit} is not in the repository at {top}; fetch it, then try again"
        ) from None
    tree = work_dir / "worktree"
    _git(top, "worktree", "add", "--detach", str(tree), commit)
    try:
        result = work_dir / "rebuilt-path.txt"
        job = {
            "entry_point": request.entry_point,
            "transactions_id": request.transactions_id,
            "labels_id": request.labels_id,
            "config": request.config.canonical(),
            "version": request.version,
            "arguments": request.arguments,
            "store": str(store.root.resolve()),
            "registry": str(registry.resolve()),
            "key": key.hex(),  # on stdin, not argv or the environment: no other process sees it
            "result": str(result.resolve()),
        }
        _run_driver(tree, job, progress)
        return Path(result.read_text())
    finally:
        _remove_worktree(top, tree)


def _run_driver(tree: Path, job: Mapping[str, object], progress: Progress) -> None:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    child = subprocess.Popen(
        [sys.executable, "-c", _DRIVER],
        cwd=tree,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert child.stdin is not None and child.stdout is not None
    child.stdin.write(json.dumps(job))
    child.stdin.close()
    tail: list[str] = []
    for line in child.stdout:
        progress(f"worktree: {line.rstrip()}")
        tail = [*tail[-19:], line.rstrip()]
    if child.wait() != 0:
        shown = "\n".join(tail)
        raise ReproduceError(f"the rebuild in {tree} failed (exit {child.returncode}):\n{shown}")


def _remove_worktree(top: Path, tree: Path) -> None:
    try:
        _git(top, "worktree", "remove", "--force", str(tree))
    except ReproduceError:
        shutil.rmtree(tree, ignore_errors=True)
        _git(top, "worktree", "prune")


def _git(repo: Path, *args: str) -> str:
    try:
        done = subprocess.run(
            ["git", "-C", str(repo), *args],
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
    except (OSError, subprocess.SubprocessError) as error:
        detail = getattr(error, "stderr", "") or error
        raise ReproduceError(f"git {' '.join(args)} failed: {detail}") from None
    return done.stdout.strip()


def _compare(
    original: VerifiedPackage,
    rebuilt: VerifiedPackage,
    store: DatasetStore,
    key: bytes,
    progress: Progress,
) -> tuple[list[Check], str | None]:
    checks = [
        Check(f"{name} bytes", original.files[name] == rebuilt.files.get(name))
        for name in COMPARED_FILES
        if name in original.files
    ]
    old, new = original.manifest, rebuilt.manifest
    same_split = [s.row_set_sha256 for s in old.data.splits] == [
        s.row_set_sha256 for s in new.data.splits
    ]
    checks.append(Check("split row sets", same_split))
    same_policy = (old.policy.review_threshold, old.policy.decline_threshold) == (
        new.policy.review_threshold,
        new.policy.decline_threshold,
    )
    checks.append(
        Check(
            "thresholds",
            same_policy,
            f"review {new.policy.review_threshold!r}, decline {new.policy.decline_threshold!r}",
        )
    )
    checks.append(Check("test metrics", old.evaluation.model == new.evaluation.model))
    if all(check.same for check in checks if check.what.endswith("bytes")):
        return checks, "identical model bytes" if same_policy else None
    progress("model bytes differ: scoring the test split with both packages")
    predictions = _same_test_predictions(original, rebuilt, store, key)
    checks.append(predictions)
    if predictions.same and same_policy:
        return checks, "identical test-set predictions"
    return checks, None


def _same_test_predictions(
    original: VerifiedPackage, rebuilt: VerifiedPackage, store: DatasetStore, key: bytes
) -> Check:
    data = original.manifest.data
    fractions = TrainingConfig.model_validate(
        original.manifest.code.training_config
    ).split.fractions
    test = prepare(
        store.load(data.dataset_id),
        store.load(data.labels_dataset_id),
        dataset_id=data.dataset_id,
        fractions=fractions,
    ).parts["test"]
    before = open_package(original.directory, key).fraud_probability(test.features)
    after = open_package(rebuilt.directory, key).fraud_probability(test.features)
    # Bit for bit: compare the float64 bit patterns, so even a last-ulp change counts.
    differing = int(np.count_nonzero(before.view(np.uint64) != after.view(np.uint64)))
    worst = float(np.max(np.abs(before - after))) if len(before) else 0.0
    detail = f"{len(before):,} rows, {differing:,} differ (largest difference {worst:.3g})"
    return Check("test-set predictions", differing == 0, detail)
