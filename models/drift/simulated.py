"""Simulated live traffic for the monitor: a population, its training reference, its scores.

The layout mirrors a real deployment on one simulated population (same seed): the first
`WARMUP_DAYS` only fill the feature windows (30-day card windows need 30 days of history), a
model is trained on the next `TRAIN_DAYS` and profiled there (as the package build profiles its
training split), thresholds and the score profile come from the `VALID_DAYS` after that, and
everything later is live traffic.

A shifted run differs from the plain run only from the shift's day on (the simulator draws every
shift from its own random stream), so its features are replayed from a snapshot of the plain
run's feature state at that day instead of from the start, and every feature column that comes
out bit-identical to the plain run's is known to be unaffected by the shift.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import numpy.typing as npt
import pyarrow as pa
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import average_precision_score

from models.decision import DecisionMaker
from models.drift.events import FLAGGED_OUTCOMES, ModelScore, ScoredEvent
from models.drift.join import DAY_MS
from models.drift.quality import FIELDS, FieldKeys, field_key
from models.drift.reference import DriftReference
from models.evaluation import policy_threshold_at_fpr
from models.features import (
    CATEGORICAL_FEATURES,
    CODE_FEATURES,
    FEATURE_NAMES,
    FEATURE_SET_VERSION,
    TxFacts,
)
from models.features.offline import FeatureReplayer, facts_from_table
from models.profile import profile_features, profile_fields, profile_scores
from models.simulator import ShiftConfig, SimulatorConfig, simulate
from models.training.config import PolicyConfig
from schemas.base import DeploymentRole, ModelRef
from schemas.model_package import DecisionPolicy, FieldProfile

Matrix = npt.NDArray[np.float64]
WARMUP_DAYS = 30
TRAIN_DAYS = 7
VALID_DAYS = 14
LIVE_START_DAY = WARMUP_DAYS + TRAIN_DAYS + VALID_DAYS
EVENTS_PER_CARD_DAY = 1.58
"""Measured mean of the default simulator (legit and fraud): sizes a population for N events."""


@dataclass(frozen=True)
class Labels:
    """Delayed labels in the order they become known."""

    transaction_id: list[str]
    is_fraud: npt.NDArray[np.bool_]
    labelled_ms: npt.NDArray[np.int64]
    card_id: list[str]
    """Each label's card (fraud labels cluster by card: one victim, several transactions)."""


@dataclass(frozen=True)
class Population:
    config: SimulatorConfig
    facts: list[TxFacts]
    transaction_ids: list[str]
    features: Matrix
    event_ms: npt.NDArray[np.int64]
    is_fraud: npt.NDArray[np.bool_]
    labels: Labels
    fields: list[FieldKeys]
    """Raw input fields per row as the monitor keys them (models.drift.quality)."""
    field_profile: list[FieldProfile]
    """The raw fields of the training days, as a package build profiles its training split."""

    def first_row_of_day(self, day: int) -> int:
        start_ms = int(self.config.start.timestamp() * 1000) + day * DAY_MS
        return int(np.searchsorted(self.event_ms, start_ms, side="left"))


@dataclass
class Snapshot:
    """The feature replayer's state before row `row` (states are immutable: a dict copy will do)."""

    row: int
    replayer: FeatureReplayer


