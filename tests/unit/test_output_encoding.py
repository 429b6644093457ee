"""The hot-path JSON writers produce exactly the records the contracts describe."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone

import pytest

from models.expectations import Violation
from schemas import (
    Decision,
    DecisionTimings,
    DeploymentRole,
    ExpectationViolation,
    FallbackReason,
    KafkaSource,
    MerchantPartialSeen,
    Milestones,
    ModelOutput,
    ModelRef,
    Outcome,
    ScoringLogRecord,
    examples,
)
from stream.decision_path.encoding import decision_json, scoring_log_json

MODEL = ModelRef(name="card-fraud-hgb", version="1.2.3", content_hash="ab" * 32)
DECIDED_AT = datetime(2026, 11, 27, 3, 4, 5, 678_901, tzinfo=UTC)
TIMINGS = (12.5, 3.25, 810.0)


@pytest.mark.parametrize(
    ("score", "reason", "model", "codes"),
    [
        (0.73, None, MODEL, ("SCORE_ABOVE_REVIEW_THRESHOLD", "HIGH_CARD_COUNT_1H")),
        (None, "latency_budget_exceeded", MODEL, ("FALLBACK_RULES_ONLY",)),
        (None, "model_unavailable", None, ("FALLBACK_NO_MODEL",)),
    ],
)
def test_decision_json_equals_the_contract_record(
    score: float | None, reason: str | None, model: ModelRef | None, codes: tuple[str, ...]
) -> None:
    tx = examples.transaction()
    written = decision_json(
        decision_id="49df60cb-d252-57cc-8b8e-619ead79befe",
        transaction=tx,
        outcome="REVIEW",
        score=score,
        reason_codes=codes,
        model=model,
        role="champion",
        feature_set_version="fs1-abc",
        fallback_reason=reason,
        decided_at=DECIDED_AT,
        timings=TIMINGS,
    )
    expected = Decision(
        decision_id="49df60cb-d252-57cc-8b8e-619ead79befe",
        transaction_id=tx.transaction_id,
        card_id=tx.card_id,
        merchant_id=tx.merchant_id,
        outcome=Outcome.REVIEW,
        score=score,
        reason_codes=list(codes),
        model=model,
        role=DeploymentRole.CHAMPION,
        feature_set_version="fs1-abc",
        fallback=reason is not None,
        fallback_reason=None if reason is None else FallbackReason(reason),
        event_time=tx.event_time,
        decided_at=DECIDED_AT,
        timings=DecisionTimings(
            event_to_decision_ms=12.5, arrival_to_decision_ms=3.25, scoring_us=810.0
        ),
    )
    assert Decision.model_validate_json(written) == expected


def test_scoring_log_json_equals_the_contract_record() -> None:
    tx = examples.transaction()
    features = {"amount": 123.45, "card_count_1h": 4.0, "card_secs_since_last": math.nan}
    violation = Violation("amount", "above_max", 123.45, 'over "max" — 100.0')
    written = scoring_log_json(
        decision_id="49df60cb-d252-57cc-8b8e-619ead79befe",
        transaction=tx,
        transaction_json=tx.model_dump_json(),
        raw_sha256="e" * 64,
        source=("fraud.transactions.v1", 3, 1042, b"card-\x00\xff", 1_793_614_530_250),
        feature_set_version="fs1-abc",
        features=features,
        merchant_view=((0, 17), (3, 1040)),
        outputs=[("champion", MODEL, 0.71, "REVIEW", 810.0, None)],
        deciding_role="champion",
        outcome="REVIEW",
        reason_codes=("SCORE_ABOVE_REVIEW_THRESHOLD",),
        violations=[violation],
        fallback_reason=None,
        decided_at=DECIDED_AT,
        timings=TIMINGS,
        milestones=(1.5, 1.75, 2.0, 2.5),
    )
    expected = ScoringLogRecord(
        decision_id="49df60cb-d252-57cc-8b8e-619ead79befe",
        transaction_id=tx.transaction_id,
        card_id=tx.card_id,
        merchant_id=tx.merchant_id,
        transaction=tx,
        raw_sha256="e" * 64,
        source=KafkaSource(
            topic="fraud.transactions.v1",
            partition=3,
            offset=1042,
            key=b"card-\x00\xff",
            timestamp_ms=1_793_614_530_250,
        ),
        feature_set_version="fs1-abc",
        features=features,
        merchant_view=[
            MerchantPartialSeen(partition=0, offset=17),
            MerchantPartialSeen(partition=3, offset=1040),
        ],
        outputs=[
            ModelOutput(
                role=DeploymentRole.CHAMPION,
                model=MODEL,
                score=0.71,
                outcome=Outcome.REVIEW,
                latency_us=810.0,
            )
        ],
        deciding_role=DeploymentRole.CHAMPION,
        outcome=Outcome.REVIEW,
        reason_codes=["SCORE_ABOVE_REVIEW_THRESHOLD"],
        violations=[
            ExpectationViolation(
                feature="amount", kind="above_max", observed=123.45, detail='over "max" — 100.0'
            )
        ],
        fallback=False,
        decided_at=DECIDED_AT,
        timings=DecisionTimings(
            event_to_decision_ms=12.5, arrival_to_decision_ms=3.25, scoring_us=810.0
        ),
        milestones=Milestones(received=1.5, enriched=1.75, batch_started=2.0, scored=2.5),
    )
    assert ScoringLogRecord.model_validate_json(written) == expected
    assert ScoringLogRecord.model_validate_json(written).features["card_secs_since_last"] is None


def test_timestamps_read_back_exactly_in_and_out_of_utc() -> None:
    tx = examples.transaction()
    for moment in (
        DECIDED_AT,
        DECIDED_AT.replace(microsecond=0),
        DECIDED_AT.astimezone(timezone(timedelta(hours=-5))),
    ):
        written = decision_json(
            decision_id="49df60cb-d252-57cc-8b8e-619ead79befe",
            transaction=tx.model_copy(update={"event_time": moment}),
            outcome="APPROVE",
            score=0.1,
            reason_codes=(),
            model=MODEL,
            role="champion",
            feature_set_version="fs1-abc",
            fallback_reason=None,
            decided_at=moment,
            timings=TIMINGS,
        )
        record = Decision.model_validate_json(written)
        assert record.decided_at == moment
        assert record.event_time == moment
