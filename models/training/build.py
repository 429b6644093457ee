"""Build a model package: data → features → model → evaluation → thresholds → profile → sign."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from models.datasets import DatasetStore
from models.decision import DecisionMaker
from models.evaluation import metric_set, policy_threshold_at_fpr, threshold_at_fpr
from models.features import CATEGORICAL_FEATURES, CODE_FEATURES, FEATURE_NAMES, FEATURE_SET_VERSION
from models.package import MODEL_FILE, write_package
from models.predictor import (
    TREELITE_FILE,
    Predictor,
    SklearnPredictor,
    TreelitePredictor,
    treelite_checkpoint,
)
from models.profile import profile_features, profile_fields, profile_scores
from models.training import lineage, resources
from models.training.config import TrainingConfig
from models.training.data import SplitData, TrainingData, prepare
from models.training.model_bytes import model_bytes as canonical_model_bytes
from schemas.model_package import (
    CodeVersion,
    DataLineage,
    DataProfile,
    DecisionPolicy,
    Evaluation,
    FeatureBlock,
    FeatureSpec,
    FieldProfile,
    ModelManifest,
    Provenance,
    ReasonHint,
    Resources,
    SplitRecord,
)

Progress = Callable[[str], None]
BASELINE_DESCRIPTION = "logistic regression on log(1 + amount) alone"
# treelite and scikit-learn probabilities must agree this closely or the build fails.
TREELITE_TOLERANCE = 1e-12


@dataclass(frozen=True)
class BuildRequest:
    transactions_id: str
    labels_id: str
    config: TrainingConfig
    version: str
    arguments: dict[str, str]
    entry_point: str = "models.training.build:build_package"


def build_package(
    request: BuildRequest,
    store: DatasetStore,
    registry: Path,
    key: bytes,
    repo: Path,
    progress: Progress = lambda _: None,
) -> Path:
    """Run the whole build; returns the new package directory under `registry`."""
    config = request.config
    progress("loading and verifying datasets")
    transactions = store.load(request.transactions_id)
    labels = store.load(request.labels_id)
    progress(f"replaying {transactions.num_rows:,} transactions through the feature code")
    data = prepare(
        transactions,
        labels,
        dataset_id=request.transactions_id,
        fractions=config.split.fractions,
    )
    _check_split_matches_manifest(data)
    train, validation, test = data.parts["train"], data.parts["validation"], data.parts["test"]
    progress(f"training on {len(train.labels):,} rows ({int(train.labels.sum())} fraud)")
    model = train_model(train, config)
    baseline = train_baseline(train, config.seed)
    model_bytes = canonical_model_bytes(model)

    checkpoint: bytes | None = None
    predictor: Predictor = SklearnPredictor(model)
    if config.predictor == "treelite":
        progress("converting the trees for treelite and checking its scores")
        checkpoint = treelite_checkpoint(model)
        predictor = TreelitePredictor(checkpoint)
        _check_treelite_matches(model, predictor, validation.features)
    progress("choosing thresholds on validation, evaluating on test")
    valid_scores = predictor.fraud_probability(validation.features)
    decline = policy_threshold_at_fpr(
        valid_scores, validation.labels, config.policy.target_decline_fpr
    )
    review = min(
        policy_threshold_at_fpr(valid_scores, validation.labels, config.policy.target_review_fpr),
        decline,
    )
    policy = _policy(config, train.features, review, decline)
    evaluation = _evaluate(
        config, predictor, baseline, validation, test, review, decline, valid_scores
    )
    progress("profiling the training data and measuring resources")
    training_rows = transactions.filter(
        pc.less(
            transactions.column("event_time"),
            pa.scalar(data.split.validation_start, type=transactions.column("event_time").type),
        )
    )
    profile = _profile(train.features, valid_scores, policy, profile_fields(training_rows))
    measured = _resources(predictor, model_bytes, checkpoint, validation.features)

    commit, dirty = lineage.git_state(repo)
    manifest = ModelManifest(
        name=config.name,
        version=request.version,
        description=config.description,
        provenance=Provenance(
            built_by=lineage.current_user(),
            built_at=datetime.now(UTC),
            host=lineage.host_name(),
            platform=lineage.platform_name(),
        ),
        code=CodeVersion(
            git_commit=commit,
            git_dirty=dirty,
            entry_point=request.entry_point,
            arguments=request.arguments,
            training_config_sha256=config.sha256(),
            training_config=config.canonical(),
        ),
        algorithm=type(model.steps[-1][1]).__name__,
        hyperparameters={
            **config.model.model_dump(),
            "random_state": config.seed,
            "categorical_features": list(CATEGORICAL_FEATURES),
        },
        seed=config.seed,
        data=_lineage(request, store, data),
        features=FeatureBlock(
            feature_set_version=FEATURE_SET_VERSION,
            features=[
                FeatureSpec(
                    name=name, kind="categorical" if name in CATEGORICAL_FEATURES else "numeric"
                )
                for name in FEATURE_NAMES
            ],
        ),
        evaluation=evaluation,
        policy=policy,
        profile=profile,
        environment=lineage.environment(),
        resources=measured,
        files={},
    )
    files = {MODEL_FILE: model_bytes}
    if checkpoint:
        files[TREELITE_FILE] = checkpoint
    directory = registry / f"{config.name}-{request.version}"
    progress(f"writing and signing {directory}")
    write_package(directory, manifest, files, key)
    return directory


def train_model(train: SplitData, config: TrainingConfig) -> Pipeline:
    categorical = np.array([name in CATEGORICAL_FEATURES for name in FEATURE_NAMES])
    classifier = HistGradientBoostingClassifier(
        **config.model.model_dump(),
        categorical_features=categorical,
        random_state=config.seed,
    )
    model = Pipeline([("classifier", classifier)])
    model.fit(train.features, train.labels)
    return model


def _log_amount(matrix: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return np.log1p(matrix[:, [FEATURE_NAMES.index("amount")]])


def train_baseline(train: SplitData, seed: int) -> Pipeline:
    baseline = Pipeline(
        [
            ("amount", FunctionTransformer(_log_amount)),
            ("scale", StandardScaler()),
            ("classifier", LogisticRegression(random_state=seed, class_weight="balanced")),
        ]
    )
    baseline.fit(train.features, train.labels)
    return baseline


def _check_split_matches_manifest(data: TrainingData) -> None:
    for name, part in data.parts.items():
        listing = "".join(f"{i}\n" for i in sorted(part.transaction_ids, key=str.encode))
        expected = getattr(data.split, name).ids_sha256
        if hashlib.sha256(listing.encode()).hexdigest() != expected:
            raise RuntimeError(f"the {name} rows differ from the split manifest's row set")


def _check_treelite_matches(
    model: Pipeline, treelite: Predictor, rows: npt.NDArray[np.float64]
) -> None:
    expected = model.predict_proba(rows)[:, 1]
    actual = treelite.fraud_probability(rows)
    worst = float(np.max(np.abs(expected - actual))) if len(rows) else 0.0
    if worst > TREELITE_TOLERANCE:
        raise RuntimeError(f"treelite's scores differ from scikit-learn's by {worst}")


def _policy(
    config: TrainingConfig, train: npt.NDArray[np.float64], review: float, decline: float
) -> DecisionPolicy:
    hints = []
    for name in config.policy.reason_features:
        column = train[:, FEATURE_NAMES.index(name)]
        present = column[~np.isnan(column)]
        above = float(np.quantile(present, config.policy.reason_quantile)) if present.size else 0.0
        hints.append(ReasonHint(feature=name, above=above, reason_code=f"HIGH_{name.upper()}"))
    return DecisionPolicy(
        review_threshold=review,
        decline_threshold=decline,
        target_decline_fpr=config.policy.target_decline_fpr,
        target_review_fpr=config.policy.target_review_fpr,
        rules=config.policy.rules,
        reason_hints=hints,
    )


def _evaluate(
    config: TrainingConfig,
    predictor: Predictor,
    baseline: Pipeline,
    validation: SplitData,
    test: SplitData,
    review: float,
    decline: float,
    valid_scores: npt.NDArray[np.float64],
) -> Evaluation:
    k = config.evaluation.card_precision_k
    test_scores = predictor.fraud_probability(test.features)
    baseline_scores = baseline.predict_proba(test.features)[:, 1]
    baseline_review = threshold_at_fpr(
        baseline.predict_proba(validation.features)[:, 1],
        validation.labels,
        config.policy.target_review_fpr,
    )
    baseline_decline = threshold_at_fpr(
        baseline.predict_proba(validation.features)[:, 1],
        validation.labels,
        config.policy.target_decline_fpr,
    )
    return Evaluation(
        model=metric_set(
            test_scores, test.truth, test.amounts, test.cards, test.days, review, decline, k
        ),
        baseline=metric_set(
            baseline_scores,
            test.truth,
            test.amounts,
            test.cards,
            test.days,
            min(baseline_review, baseline_decline),
            baseline_decline,
            k,
        ),
        baseline_description=BASELINE_DESCRIPTION,
        validation=metric_set(
            valid_scores,
            validation.labels,
            validation.amounts,
            validation.cards,
            validation.days,
            review,
            decline,
            k,
        ),
    )


def _profile(
    train: npt.NDArray[np.float64],
    valid_scores: npt.NDArray[np.float64],
    policy: DecisionPolicy,
    fields: list[FieldProfile],
) -> DataProfile:
    maker = DecisionMaker(policy, FEATURE_NAMES)
    no_features = [0.0] * len(FEATURE_NAMES)
    outcomes = [maker.decide(float(s), no_features).outcome for s in valid_scores]
    return DataProfile(
        rows=int(train.shape[0]),
        features=profile_features(train, FEATURE_NAMES, CODE_FEATURES),
        score=profile_scores(valid_scores, outcomes),
        fields=fields,
    )


def _resources(
    predictor: Predictor,
    model_bytes: bytes,
    checkpoint: bytes | None,
    rows: npt.NDArray[np.float64],
) -> Resources:
    sample = rows[: min(len(rows), 2048)]
    p50, p99 = resources.one_row_latency_us(predictor, sample)
    return Resources(
        predictor="treelite" if checkpoint else "sklearn",
        model_file_bytes=len(model_bytes),
        treelite_file_bytes=len(checkpoint) if checkpoint else None,
        loaded_memory_bytes=resources.loaded_memory_bytes(model_bytes),
        latency_one_row_us_p50=p50,
        latency_one_row_us_p99=p99,
        latency_per_event_us_batch=resources.batch_latency_us(predictor, sample),
    )


def _lineage(request: BuildRequest, store: DatasetStore, data: TrainingData) -> DataLineage:
    manifest = store.manifest(request.transactions_id)
    split = data.split
    records = []
    for name in ("train", "validation", "test"):
        part = getattr(split, name)
        records.append(
            SplitRecord(
                name=name,
                start=part.start,
                end=part.end,
                rows=part.rows,
                positives=int(data.parts[name].labels.sum()),
                row_set_sha256=part.ids_sha256,
            )
        )
    return DataLineage(
        dataset_id=request.transactions_id,
        labels_dataset_id=request.labels_id,
        split_id=split.id,
        dataset_rows=manifest.rows,
        dataset_source=manifest.source.model_dump(mode="json"),
        labels_known_at=data.labels_known_at,
        splits=records,
    )
