"""The gates before a promotion: test metrics, no regression on the same test set, and the
target profile (memory, latency, library versions)."""

from __future__ import annotations

from typing import Any

import pytest

from models.governance.policy import Gates, TargetProfile
from models.package.store import read_manifest_unverified
from models.registry.gates import metric_failures, target_failures
from schemas.model_package import ModelManifest
from tests.unit.conftest import TwoPackages


@pytest.fixture(scope="module")
def manifest(two_packages: TwoPackages) -> ModelManifest:
    return read_manifest_unverified(two_packages.a)


def _with(manifest: ModelManifest, **changes: Any) -> ModelManifest:
    """A copy with nested fields changed, named by paths such as evaluation__model__pr_auc."""
    data = manifest.model_dump()
    for path, value in changes.items():
        *parents, last = path.split("__")
        node = data
        for name in parents:
            node = node[name]
        node[last] = value
    return ModelManifest.model_validate(data)


def test_metrics_over_the_thresholds_pass(manifest: ModelManifest) -> None:
    pr_auc = manifest.evaluation.model.pr_auc
    assert metric_failures(manifest, None, Gates(min_test_pr_auc=pr_auc)) == []


def test_metrics_under_the_thresholds_fail(manifest: ModelManifest) -> None:
    weak = _with(manifest, evaluation__model__pr_auc=0.1, evaluation__model__roc_auc=0.6)
    failures = metric_failures(weak, None, Gates(min_test_pr_auc=0.2, min_test_roc_auc=0.7))
    assert failures == [
        "test PR-AUC 0.1000 < required 0.2",
        "test ROC-AUC 0.6000 < required 0.7",
    ]


def test_a_regression_against_the_champion_on_the_same_test_set_fails(
    manifest: ModelManifest,
) -> None:
    champion = _with(manifest, files={"model.joblib": "c" * 64}, evaluation__model__pr_auc=0.50)
    worse = _with(manifest, evaluation__model__pr_auc=0.47)
    assert metric_failures(worse, champion, Gates(max_pr_auc_drop=0.05)) == []
    (failure,) = metric_failures(worse, champion, Gates(max_pr_auc_drop=0.02))
    assert failure.startswith("test PR-AUC 0.4700 is 0.0300 below the champion's 0.5000")


def test_metrics_on_another_test_set_are_not_compared(manifest: ModelManifest) -> None:
    splits = [s.model_dump() for s in manifest.data.splits]
    for split in splits:
        if split["name"] == "test":
            split["row_set_sha256"] = "e" * 64
    champion = _with(manifest, files={"model.joblib": "c" * 64}, data__splits=splits)
    # Even a candidate that looks better is refused: its numbers are on other rows.
    better = _with(manifest, evaluation__model__pr_auc=0.99)
    assert metric_failures(better, champion, Gates(max_pr_auc_drop=1.0)) == [
        "the champion was tested on another test set: no comparison possible"
    ]


def test_a_package_within_the_target_fits(manifest: ModelManifest) -> None:
    resources = manifest.resources
    library, version = next(iter(manifest.environment.libraries.items()))
    target = TargetProfile(
        max_memory_bytes=max(resources.loaded_memory_bytes, resources.model_file_bytes) + 1,
        max_latency_us_per_event=resources.latency_per_event_us_batch["64"] + 1,
        libraries={library: version.split(".")[0]},
    )
    assert target_failures(manifest, target, measured_us_per_event=0.5) == []


def test_a_package_too_big_for_the_target_is_named(manifest: ModelManifest) -> None:
    big = _with(manifest, resources__loaded_memory_bytes=300_000_000)
    (failure,) = target_failures(big, TargetProfile(max_memory_bytes=200_000_000))
    assert failure == "needs 300,000,000 bytes of memory, target allows 200,000,000"


def test_a_package_too_slow_at_build_or_here_is_named(manifest: ModelManifest) -> None:
    slow = _with(manifest, resources__latency_per_event_us_batch={"64": 300.0})
    target = TargetProfile(max_latency_us_per_event=200.0)
    assert target_failures(slow, target) == [
        "300.0 µs per event in batches of 64 (measured at build), target allows 200.0"
    ]
    fast = _with(manifest, resources__latency_per_event_us_batch={"64": 10.0})
    assert target_failures(fast, target, measured_us_per_event=250.0) == [
        "250.0 µs per event in batches of 64 (measured here), target allows 200.0"
    ]


def test_library_versions_must_match_the_target(manifest: ModelManifest) -> None:
    built_with = manifest.environment.libraries["scikit-learn"]
    target = TargetProfile(libraries={"scikit-learn": "0.", "not-installed": "1"})
    assert target_failures(manifest, target) == [
        "built with not-installed None, target runs 1*",
        f"built with scikit-learn {built_with}, target runs 0.*",
    ]