def plan(live_events: int, cards: int | None = None, seed: int = 7) -> SimulatorConfig:
    """A plain simulator config with about `live_events` events after LIVE_START_DAY."""
    n_cards = cards or 1500
    live_days = max(1, int(np.ceil(live_events / (n_cards * EVENTS_PER_CARD_DAY))))
    return SimulatorConfig(
        seed=seed,
        n_cards=n_cards,
        n_merchants=max(10, n_cards * 2 // 5),
        n_days=LIVE_START_DAY + live_days,
    )


def simulate_population(
    config: SimulatorConfig, snapshot_day: int | None = None
) -> tuple[Population, Snapshot | None]:
    result = simulate(config)
    facts = facts_from_table(result.transactions)
    table = result.transactions
    event_ms = table.column("event_time").cast(pa.int64()).to_numpy() // 1000
    cut = None
    if snapshot_day is not None:
        start_ms = int(config.start.timestamp() * 1000) + snapshot_day * DAY_MS
        cut = int(np.searchsorted(event_ms, start_ms, side="left"))
    replayer = FeatureReplayer()
    rows: list[tuple[float, ...]] = []
    snapshot = None
    for sequence, fact in enumerate(facts):
        if sequence == cut:
            snapshot = Snapshot(sequence, _copy(replayer))
        rows.append(replayer.step(fact, sequence))
    population = Population(
        config=config,
        facts=facts,
        transaction_ids=table.column("transaction_id").to_pylist(),
        features=np.asarray(rows, dtype=np.float64),
        event_ms=event_ms.astype(np.int64),
        is_fraud=table.column("is_fraud").to_numpy(zero_copy_only=False).astype(bool),
        labels=_labels(result.labels),
        fields=_field_keys(table),
        field_profile=_training_fields(table, config),
    )
    return population, snapshot


def shifted_population(base: Population, snapshot: Snapshot, shift: ShiftConfig) -> Population:
    """The same population with `shift` from the snapshot's day on."""
    config = base.config.model_copy(update={"shift": shift})
    result = simulate(config)
    facts = facts_from_table(result.transactions)
    if len(facts) != len(base.facts) or facts[: snapshot.row] != base.facts[: snapshot.row]:
        raise RuntimeError("the shifted run differs from the plain run before the shift")
    replayer = _copy(snapshot.replayer)
    tail = [replayer.step(fact, seq) for seq, fact in enumerate(facts) if seq >= snapshot.row]
    features = base.features.copy()
    if tail:
        features[snapshot.row :] = np.asarray(tail, dtype=np.float64)
    table = result.transactions
    return Population(
        config=config,
        facts=facts,
        transaction_ids=table.column("transaction_id").to_pylist(),
        features=features,
        event_ms=base.event_ms,
        is_fraud=table.column("is_fraud").to_numpy(zero_copy_only=False).astype(bool),
        labels=_labels(result.labels),
        fields=_field_keys(table),
        field_profile=base.field_profile,
    )


def _training_fields(table: pa.Table, config: SimulatorConfig) -> list[FieldProfile]:
    start_ms = int(config.start.timestamp() * 1000)
    event_ms = table.column("event_time").cast(pa.int64()).to_numpy() // 1000
    first, end = np.searchsorted(
        event_ms,
        [start_ms + WARMUP_DAYS * DAY_MS, start_ms + (WARMUP_DAYS + TRAIN_DAYS) * DAY_MS],
    )
    return profile_fields(table.slice(int(first), int(end - first)))


def _field_keys(table: pa.Table) -> list[FieldKeys]:
    columns = [table.column(name).to_pylist() for name in FIELDS]
    return [
        tuple(field_key(index, value) for index, value in enumerate(row))
        for row in zip(*columns, strict=True)
    ]


def _copy(replayer: FeatureReplayer) -> FeatureReplayer:
    copy = FeatureReplayer()
    copy.cards = dict(replayer.cards)
    copy.merchants = dict(replayer.merchants)
    return copy


def _labels(table: pa.Table) -> Labels:
    return Labels(
        transaction_id=table.column("transaction_id").to_pylist(),
        card_id=table.column("card_id").to_pylist(),
        is_fraud=table.column("is_fraud").to_numpy(zero_copy_only=False).astype(bool),
        labelled_ms=(table.column("labelled_at").cast(pa.int64()).to_numpy() // 1000).astype(
            np.int64
        ),
    )


@dataclass(frozen=True)
class SimulatedModel:
    """A model trained like the package build does, on the simulated training days."""

    reference: DriftReference
    classifier: HistGradientBoostingClassifier
    decisions: DecisionMaker

    def score(self, features: Matrix) -> npt.NDArray[np.float64]:
        return np.asarray(self.classifier.predict_proba(features)[:, 1], dtype=np.float64)

    def outcomes(self, scores: npt.NDArray[np.float64]) -> list[str]:
        """The model's own outcomes: thresholds only (the simulated policy has no rules)."""
        no_features = [0.0] * len(FEATURE_NAMES)
        return [self.decisions.decide(float(s), no_features).outcome for s in scores]


def train_reference(population: Population, seed: int = 7) -> SimulatedModel:
    train = _rows(population, WARMUP_DAYS, WARMUP_DAYS + TRAIN_DAYS)
    valid = _rows(population, WARMUP_DAYS + TRAIN_DAYS, LIVE_START_DAY)
    x, y = population.features, population.is_fraud
    classifier = HistGradientBoostingClassifier(
        max_iter=100,
        learning_rate=0.1,
        categorical_features=np.array([name in CATEGORICAL_FEATURES for name in FEATURE_NAMES]),
        random_state=seed,
    )
    classifier.fit(x[train], y[train])
    valid_scores = np.asarray(classifier.predict_proba(x[valid])[:, 1], dtype=np.float64)
    targets = PolicyConfig()
    decline = policy_threshold_at_fpr(valid_scores, y[valid], targets.target_decline_fpr)
    review = min(
        policy_threshold_at_fpr(valid_scores, y[valid], targets.target_review_fpr), decline
    )
    policy = DecisionPolicy(
        review_threshold=review,
        decline_threshold=decline,
        target_decline_fpr=targets.target_decline_fpr,
        target_review_fpr=targets.target_review_fpr,
        rules=[],
        reason_hints=[],
    )
    decisions = DecisionMaker(policy, FEATURE_NAMES)
    no_features = [0.0] * len(FEATURE_NAMES)
    outcomes = [decisions.decide(float(s), no_features).outcome for s in valid_scores]
    labels = y[valid]
    flagged = np.asarray([o in FLAGGED_OUTCOMES for o in outcomes])
    digest = hashlib.sha256(f"simulated:{population.config.seed}:{seed}".encode()).hexdigest()
    reference = DriftReference(
        model=ModelRef(name="simulated-hgb", version="1.0.0", content_hash=digest),
        feature_set_version=FEATURE_SET_VERSION,
        features=tuple(profile_features(x[train], FEATURE_NAMES, CODE_FEATURES)),
        score=profile_scores(valid_scores, outcomes),
        reference_pr_auc=float(average_precision_score(labels, valid_scores))
        if 0 < int(labels.sum()) < labels.size
        else None,
        # On validation (the package uses its test split): the simulation has no test days.
        reference_recall=float((flagged & labels).sum() / labels.sum()) if labels.any() else None,
        reference_positives=int(labels.sum()),
        fields=tuple(population.field_profile),
    )
    return SimulatedModel(reference, classifier, decisions)


def _rows(population: Population, first_day: int, end_day: int) -> slice:
    return slice(population.first_row_of_day(first_day), population.first_row_of_day(end_day))


def live_rows(population: Population) -> slice:
    return slice(population.first_row_of_day(LIVE_START_DAY), len(population.facts))


def scored_events(
    population: Population, model: SimulatedModel, rows: slice
) -> Iterator[ScoredEvent]:
    """The live events as the monitor reads them from the scoring log."""
    scores = model.score(population.features[rows])
    outcomes = model.outcomes(scores)
    ref = model.reference.model
    for offset, index in enumerate(range(*rows.indices(len(population.facts)))):
        yield ScoredEvent(
            population.transaction_ids[index],
            int(population.event_ms[index]),
            tuple(population.features[index].tolist()),
            (ModelScore(ref, DeploymentRole.CHAMPION, float(scores[offset]), outcomes[offset]),),
            population.fields[index],
        )


def shift_start_ms(config: SimulatorConfig, shift: ShiftConfig) -> int:
    return int((config.start + timedelta(days=shift.start_day)).timestamp() * 1000)
