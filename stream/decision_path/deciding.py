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
from schemas import DeploymentRole, FallbackReason, ModelRef, Transaction, decision_id_for
from schemas.codec import raw_sha256
from stream.decision_path.carried import emitted
from stream.decision_path.decided import DecidedEvent
from stream.decision_path.encoding import decision_json, scoring_log_json
from stream.decision_path.live_plan import Champion, LivePlan
from stream.decision_path.merchant_view import Watermarks
from stream.decision_path.online_seal import CarriedAt

CHAMPION = DeploymentRole.CHAMPION.value
CANARY = DeploymentRole.CANARY.value
SHADOW = DeploymentRole.SHADOW.value
__all__ = ["BatchDecider", "Champion", "LivePlan", "PendingEvent"]


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
    carried: CarriedAt | None = None  # decided online at request time: emitted as is


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


class BatchDecider:
    """Decides micro-batches under the live plan; `apply` swaps the plan between two batches."""

    def __init__(
        self,
        champion: Champion | LivePlan | None,
        fallback: FallbackMode,
        budget_ms: float,
        input_topic: str,
    ) -> None:
        self.plan = champion if isinstance(champion, LivePlan) else LivePlan(0, champion)
        self._fallback = fallback
        self._budget_ms = budget_ms
        self._input_topic = input_topic
        self.last_calls: list[ModelCall] = []

    @property
    def champion(self) -> Champion | None:
        return self.plan.champion

    def apply(self, plan: LivePlan) -> None:
        # One reference assignment: the batch being decided keeps the plan it started with.
        self.plan = plan

    def decide(self, batch: list[PendingEvent]) -> tuple[list[DecidedEvent], float]:
        """Outcomes in batch order, and the µs the deciding model calls took (0 if none).

        Events whose arrival is already older than the latency budget get the fallback
        decision without a model call: the answer would come too late to matter, and skipping
        them is how a lagging worker catches up. The canary decides the events of the cards
        its share picks; the champion scores every in-time event (its score on the canary's
        events is logged for comparison); each shadow scores every in-time event, one more
        model call per batch, and is only logged.
        """
        plan = self.plan  # read once: the whole batch is decided under one plan
        started = time.time()
        started_ms = started * 1000.0
        priors = self._priors(plan, batch)
        copies = _copies_of_earlier(batch, priors)
        # Decided online at request time: the caller has that answer, so no model call now.
        carried = {
            i
            for i, item in enumerate(batch)
            if item.carried is not None and i not in priors and i not in copies
        }
        in_time = [
            i
            for i, item in enumerate(batch)
            if started_ms - item.timestamp_ms <= self._budget_ms
            and i not in priors
            and i not in copies
            and i not in carried
        ]
        # A canary card's replays and late events are the canary's too, not the champion's.
        on_canary = (
            {
                i
                for i in range(len(batch))
                if i not in priors and i not in carried and plan.canary_decides(batch[i].key)
            }
            if plan.canary is not None
            else set()
        )
        champion = plan.champion
        violations: list[list[Violation]] = [[] for _ in batch]
        calls: list[_Scored] = []
        matrix = None
        if champion is not None:
            rows = [item.features for item in batch]
            matrix = np.array(rows, dtype=np.float64)
            checker = champion.scorer.expectations
            # numpy's fixed cost per call outweighs its speed for a handful of rows.
            violations = checker.check_rows(rows) if len(rows) <= 8 else checker.check(matrix)
        if matrix is not None and in_time:
            for role, model in plan.models():
                wanted = [i for i in in_time if i in on_canary] if role == CANARY else in_time
                if wanted:
                    calls.append(_score(role, model, matrix, wanted))
        self.last_calls = [ModelCall(c.role, c.model.ref, len(c.rows), c.us) for c in calls]
        deciding_us = sum(c.us for c in calls if c.role != SHADOW)
        scored_at = time.time()
        decided_at = datetime.fromtimestamp(scored_at, UTC)
        decided: list[DecidedEvent] = []
        for i, item in enumerate(batch):
            if i in carried:
                decided.append(self._emit_carried(item))
                continue
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
                    plan,
                    item,
                    CANARY if i in on_canary else CHAMPION,
                    [(c, c.scores.get(i)) for c in calls if i in c.rows],
                    violations[i],
                    (started, scored_at),
                    decided_at,
                    prior,
                )
            )
        return decided, deciding_us

    def _priors(self, plan: LivePlan, batch: list[PendingEvent]) -> dict[int, PriorDecision]:
        """Replays whose first decision came from a model that still holds a deciding role (or
        from no model, with none now): answered with that decision. A model the plan no longer
        lets decide (rolled back, replaced) is not repeated: the replay is decided again, and
        the new decision names the model that made it."""
        priors: dict[int, PriorDecision] = {}
        for i, item in enumerate(batch):
            if item.prior_decision is None:
                continue
            prior = read_decision_record(item.prior_decision)
            if plan.decides_with(prior.content_hash):
                priors[i] = prior
        return priors

    def _emit_carried(self, item: PendingEvent) -> DecidedEvent:
        assert item.carried is not None
        source = (self._input_topic, item.partition, item.offset, item.key, item.timestamp_ms)
        return emitted(item.carried, source)

    def _decide_one(
        self,
        plan: LivePlan,
        item: PendingEvent,
        role: str,
        scored: list[tuple[_Scored, float | None]],
        violations: list[Violation],
        batch_times: tuple[float, float],
        decided_at: datetime,
        prior: PriorDecision | None,
    ) -> DecidedEvent:
        deciding = plan.canary if role == CANARY else plan.champion
        own = next(((c, s) for c, s in scored if c.role == role), None)
        score = None if own is None else own[1]
        reason: FallbackReason | None = None
        error: str | None = None if own is None else own[0].error
        scoring_us = 0.0 if own is None else own[0].us
        verdict: Verdict
        if prior is not None:
            score = prior.score
            reason = (
                None if prior.fallback_reason is None else FallbackReason(prior.fallback_reason)
            )
            verdict = Verdict(prior.outcome, prior.reason_codes)
            scoring_us, error, scored = 0.0, None, []  # not scored now
            role, deciding = _model_named(plan, prior.content_hash)
        else:
            if deciding is None:
                reason = FallbackReason.MODEL_UNAVAILABLE
            elif error is not None:
                reason = FallbackReason.MODEL_ERROR
            elif score is None:
                reason = FallbackReason.LATENCY_BUDGET_EXCEEDED
            if score is not None and not 0.0 <= score <= 1.0:  # also catches NaN
                reason, score = FallbackReason.INVALID_SCORE, None
            if deciding is None:
                verdict = _model_free_fallback(self._fallback)
            elif reason is not None:
                verdict = deciding.scorer.decisions.fallback(self._fallback, item.features)
            else:
                assert score is not None
                verdict = deciding.scorer.decisions.decide(score, item.features)
        tx = item.transaction
        arrival_ms = item.timestamp_ms
        decided_ms = decided_at.timestamp() * 1000.0
        timings = (
            decided_ms - item.event_ms,
            max(decided_ms - arrival_ms, 0.0),
            scoring_us if score is not None else 0.0,
        )
        batch_started, scored_time = batch_times
        milestones = (
            item.received_at * 1000.0 - arrival_ms,
            item.enriched_at * 1000.0 - arrival_ms,
            batch_started * 1000.0 - arrival_ms,
            scored_time * 1000.0 - arrival_ms,
        )
        decision_id = decision_id_for(tx.transaction_id)
        model = deciding.ref if deciding else None
        reason_value = None if reason is None else reason.value
        outputs = [_output(c, s, item.features) for c, s in scored]
        if prior is not None and model is not None:
            outputs = (
                [(role, model, score, verdict.outcome, None, None)] if score is not None else []
            )
        elif model is not None and own is None:
            outputs.insert(0, (role, model, None, None, None, error or reason_value))
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
            role=role,
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
                role=role,
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
                outputs=outputs,
                deciding_role=role,
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


