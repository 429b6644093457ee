"""MLflow tracking of a build, against a real file-based tracking store."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from models.datasets import DatasetStore
from models.package import MODEL_FILE, verify_package
from models.tracking import TrackingUnavailable, build_metrics, build_params, log_build
from schemas.model_package import ModelManifest
from tests.support.model_builds import TEST_KEY, build_small, small_world


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ModelManifest, DatasetStore]:
    root = tmp_path_factory.mktemp("tracking")
    world = small_world(root)
    package = build_small(world, root / "registry")
    return package, verify_package(package, TEST_KEY).manifest, world.store


def _files(manifest: ModelManifest, store: DatasetStore) -> dict[str, Path]:
    return {
        "transactions": store.path_of(manifest.data.dataset_id),
        "labels": store.path_of(manifest.data.labels_dataset_id),
    }


def test_a_build_is_logged_with_params_metrics_inputs_and_the_package(
    built: tuple[Path, ModelManifest, DatasetStore],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    package, manifest, store = built
    # A plain directory store needs MLflow 3's opt-in; log_build must give it for file URIs.
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)
    uri = (tmp_path / "mlruns").as_uri()

    tracked = log_build(uri, package, manifest, _files(manifest, store))

    client = MlflowClient(uri)
    run = client.get_run(tracked.run_id)
    assert tracked.experiment == manifest.name
    assert run.info.run_name == f"{manifest.name}-{manifest.version}"
    assert run.data.params["hp.max_iter"] == str(manifest.hyperparameters["max_iter"])
    assert run.data.params["training_config_sha256"] == manifest.code.training_config_sha256
    assert run.data.params["labels_dataset_id"] == manifest.data.labels_dataset_id
    assert run.data.metrics["test.pr_auc"] == manifest.evaluation.model.pr_auc
    assert run.data.metrics["baseline_test.pr_auc"] == manifest.evaluation.baseline.pr_auc
    assert run.data.metrics["decline_threshold"] == manifest.policy.decline_threshold
    assert run.data.tags["fraudstream.content_hash"] == manifest.content_hash
    inputs = {
        each.dataset.name: {tag.key: tag.value for tag in each.tags}
        for each in run.inputs.dataset_inputs
    }
    assert inputs["transactions"]["dataset_id"] == manifest.data.dataset_id
    assert inputs["labels"]["dataset_id"] == manifest.data.labels_dataset_id
    logged = {item.path for item in client.list_artifacts(tracked.run_id, "package")}
    assert {"package/manifest.json", "package/signature.json", f"package/{MODEL_FILE}"} <= logged


def test_params_and_metrics_are_read_from_the_manifest(
    built: tuple[Path, ModelManifest, DatasetStore],
) -> None:
    _, manifest, _ = built
    params = build_params(manifest)
    assert params["git_dirty"] in ("true", "false")
    assert params["hp.categorical_features"] == '["channel", "entry_mode"]'
    metrics = build_metrics(manifest)
    for level, recall in manifest.evaluation.model.recall_at_fpr.items():
        assert metrics[f"test.recall_at_fpr_{level}"] == recall
    assert metrics["model_file_bytes"] == manifest.resources.model_file_bytes


def test_without_mlflow_tracking_says_how_to_get_it(
    built: tuple[Path, ModelManifest, DatasetStore],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    package, manifest, store = built
    monkeypatch.setitem(sys.modules, "mlflow", None)  # makes `import mlflow` fail
    with pytest.raises(TrackingUnavailable, match=r"fraudstream\[mlflow\]"):
        log_build((tmp_path / "mlruns").as_uri(), package, manifest, _files(manifest, store))
