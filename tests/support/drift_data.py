"""Small hand-made references and events for the drift monitor's tests."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from models.drift import DriftReference, ModelScore, ScoredEvent
from schemas.base import DeploymentRole, ModelRef
from schemas.model_package import FeatureProfile, ScoreProfile

T0 = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday, midnight UTC
T0_MS = int(T0.timestamp() * 1000)
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS

CHAMPION = ModelRef(name="hgb-fraud", version="1.0.0", content_hash="a" * 64)
SHADOW = ModelRef(name="hgb-fraud", version="1.1.0", content_hash="b" * 64)


def numeric_profile(name: str = "amount", missing_rate: float = 0.0) -> FeatureProfile:
    """Four equal bins: ≤ 10, (10, 20], (20, 30], > 30."""
    return FeatureProfile(
        name=name,
        kind="numeric",
        missing_rate=missing_rate,
        min=0.0,
        max=40.0,
        mean=20.0,
        std=11.0,
        bin_edges=[10.0, 20.0, 30.0],
        bin_shares=[0.25, 0.25, 0.25, 0.25],
        categories={},
    )


def categorical_profile(name: str = "channel") -> FeatureProfile:
    """Codes 0 (POS) 60%, 1 (ECOM) 30%, 2 (ATM) 10%."""
    return FeatureProfile(
        name=name,
        kind="categorical",
        missing_rate=0.0,
        min=0.0,
        max=2.0,
        mean=None,
        std=None,
        bin_edges=[],
        bin_shares=[],
        categories={"0": 0.6, "1": 0.3, "2": 0.1},
    )


def score_profile() -> ScoreProfile:
    """Scores: half ≤ 0.1, the rest split at 0.5; 90% APPROVE, 8% REVIEW, 2% DECLINE."""
    return ScoreProfile(
        bin_edges=[0.1, 0.5],
        bin_shares=[0.5, 0.3, 0.2],
        outcome_rates={"APPROVE": 0.9, "REVIEW": 0.08, "DECLINE": 0.02},
        computed_on="validation",
    )


def reference(
    reference_pr_auc: float | None = 0.5, reference_positives: int | None = None
) -> DriftReference:
    return DriftReference(
        model=CHAMPION,
        feature_set_version="fs1-test",
        features=(numeric_profile(), categorical_profile()),
        score=score_profile(),
        reference_pr_auc=reference_pr_auc,
        reference_positives=reference_positives,
    )


def event(
    index: int,
    amount: float = 15.0,
    channel: float = 0.0,
    score: float = 0.05,
    outcome: str = "APPROVE",
    event_ms: int | None = None,
    shadow_score: float | None = None,
) -> ScoredEvent:
    outputs = [ModelScore(CHAMPION, DeploymentRole.CHAMPION, score, outcome)]
    if shadow_score is not None:
        outputs.append(
            ModelScore(
                SHADOW,
                DeploymentRole.SHADOW,
                shadow_score,
                "REVIEW" if shadow_score >= 0.5 else "APPROVE",
            )
        )
    return ScoredEvent(
        transaction_id=f"T{index:08d}",
        event_ms=T0_MS + index * 1000 if event_ms is None else event_ms,
        features=(amount, channel),
        outputs=tuple(outputs),
    )


MISSING = math.nan