class ModelCall(NamedTuple):
    """One model call of a batch, for the per-model metrics."""

    role: str
    model: ModelRef
    rows: int
    us: float


class _Scored(NamedTuple):
    role: str
    model: Champion
    rows: frozenset[int]
    scores: dict[int, float]
    us: float
    error: str | None


def _score(role: str, model: Champion, matrix: np.ndarray, rows: list[int]) -> _Scored:
    started = time.perf_counter()
    try:
        probabilities = model.scorer.fraud_probability(matrix[rows])
    except Exception as exc:  # any model failure becomes a flagged fallback (or a logged error)
        us = (time.perf_counter() - started) * 1e6
        return _Scored(role, model, frozenset(rows), {}, us, repr(exc)[:400])
    us = (time.perf_counter() - started) * 1e6
    scores = {i: float(p) for i, p in zip(rows, probabilities, strict=True)}
    return _Scored(role, model, frozenset(rows), scores, us, None)


Output = tuple[str, ModelRef, float | None, str | None, float | None, str | None]


def _output(call: _Scored, score: float | None, features: tuple[float, ...]) -> Output:
    """What one model said about the event, with what its own thresholds would decide."""
    if score is None or not 0.0 <= score <= 1.0:
        return (call.role, call.model.ref, None, None, call.us, call.error or "invalid_score")
    outcome = call.model.scorer.decisions.decide(score, features).outcome
    return (call.role, call.model.ref, score, outcome, call.us, None)


def _model_named(plan: LivePlan, content_hash: str | None) -> tuple[str, Champion | None]:
    """The deciding role and model with this hash (a prior's model; None: no model now)."""
    for role, model in plan.models():
        if role != SHADOW and model.ref.content_hash == content_hash:
            return role, model
    return CHAMPION, None


def _model_free_fallback(mode: FallbackMode) -> Verdict:
    """Without a package there are no rules either: rules-only falls back to REVIEW."""
    if mode is FallbackMode.APPROVE:
        return Verdict("APPROVE", ("FALLBACK_APPROVE",))
    code = "FALLBACK_REVIEW" if mode is FallbackMode.REVIEW else "FALLBACK_NO_MODEL"
    return Verdict("REVIEW", (code,))
