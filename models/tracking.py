"""Optional experiment tracking: a finished build logged to MLflow, beside its manifest.

The signed manifest stays the record a package is trusted and rebuilt from; an MLflow run is a
searchable copy of it for people who compare many builds. Everything logged is read from the
manifest, so the two cannot disagree. mlflow is imported only when tracking is asked for (it is
an optional extra, and importing it costs ~2 s).
"""

from __future__ import annotations

import importlib
import json
import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlparse

from schemas.model_package import MetricSet, ModelManifest

PACKAGE_ARTIFACT_PATH = "package"
# A dataset digest is capped at 36 characters by MLflow's database stores; the full id goes
# into the input's tags.
DIGEST_LENGTH = 32


class TrackingUnavailable(Exception):
    """Tracking was asked for but mlflow is not installed."""


@dataclass(frozen=True)
class TrackedRun:
    tracking_uri: str
    experiment: str
    run_id: str


def log_build(
    tracking_uri: str,
    package_dir: Path,
    manifest: ModelManifest,
    dataset_files: Mapping[str, Path],
) -> TrackedRun:
    """One MLflow run for a package: params, metrics, dataset inputs, the package files.

    `dataset_files` maps "transactions" / "labels" to the stored files the build read.
    """
    mlflow = import_mlflow()
    allow_file_store(tracking_uri)
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_experiment(manifest.name)
    with mlflow.start_run(run_name=f"{manifest.name}-{manifest.version}") as run:
        mlflow.set_tags(build_tags(manifest, package_dir))
        mlflow.log_params(build_params(manifest))
        mlflow.log_metrics(build_metrics(manifest))
        ids = {
            "transactions": manifest.data.dataset_id,
            "labels": manifest.data.labels_dataset_id,
        }
        for role, path in sorted(dataset_files.items()):
            _log_dataset(mlflow, role, ids[role], path)
        mlflow.log_artifacts(str(package_dir), artifact_path=PACKAGE_ARTIFACT_PATH)
        return TrackedRun(tracking_uri, manifest.name, str(run.info.run_id))


def build_params(manifest: ModelManifest) -> dict[str, str]:
    """What went in: hyper-parameters, seed, config hash, data and code versions."""
    params = {f"hp.{name}": _text(value) for name, value in manifest.hyperparameters.items()}
    params.update(
        {
            "algorithm": manifest.algorithm,
            "seed": str(manifest.seed),
            "training_config_sha256": manifest.code.training_config_sha256,
            "dataset_id": manifest.data.dataset_id,
            "labels_dataset_id": manifest.data.labels_dataset_id,
            "split_id": manifest.data.split_id,
            "feature_set_version": manifest.features.feature_set_version,
            "predictor": manifest.resources.predictor,
            "git_commit": str(manifest.code.git_commit),
            "git_dirty": str(manifest.code.git_dirty).lower(),
        }
    )
    return params


def build_metrics(manifest: ModelManifest) -> dict[str, float]:
    """What came out: test, baseline and validation metrics, thresholds, resources."""
    evaluation = manifest.evaluation
    metrics: dict[str, float] = {}
    for prefix, metric_set in (
        ("test", evaluation.model),
        ("baseline_test", evaluation.baseline),
        ("validation", evaluation.validation),
    ):
        metrics.update(_metric_set(prefix, metric_set))
    policy = manifest.policy
    metrics["review_threshold"] = policy.review_threshold
    metrics["decline_threshold"] = policy.decline_threshold
    used = manifest.resources
    metrics["model_file_bytes"] = float(used.model_file_bytes)
    metrics["loaded_memory_bytes"] = float(used.loaded_memory_bytes)
    metrics["latency_one_row_us_p50"] = used.latency_one_row_us_p50
    metrics["latency_one_row_us_p99"] = used.latency_one_row_us_p99
    for size, micros in used.latency_per_event_us_batch.items():
        metrics[f"latency_per_event_us_batch_{size}"] = micros
    return metrics


def build_tags(manifest: ModelManifest, package_dir: Path) -> dict[str, str]:
    return {
        "fraudstream.package": f"{manifest.name}-{manifest.version}",
        "fraudstream.package_dir": str(package_dir.resolve()),
        "fraudstream.content_hash": manifest.content_hash,
        "fraudstream.built_by": manifest.provenance.built_by,
        "fraudstream.entry_point": manifest.code.entry_point,
    }


def _metric_set(prefix: str, metrics: MetricSet) -> dict[str, float]:
    out = {
        f"{prefix}.pr_auc": metrics.pr_auc,
        f"{prefix}.roc_auc": metrics.roc_auc,
        f"{prefix}.card_precision_at_{metrics.card_precision_k}": metrics.card_precision_at_k,
        f"{prefix}.expected_cost_per_1k": metrics.expected_cost,
    }
    for level, recall in metrics.recall_at_fpr.items():
        out[f"{prefix}.recall_at_fpr_{level}"] = recall
    return out


def _log_dataset(mlflow: Any, role: str, dataset_id: str, path: Path) -> None:
    from mlflow.data.dataset_source_registry import resolve_dataset_source
    from mlflow.data.meta_dataset import MetaDataset

    with warnings.catch_warnings():
        # mlflow registers its local-file source class twice and warns about its own ambiguity.
        warnings.simplefilter("ignore", UserWarning)
        source = resolve_dataset_source(path.resolve().as_uri())
    # MetaDataset is mlflow's own dataset-by-reference class; its stubs mark `profile` abstract
    # although the class implements it.
    dataset = MetaDataset(  # type: ignore[abstract]
        source=source, name=role, digest=dataset_id[:DIGEST_LENGTH]
    )
    mlflow.log_input(dataset, context=role, tags={"dataset_id": dataset_id})


def import_mlflow() -> ModuleType:
    try:
        return importlib.import_module("mlflow")
    except ImportError as error:
        raise TrackingUnavailable(
            f"mlflow is not installed ({error}); "
            "install the extra: pip install 'fraudstream[mlflow]'"
        ) from None


def allow_file_store(tracking_uri: str) -> None:
    # MLflow 3 refuses a plain directory as a tracking store unless this opt-in is set; a user
    # who names a directory has made that choice already.
    if urlparse(tracking_uri).scheme in ("", "file"):
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)
