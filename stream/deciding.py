"""Scoring a micro-batch and turning each score into a decision and a scoring-log record."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from models.decision import FallbackMode, Verdict
from models.expectations import Violation
from models.features import FEATURE_NAMES, FEATURE_SET_VERSION
from models.scoring import PackageScorer
from schemas import (
    Decision,
    DecisionTimings,
    DeploymentRole,
    ExpectationViolation,
    FallbackReason,
    KafkaSource,
    ModelOutput,
    ModelRef,
    ScoringLogRecord,
    Transaction,
    decision_id_for,
)
from schemas.codec import raw_sha256
from stream.internal import CardStageOutput

EPOCH_MS = 1000.0


@dataclass(frozen=True, slots=True)
class Scoreable:
    """One event waiting in the micro-batch."""

    handover: CardStageOutput
    transaction: Transaction
    features: tuple[float, ...]
    event_ms: int
    ack: Any  # what the stage acks once the outputs are sent


@dataclass(frozen=True, slots=True)
class Outcome:
    decision: Decision
    log: ScoringLogRecord


class Champion:
    """The deciding package and its identity as written on every decision."""

    def __init__(self, scorer: PackageScorer) -> None:
        manifest = scorer.manifest
        if manifest.features.feature_set_version != FEATURE_SET_VERSION:
            raise ValueError(
                f"package {manifest.name}-{manifest.version} was built for features "
                f"{manifest.features.feature_set_version}; "
                f"this worker computes {FEATURE_SET_VERSION}"
            )
        self.scorer = scorer
        self.ref = ModelRef(
            name=manifest.name, version=manifest.version, content_hash=scorer.package.content_hash
        )


class BatchDecider:
    def __init__(
        self,
        champion: Champion | None,
        fallback: FallbackMode,
        budget_ms: float,
        input_topic: str,
    ) -> None:
        self.champion = champion
        self._fallback = fallback
        self._budget_ms = budget_ms
        self._input_topic = input_topic

    def decide(self, batch: list[Scoreable], now: datetime) -> tuple[list[Outcome], float]:
        """Outcomes in batch order, and the µs the model call took (0 if none)."""
        now_ms = now.timestamp() * EPOCH_MS
        in_time = [
            i
            for i, item in enumerate(batch)
            if now_ms - item.handover.source_timestamp_ms <= self._budget_ms
        ]
        scores: dict[int, float] = {}
        failure: FallbackReason | None = None
        error = ""
        scoring_us = 0.0
        champion = self.champion
        matrix = np.array([item.features for item in batch], dtype=np.float64).reshape(
            len(batch), len(FEATURE_NAMES)
        )
        violations: list[list[Violation]] = [[] for _ in batch]
        if champion is None:
            failure = FallbackReason.MODEL_UNAVAILABLE
        else:
            violations = champion.scorer.expectations.check(matrix)
            if in_time:
                started = time.perf_counter()
                try:
                    probabilities = champion.scorer.fraud_probability(matrix[in_time])
                except Exception as exc:  # any model failure becomes a flagged fallback
                    failure, error = FallbackReason.MODEL_ERROR, repr(exc)[:400]
                else:
                    scores = {i: float(p) for i, p in zip(in_time, probabilities, strict=True)}
                scoring_us = (time.perf_counter() - started) * 1e6
        outcomes = [
            self._outcome(
                i, item, scores.get(i), failure, error, violations[i], scoring_us, now, now_ms
            )
            for i, item in enumerate(batch)
        ]
        return outcomes, scoring_us

    def _outcome(
        self,
        index: int,
        item: Scoreable,
        score: float | None,
        failure: FallbackReason | None,
        error: str,
        violations: list[Violation],
        scoring_us: float,
        now: datetime,
        now_ms: float,
    ) -> Outcome:
        champion = self.champion
        reason = failure
        if reason is None and score is None:
            reason = FallbackReason.LATENCY_BUDGET_EXCEEDED
        if score is not None and not 0.0 <= score <= 1.0:  # also catches NaN
            reason, score = FallbackReason.INVALID_SCORE, None
        verdict: Verdict
        if champion is None:
            verdict = _model_free_fallback(self._fallback)
        elif reason is not None:
            verdict = champion.scorer.decisions.fallback(self._fallback, item.features)
        else:
            assert score is not None
            verdict = champion.scorer.decisions.decide(score, item.features)
        tx = item.transaction
        handover = item.handover
        timings = DecisionTimings(
            event_to_decision_ms=now_ms - item.event_ms,
            arrival_to_decision_ms=max(now_ms - handover.source_timestamp_ms, 0.0),
            scoring_us=scoring_us if score is not None else 0.0,
        )
        decision_id = decision_id_for(tx.transaction_id)
        model = champion.ref if champion else None
        decision = Decision(
            decision_id=decision_id,
            transaction_id=tx.transaction_id,
            card_id=tx.card_id,
            merchant_id=tx.merchant_id,
            outcome=verdict.outcome,
            score=score,
            reason_codes=list(verdict.reason_codes),
            model=model,
            role=DeploymentRole.CHAMPION,
            feature_set_version=FEATURE_SET_VERSION,
            fallback=reason is not None,
            fallback_reason=reason,
            event_time=tx.event_time,
            decided_at=now,
            timings=timings,
        )
        outputs = []
        if model is not None:
            outputs.append(
                ModelOutput(
                    role=DeploymentRole.CHAMPION,
                    model=model,
                    score=score,
                    outcome=verdict.outcome if score is not None else None,
                    latency_us=scoring_us if score is not None else None,
                    error=None if score is not None else (error or str(reason)),
                )
            )
        log = ScoringLogRecord(
            decision_id=decision_id,
            transaction_id=tx.transaction_id,
            card_id=tx.card_id,
            merchant_id=tx.merchant_id,
            transaction=tx,
            raw_sha256=raw_sha256(handover.raw),
            source=KafkaSource(
                topic=self._input_topic,
                partition=handover.origin_partition,
                offset=handover.source_offset,
                key=handover.key,
                timestamp_ms=handover.source_timestamp_ms,
            ),
            feature_set_version=FEATURE_SET_VERSION,
            features=dict(zip(FEATURE_NAMES, item.features, strict=True)),
            outputs=outputs,
            deciding_role=DeploymentRole.CHAMPION,
            outcome=verdict.outcome,
            reason_codes=list(verdict.reason_codes),
            violations=[
                ExpectationViolation(
                    feature=v.feature, kind=v.kind, observed=v.observed, detail=v.detail
                )
                for v in violations
            ],
            fallback=reason is not None,
            fallback_reason=reason,
            decided_at=now,
            timings=timings,
        )
        return Outcome(decision, log)


def _model_free_fallback(mode: FallbackMode) -> Verdict:
    """Without a package there are no rules either: rules-only falls back to REVIEW."""
    if mode is FallbackMode.APPROVE:
        return Verdict("APPROVE", ("FALLBACK_APPROVE",))
    return Verdict(
        "REVIEW", ("FALLBACK_REVIEW" if mode is FallbackMode.REVIEW else "FALLBACK_NO_MODEL",)
    )
