"""The registry mirrored into MLflow's model registry (a local file store): each registered
package a model version, linked to its build run, and the live roles as aliases."""

from __future__ import annotations

from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from models.package import verify_package
from models.registry.mlflow_mirror import HASH_TAG, MlflowMirror
from models.tracking import log_build
from schemas import ModelControl
from tests.support.governance import GATES_OFF, ask, file_registry
from tests.support.model_builds import TEST_KEY
from tests.unit.conftest import TwoPackages

A, B = "card-fraud-hgb:1.0.0", "card-fraud-hgb:2.0.0"
NAME = "card-fraud-hgb"


def _aliases(client: MlflowClient) -> dict[str, str]:
    return dict(client.get_registered_model(NAME).aliases)


def test_versions_and_role_aliases_follow_the_registry(
    tmp_path: Path, two_packages: TwoPackages, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)  # the mirror must allow it
    uri = (tmp_path / "mlruns").as_uri()
    manifest_a = verify_package(two_packages.a, TEST_KEY).manifest
    run_a = log_build(uri, two_packages.a, manifest_a, {})  # A's build was tracked, B's not
    published: list[ModelControl] = []
    registry = file_registry(tmp_path, TEST_KEY, published.append, GATES_OFF)
    registry._mirror = MlflowMirror(uri)
    ask(registry, tmp_path, "alice", "register", "-", package=str(two_packages.a))
    ask(registry, tmp_path, "dave", "register", "-", package=str(two_packages.b))
    for package in (A, B):
        ask(registry, tmp_path, "bob", "approve", package, stage="champion")

    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    versions = {v.tags[HASH_TAG]: v for v in client.search_model_versions(f"name='{NAME}'")}
    a_hash, b_hash = (registry.find(label).content_hash for label in (A, B))
    assert versions[a_hash].run_id == run_a.run_id  # linked to the build run
    assert versions[a_hash].source == f"runs:/{run_a.run_id}/package"
    assert versions[b_hash].run_id in (None, "")  # untracked: the package directory itself
    assert versions[b_hash].source == Path(registry.find(B).location).as_uri()
    a_version, b_version = str(versions[a_hash].version), str(versions[b_hash].version)

    ask(registry, tmp_path, "carol", "promote", A)
    ask(registry, tmp_path, "carol", "canary", B, share=0.2)
    assert _aliases(client) == {"champion": a_version, "canary": b_version}
    ask(registry, tmp_path, "carol", "promote", B)
    assert _aliases(client) == {"champion": b_version}  # the canary alias is gone with its role
    ask(registry, tmp_path, "alice", "shadow", A)
    assert _aliases(client) == {"champion": b_version, "shadow": a_version}
    ask(registry, tmp_path, "carol", "rollback", "-")
    assert _aliases(client) == {"champion": a_version}
    assert len(published) == 5


def test_an_unreachable_mirror_does_not_stop_a_governed_change(
    tmp_path: Path,
    two_packages: TwoPackages,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")  # fail now, not after back-offs
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "2")
    registry = file_registry(tmp_path, TEST_KEY, lambda plan: None, GATES_OFF)
    registry._mirror = MlflowMirror("http://127.0.0.1:9/")  # nothing listens on the discard port
    ask(registry, tmp_path, "alice", "register", "-", package=str(two_packages.a))
    assert registry.find(A).registered_by == "alice"
    assert "MLflow mirror: card-fraud-hgb:1.0.0 not mirrored" in caplog.text
