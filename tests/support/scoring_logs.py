"""Scoring-log records built from simulated transactions, as the worker would log them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from models.drift import DriftReference
from models.features import CODE_FEATURES, FEATURE_NAMES, FEATURE_SET_VERSION
from models.features.offline import build_feature_matrix, facts_from_table
from models.profile import profile_features, profile_scores
from models.simulator import SimulatorConfig, iter_label_json, iter_transaction_json, simulate
from schemas import (
    DecisionTimings,
    DeploymentRole,
    KafkaSource,
    ModelOutput,
    ModelRef,
    Outcome,
    ScoringLogRecord,
    Transaction,
    decision_id_for,
    raw_sha256,
)
from schemas.codec import encode_record

MODEL = ModelRef(name="hgb-fraud", version="2.0.0", content_hash="c" * 64)
REVIEW_AT, DECLINE_AT = 0.5, 0.8


def _score(amount: float, fraud: bool) -> float:
    """A stand-in model: fraud scores high, genuine payments by amount (deterministic)."""
    return 0.85 if fraud else min(0.6, amount / 2000.0)


def _outcome(score: float) -> Outcome:
    if score >= DECLINE_AT:
        return Outcome.DECLINE
    return Outcome.REVIEW if score >= REVIEW_AT else Outcome.APPROVE


@dataclass(frozen=True)
class SimulatedLog:
    reference: DriftReference
    reference_rows: int
    logs: list[bytes]
    """Scoring-log record values of the rows after the reference rows, in event order."""
    keys: list[bytes]
    transaction_ids: list[str]
    labels: list[tuple[bytes, bytes]]
    """(key, FraudLabel JSON) of every simulated label."""


def simulated_log(
    seed: int = 3, reference_share: float = 0.5, model: ModelRef = MODEL
) -> SimulatedLog:
    """Scoring logs of a small simulated world as if `model` had scored it."""
    result = simulate(SimulatorConfig.small(seed=seed))
    table = result.transactions
    features = build_feature_matrix(facts_from_table(table))
    fraud = table.column("is_fraud").to_numpy(zero_copy_only=False).astype(bool)
    amounts = features[:, FEATURE_NAMES.index("amount")]
    scores = np.array([_score(a, f) for a, f in zip(amounts, fraud, strict=True)])
    cut = int(len(scores) * reference_share)
    reference = DriftReference(
        model=model,
        feature_set_version=FEATURE_SET_VERSION,
        features=tuple(profile_features(features[:cut], FEATURE_NAMES, CODE_FEATURES)),
        score=profile_scores(scores[:cut], [_outcome(s).value for s in scores[:cut]]),
        reference_pr_auc=0.9,
    )
    transactions = list(iter_transaction_json(table))
    logs, keys, ids = [], [], []
    for row in range(cut, len(transactions)):
        key, raw = transactions[row]
        tx = Transaction.model_validate_json(raw)
        score = float(scores[row])
        outcome = _outcome(score)
        record = ScoringLogRecord(
            decision_id=decision_id_for(tx.transaction_id),
            transaction_id=tx.transaction_id,
            card_id=tx.card_id,
            merchant_id=tx.merchant_id,
            transaction=tx,
            raw_sha256=raw_sha256(raw),
            source=KafkaSource(topic="fraud.transactions.v1", partition=0, offset=row, key=key),
            feature_set_version=FEATURE_SET_VERSION,
            features=dict(zip(FEATURE_NAMES, features[row].tolist(), strict=True)),
            outputs=[
                ModelOutput(
                    role=DeploymentRole.CHAMPION,
                    model=model,
                    score=score,
                    outcome=outcome,
                    latency_us=120.0,
                )
            ],
            deciding_role=DeploymentRole.CHAMPION,
            outcome=outcome,
            reason_codes=[],
            violations=[],
            fallback=False,
            decided_at=tx.event_time + timedelta(milliseconds=30),
            timings=DecisionTimings(
                event_to_decision_ms=30.0, arrival_to_decision_ms=2.0, scoring_us=120.0
            ),
        )
        logs.append(encode_record(record))
        keys.append(key)
        ids.append(tx.transaction_id)
    return SimulatedLog(reference, cut, logs, keys, ids, list(iter_label_json(result.labels)))
