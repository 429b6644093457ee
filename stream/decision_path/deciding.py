"""Scoring a micro-batch and turning each score into a decision and a scoring-log record."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import NamedTuple

import numpy as np
import orjson

from models.decision import FallbackMode, Verdict
from models.expectations import Violation
from models.features import FEATURE_NAMES, FEATURE_SET_VERSION
from models.scoring import PackageScorer
from schemas import DeploymentRole, FallbackReason, ModelRef, Transaction, decision_id_for
from schemas.codec import raw_sha256
from stream.decision_path.encoding import decision_json, scoring_log_json
from stream.decision_path.merchant_view import Watermarks

CHAMPION = DeploymentRole.CHAMPION.value


class PendingEvent(NamedTuple):
    """One enriched event waiting in the micro-batch."""

    transaction: Transaction
    raw: bytes
    key: bytes
    partition: int
    offset: int
    timestamp_ms: int  # the input record's Kafka timestamp: its arrival
    features: tuple[float, ...]
    merchant_view: Watermarks
    event_ms: int
    received_at: float  # wall-clock seconds: the agent took the record
    enriched_at: float
    txid_hash: int
    prior_decision: bytes | None  # a replay: the decision record its card state kept


class DecidedEvent(NamedTuple):
    key: bytes
    outcome: str
    fallback_reason: str | None
    model_version: str
    arrival_to_decision_ms: float
    event_to_decision_ms: float
    violations: list[Violation]
    decision: bytes  # fraud.decisions.v1 value
    log: bytes  # fraud.scoring-log.v1 value
    record: bytes | None  # what the card state keeps of a new decision (None: a re-sent one)


class PriorDecision(NamedTuple):
    """What a replay is answered with: the first decision, as its card state recorded it."""

    outcome: str
    score: float | None
    reason_codes: tuple[str, ...]
    fallback_reason: str | None
    content_hash: str | None


def decision_record(
    outcome: str,
    score: float | None,
    reason_codes: tuple[str, ...],
    fallback_reason: str | None,
    model: ModelRef | None,
) -> bytes:
    return orjson.dumps(
        [outcome, score, reason_codes, fallback_reason, model.content_hash if model else None]
    )


def read_decision_record(record: bytes) -> PriorDecision:
    outcome, score, codes, reason, content_hash = orjson.loads(record)
    return PriorDecision(outcome, score, tuple(codes), reason, content_hash)


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

    def decide(self, batch: list[PendingEvent]) -> tuple[list[DecidedEvent], float]:
        """Outcomes in batch order, and the µs the model call took (0 if none).

        Events whose arrival is already older than the latency budget get the fallback
        decision without a model call: the answer would come too late to matter, and skipping
        them is how a lagging worker catches up.
        """
        started = time.time()
        started_ms = started * 1000.0
        priors = self._priors(batch)
        copies = _copies_of_earlier(batch, priors)
        in_time = [
            i
            for i, item in enumerate(batch)
            if started_ms - item.timestamp_ms <= self._budget_ms
            and i not in priors
            and i not in copies
        ]
        scores: dict[int, float] = {}
        failure: FallbackReason | None = None
        error: str | None = None
        scoring_us = 0.0
        champion = self.champion
        violations: list[list[Violation]] = [[] for _ in batch]
        if champion is None:
            failure = FallbackReason.MODEL_UNAVAILABLE
        else:
            rows = [item.features for item in batch]
            matrix = np.array(rows, dtype=np.float64)
            checker = champion.scorer.expectations
            # numpy's fixed cost per call outweighs its speed for a handful of rows.
            violations = checker.check_rows(rows) if len(rows) <= 8 else checker.check(matrix)
            if in_time:
                call_started = time.perf_counter()
                try:
                    probabilities = champion.scorer.fraud_probability(matrix[in_time])
                except Exception as exc:  # any model failure becomes a flagged fallback
                    failure, error = FallbackReason.MODEL_ERROR, repr(exc)[:400]
                else:
                    scores = {i: float(p) for i, p in zip(in_time, probabilities, strict=True)}
                scoring_us = (time.perf_counter() - call_started) * 1e6
        scored_at = time.time()
        decided_at = datetime.fromtimestamp(scored_at, UTC)
        decided: list[DecidedEvent] = []
        for i, item in enumerate(batch):
            prior = priors.get(i)
            first = copies.get(i)
            if first is not None:
                # A second copy of a transaction in the same batch (a producer's retry, a
                # re-drive racing its original): the first copy's decision, not a second one
                # on a merchant partial that now counts the first.
                record = decided[first].record
                prior = priors[first] if record is None else read_decision_record(record)
            decided.append(
                self._decide_one(
                    item,
                    scores.get(i),
                    failure,
                    error,
                    violations[i],
                    scoring_us,
                    (started, scored_at),
                    decided_at,
                    prior,
                )
            )
        return decided, scoring_us

    def _priors(self, batch: list[PendingEvent]) -> dict[int, PriorDecision]:
        """Replays whose first decision came from the model deciding now (or from no model,
        with none now): answered with that decision. Under another model they are decided
        again, and the new decision names the model that made it."""
        priors: dict[int, PriorDecision] = {}
        for i, item in enumerate(batch):
            if item.prior_decision is None:
                continue
            prior = read_decision_record(item.prior_decision)
            current = self.champion.ref.content_hash if self.champion else None
            if prior.content_hash == current:
                priors[i] = prior
        return priors

    def _decide_one(
        self,
        item: PendingEvent,
        score: float | None,
        failure: FallbackReason | None,
        error: str | None,
        violations: list[Violation],
        scoring_us: float,
        batch_times: tuple[float, float],
        decided_at: datetime,
        prior: PriorDecision | None,
    ) -> DecidedEvent:
        champion = self.champion
        reason: FallbackReason | None = failure
        verdict: Verdict
        if prior is not None:
            score = prior.score
            reason = (
                None if prior.fallback_reason is None else FallbackReason(prior.fallback_reason)
            )
            verdict = Verdict(prior.outcome, prior.reason_codes)
            scoring_us, error = 0.0, None  # not scored now
        else:
            if reason is None and score is None:
                reason = FallbackReason.LATENCY_BUDGET_EXCEEDED
            if score is not None and not 0.0 <= score <= 1.0:  # also catches NaN
                reason, score = FallbackReason.INVALID_SCORE, None
            if champion is None:
                verdict = _model_free_fallback(self._fallback)
            elif reason is not None:
                verdict = champion.scorer.decisions.fallback(self._fallback, item.features)
            else:
                assert score is not None
                verdict = champion.scorer.decisions.decide(score, item.features)
        tx = item.transaction
        arrival_ms = item.timestamp_ms
        decided_ms = decided_at.timestamp() * 1000.0
        timings = (
            decided_ms - item.event_ms,
            max(decided_ms - arrival_ms, 0.0),
            scoring_us if score is not None else 0.0,
        )
        batch_started, scored = batch_times
        milestones = (
            item.received_at * 1000.0 - arrival_ms,
            item.enriched_at * 1000.0 - arrival_ms,
            batch_started * 1000.0 - arrival_ms,
            scored * 1000.0 - arrival_ms,
        )
        decision_id = decision_id_for(tx.transaction_id)
        model = champion.ref if champion else None
        reason_value = None if reason is None else reason.value
        output = None
        if model is not None:
            output = (
                CHAMPION,
                model,
                score,
                verdict.outcome if score is not None else None,
                scoring_us if score is not None else None,
                None if score is not None else (error or reason_value),
            )
        record = None
        if prior is None:
            record = decision_record(
                verdict.outcome, score, verdict.reason_codes, reason_value, model
            )
        return DecidedEvent(
            key=item.key,
            outcome=verdict.outcome,
            fallback_reason=reason_value,
            model_version=model.version if model else "none",
            arrival_to_decision_ms=timings[1],
            event_to_decision_ms=timings[0],
            violations=violations,
            decision=decision_json(
                decision_id=decision_id,
                transaction=tx,
                outcome=verdict.outcome,
                score=score,
                reason_codes=verdict.reason_codes,
                model=model,
                role=CHAMPION,
                feature_set_version=FEATURE_SET_VERSION,
                fallback_reason=reason_value,
                decided_at=decided_at,
                timings=timings,
            ),
            log=scoring_log_json(
                decision_id=decision_id,
                transaction=tx,
                transaction_json=tx.model_dump_json(),
                raw_sha256=raw_sha256(item.raw),
                source=(
                    self._input_topic,
                    item.partition,
                    item.offset,
                    item.key,
                    item.timestamp_ms,
                ),
                feature_set_version=FEATURE_SET_VERSION,
                features=dict(zip(FEATURE_NAMES, item.features, strict=True)),
                merchant_view=item.merchant_view,
                output=output,
                deciding_role=CHAMPION,
                outcome=verdict.outcome,
                reason_codes=verdict.reason_codes,
                violations=violations,
                fallback_reason=reason_value,
                decided_at=decided_at,
                timings=timings,
                milestones=milestones,
            ),
            record=record,
        )


def _copies_of_earlier(
    batch: list[PendingEvent], priors: dict[int, PriorDecision]
) -> dict[int, int]:
    """Index of each event that repeats an earlier event of the batch → that earlier index.

    The card state records decisions when a batch is decided, so a copy in the same batch finds
    no recorded decision for its transaction; it must still get the first copy's."""
    first_of: dict[tuple[int, bytes, int], int] = {}
    copies: dict[int, int] = {}
    for i, item in enumerate(batch):
        identity = (item.partition, item.key, item.txid_hash)
        first = first_of.setdefault(identity, i)
        if first != i and i not in priors:
            copies[i] = first
    return copies


def _model_free_fallback(mode: FallbackMode) -> Verdict:
    """Without a package there are no rules either: rules-only falls back to REVIEW."""
    if mode is FallbackMode.APPROVE:
        return Verdict("APPROVE", ("FALLBACK_APPROVE",))
    code = "FALLBACK_REVIEW" if mode is FallbackMode.REVIEW else "FALLBACK_NO_MODEL"
    return Verdict("REVIEW", (code,))
