"""A small build end to end: the manifest answers the reproducibility checklist, treelite agrees
with scikit-learn, a second build from the same inputs is byte-identical, and the thresholds
meet their false-positive targets on validation."""

from __future__ import annotations

import hashlib
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pytest

from models.features import CATEGORICAL_FEATURES, FEATURE_NAMES
from models.package import MODEL_FILE, VerifiedPackage, load_model, verify_package
from models.predictor import TREELITE_FILE, TreelitePredictor
from models.training.build import TREELITE_TOLERANCE
from models.training.data import TrainingData, prepare
from schemas.model_package import ModelManifest
from tests.support.model_builds import (
    TEST_KEY,
    TEST_TREES,
    SmallWorld,
    build_small,
    short_training_config,
    small_world,
)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> SmallWorld:
    return small_world(tmp_path_factory.mktemp("world"))


@pytest.fixture(scope="module")
def builds(world: SmallWorld, tmp_path_factory: pytest.TempPathFactory) -> list[VerifiedPackage]:
    registry = tmp_path_factory.mktemp("registry")
    return [
        verify_package(build_small(world, registry, version), TEST_KEY)
        for version in ("1.0.0", "1.0.1")
    ]


@pytest.fixture(scope="module")
def manifest(builds: list[VerifiedPackage]) -> ModelManifest:
    return builds[0].manifest


@pytest.fixture(scope="module")
def data(world: SmallWorld) -> TrainingData:
    fractions = short_training_config().split.fractions
    return prepare(
        world.store.load(world.transactions_id),
        world.store.load(world.labels_id),
        dataset_id=world.transactions_id,
        fractions=fractions,
    )


def test_provenance_and_code_version_are_recorded(manifest: ModelManifest) -> None:
    assert manifest.provenance.built_by
    assert manifest.provenance.host
    assert manifest.code.git_commit is not None and len(manifest.code.git_commit) == 40
    assert isinstance(manifest.code.git_dirty, bool)
    assert manifest.code.entry_point == "models.training.build:build_package"
    assert set(manifest.code.arguments) == {"data", "labels"}
    config = short_training_config()
    assert manifest.code.training_config == config.canonical()
    assert manifest.code.training_config_sha256 == config.sha256()


def test_hyperparameters_and_seed_are_recorded(manifest: ModelManifest) -> None:
    params = manifest.hyperparameters
    assert params["max_iter"] == TEST_TREES
    assert params["random_state"] == manifest.seed == short_training_config().seed
    assert params["early_stopping"] is False
    assert params["categorical_features"] == list(CATEGORICAL_FEATURES)
    assert manifest.algorithm == "HistGradientBoostingClassifier"


def test_dataset_and_split_row_sets_are_recorded(
    manifest: ModelManifest, world: SmallWorld, data: TrainingData
) -> None:
    lineage = manifest.data
    assert lineage.dataset_id == world.transactions_id
    assert lineage.labels_dataset_id == world.labels_id
    assert [s.name for s in lineage.splits] == ["train", "validation", "test"]
    assert sum(s.rows for s in lineage.splits) == lineage.dataset_rows
    for record in lineage.splits:
        ids = sorted(data.parts[record.name].transaction_ids, key=str.encode)
        listing = "".join(f"{each}\n" for each in ids)
        assert record.row_set_sha256 == hashlib.sha256(listing.encode()).hexdigest()
        assert record.positives == int(data.parts[record.name].labels.sum())


def test_test_metrics_sit_beside_the_baseline(manifest: ModelManifest, data: TrainingData) -> None:
    evaluation = manifest.evaluation
    assert evaluation.model.rows == evaluation.baseline.rows == len(data.parts["test"].labels)
    assert evaluation.baseline_description
    for metrics in (evaluation.model, evaluation.baseline, evaluation.validation):
        assert 0.0 <= metrics.pr_auc <= 1.0
        assert set(metrics.recall_at_fpr) == {"0.001", "0.005", "0.01"}


def test_thresholds_are_ordered(manifest: ModelManifest) -> None:
    policy = manifest.policy
    assert 0.0 <= policy.review_threshold <= policy.decline_threshold <= 1.0
    assert policy.chosen_on == "validation"


def test_thresholds_meet_the_target_fpr_on_validation(
    builds: list[VerifiedPackage], data: TrainingData
) -> None:
    package = builds[0]
    validation = data.parts["validation"]
    scores = TreelitePredictor(package.files[TREELITE_FILE]).fraud_probability(validation.features)
    genuine = scores[~validation.labels]
    policy = package.manifest.policy
    for threshold, target in (
        (policy.decline_threshold, policy.target_decline_fpr),
        (policy.review_threshold, policy.target_review_fpr),
    ):
        assert np.mean(genuine >= threshold) <= target


def test_the_profile_covers_every_feature_with_shares_summing_to_one(
    manifest: ModelManifest, data: TrainingData
) -> None:
    profile = manifest.profile
    assert profile.rows == len(data.parts["train"].labels)
    assert [f.name for f in profile.features] == list(FEATURE_NAMES)
    for feature in profile.features:
        shares = (
            feature.categories.values() if feature.kind == "categorical" else feature.bin_shares
        )
        if feature.missing_rate < 1.0:
            assert sum(shares) == pytest.approx(1.0, abs=1e-9), feature.name
        if feature.kind == "numeric":
            assert len(feature.bin_shares) == len(feature.bin_edges) + 1
            assert feature.bin_edges == sorted(feature.bin_edges)
    assert sum(profile.score.outcome_rates.values()) == pytest.approx(1.0)


def test_library_versions_and_resources_are_recorded(builds: list[VerifiedPackage]) -> None:
    package = builds[0]
    manifest = package.manifest
    for library in ("scikit-learn", "numpy", "joblib", "treelite"):
        assert manifest.environment.libraries[library] == version(library)
    used = manifest.resources
    assert used.predictor == "treelite"
    assert used.model_file_bytes == len(package.files[MODEL_FILE])
    assert used.treelite_file_bytes == len(package.files[TREELITE_FILE])
    assert used.loaded_memory_bytes > 0
    assert 0 < used.latency_one_row_us_p50 <= used.latency_one_row_us_p99
    assert set(used.latency_per_event_us_batch) == {"1", "64", "512"}
    assert all(micros > 0 for micros in used.latency_per_event_us_batch.values())


def test_treelite_scores_equal_scikit_learn_within_tolerance(
    builds: list[VerifiedPackage], data: TrainingData
) -> None:
    package = builds[0]
    rows = data.parts["test"].features
    expected = load_model(package).predict_proba(rows)[:, 1]
    actual = TreelitePredictor(package.files[TREELITE_FILE]).fraud_probability(rows)
    assert TREELITE_TOLERANCE == 1e-12
    assert np.max(np.abs(expected - actual)) <= TREELITE_TOLERANCE


def test_two_builds_from_the_same_inputs_are_byte_identical(
    builds: list[VerifiedPackage],
) -> None:
    first, second = builds
    assert first.files[MODEL_FILE] == second.files[MODEL_FILE]
    assert first.files[TREELITE_FILE] == second.files[TREELITE_FILE]
    assert first.content_hash == second.content_hash
    assert first.manifest.evaluation == second.manifest.evaluation
    assert first.manifest.policy == second.manifest.policy


def test_model_bytes_do_not_depend_on_the_thread_count(builds: list[VerifiedPackage]) -> None:
    """The fitted estimator remembers its OpenMP thread count; the stored bytes must not."""
    from models.training.model_bytes import model_bytes

    by_threads = {}
    for threads in (1, 2, 7):
        model = load_model(builds[0])
        model.steps[-1][1]._bin_mapper.n_threads = threads
        by_threads[threads] = model_bytes(model)
        assert model.steps[-1][1]._bin_mapper.n_threads == threads  # the caller's model is kept
    assert by_threads[1] == by_threads[2] == by_threads[7]


def test_the_package_directory_is_named_after_name_and_version(
    builds: list[VerifiedPackage],
) -> None:
    manifest = builds[0].manifest
    assert Path(builds[0].directory).name == f"{manifest.name}-{manifest.version}"
