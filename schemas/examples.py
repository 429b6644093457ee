"""One valid, fully populated example of every record, with fixed timestamps.

For tests, benchmarks and documentation; building them also proves each contract can be
satisfied. Every call returns a fresh, equal instance.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from schemas.audit import LostInput, OffsetRange, OutcomeAudit, outcome_audit_id_for
from schemas.base import DeploymentRole, ModelRef
from schemas.categories import ErrorCategory
from schemas.dead_letter import DeadLetter, KafkaSource, dead_letter_id_for
from schemas.decision import (
    Decision,
    DecisionTimings,
    FallbackReason,
    Outcome,
    decision_id_for,
)
from schemas.dlq_replay import DeadLetterReplay
from schemas.drift import (
    AlertSeverity,
    DecisionRateDrift,
    DriftAlert,
    DriftReport,
    DriftStatistic,
    DriftWindow,
    FeatureDrift,
    FeatureKind,
    LivePerformance,
    OutcomeRates,
    ScoreDrift,
    WindowKind,
)
from schemas.label import FraudLabel, LabelSource
from schemas.model_control import Approval, CanaryDeployment, DeployedPackage, ModelControl
from schemas.scoring_log import (
    ExpectationKind,
    ExpectationViolation,
    MerchantPartialSeen,
    Milestones,
    ModelOutput,
    ScoringLogRecord,
)
from schemas.transaction import TRANSACTION_SCHEMA_VERSION, Channel, EntryMode, Transaction

EVENT_TIME = datetime(2026, 11, 2, 10, 15, 30, 250_000, tzinfo=UTC)
DECIDED_AT = EVENT_TIME + timedelta(milliseconds=42)
TOPIC = "fraud.transactions.v1"


def transaction() -> Transaction:
    return Transaction(
        schema_version=TRANSACTION_SCHEMA_VERSION,
        transaction_id="tx-000001",
        card_id="card-42",
        merchant_id="m-7",
        terminal_id="t-1",
        amount=Decimal("123.45"),
        currency="EUR",
        event_time=EVENT_TIME,
        mcc="5411",
        channel=Channel.POS,
        country="DE",
        entry_mode=EntryMode.CHIP,
        card_present=True,
        device_id_hash="a" * 64,
        ip_hash="b" * 64,
        customer_lat=52.52,
        customer_lon=13.405,
    )


def champion() -> ModelRef:
    return ModelRef(name="hgb-fraud", version="1.3.0", content_hash="c" * 64)


def shadow() -> ModelRef:
    return ModelRef(name="hgb-fraud", version="1.4.0-rc1", content_hash="d" * 64)


def timings() -> DecisionTimings:
    return DecisionTimings(event_to_decision_ms=42.0, arrival_to_decision_ms=3.5, scoring_us=810.0)


def decision() -> Decision:
    tx = transaction()
    return Decision(
        decision_id=decision_id_for(tx.transaction_id),
        transaction_id=tx.transaction_id,
        card_id=tx.card_id,
        merchant_id=tx.merchant_id,
        outcome=Outcome.REVIEW,
        score=0.71,
        reason_codes=["HIGH_SCORE", "AMOUNT_SPIKE"],
        model=champion(),
        role=DeploymentRole.CHAMPION,
        feature_set_version="fs-1",
        fallback=False,
        event_time=tx.event_time,
        decided_at=DECIDED_AT,
        timings=timings(),
    )


def fallback_decision() -> Decision:
    return Decision.model_validate(
        decision().model_dump()
        | {
            "outcome": Outcome.APPROVE,
            "score": None,
            "reason_codes": ["FALLBACK_APPROVE"],
            "fallback": True,
            "fallback_reason": FallbackReason.LATENCY_BUDGET_EXCEEDED,
        }
    )


def scoring_log() -> ScoringLogRecord:
    tx = transaction()
    return ScoringLogRecord(
        decision_id=decision_id_for(tx.transaction_id),
        transaction_id=tx.transaction_id,
        card_id=tx.card_id,
        merchant_id=tx.merchant_id,
        transaction=tx,
        raw_sha256="e" * 64,
        source=KafkaSource(topic=TOPIC, partition=3, offset=1042, key=b"card-42"),
        feature_set_version="fs-1",
        features={"amount": 123.45, "card_tx_count_1h": 4.0, "merchant_fraud_rate_7d": None},
        merchant_view=[
            MerchantPartialSeen(partition=0, offset=88),
            MerchantPartialSeen(partition=3, offset=1040),
        ],
        outputs=[
            ModelOutput(
                role=DeploymentRole.CHAMPION,
                model=champion(),
                score=0.71,
                outcome=Outcome.REVIEW,
                latency_us=810.0,
            ),
            ModelOutput(
                role=DeploymentRole.SHADOW,
                model=shadow(),
                score=None,
                outcome=None,
                latency_us=None,
                error="model_error: ValueError('X has 19 features, expected 20')",
            ),
        ],
        deciding_role=DeploymentRole.CHAMPION,
        outcome=Outcome.REVIEW,
        reason_codes=["HIGH_SCORE", "AMOUNT_SPIKE"],
        violations=[
            ExpectationViolation(
                feature="amount",
                kind=ExpectationKind.ABOVE_MAX,
                observed=123.45,
                detail="max seen in training: 100.0",
            )
        ],
        fallback=False,
        decided_at=DECIDED_AT,
        timings=timings(),
        milestones=Milestones(received=2.1, enriched=2.2, batch_started=2.4, scored=3.2),
    )


def dead_letter() -> DeadLetter:
    return DeadLetter(
        dead_letter_id=dead_letter_id_for(TOPIC, 3, 1043),
        record_type="Transaction",
        category=ErrorCategory.INVALID_VALUE,
        field="currency",
        detail="currency: 'EUX' is not one of the 156 allowed values [invalid_value]",
        value=b'{"schema_version": 1, "currency": "EUX", "\xff": 0}',
        source=KafkaSource(
            topic=TOPIC, partition=3, offset=1043, key=b"card-\x00\xff", timestamp_ms=1793614530250
        ),
        dead_lettered_at=DECIDED_AT,
        dead_lettered_by="worker-1:4242",
    )


def fraud_label() -> FraudLabel:
    return FraudLabel(
        transaction_id="tx-000001",
        card_id="card-42",
        is_fraud=True,
        label_source=LabelSource.CHARGEBACK,
        labelled_at=EVENT_TIME + timedelta(days=21),
        event_time=EVENT_TIME,
    )


def drift_report() -> DriftReport:
    window_end = EVENT_TIME + timedelta(hours=1)
    return DriftReport(
        report_id="drift-2026-11-02T11",
        generated_at=window_end + timedelta(seconds=5),
        window=DriftWindow(kind=WindowKind.TIME, start=EVENT_TIME, end=window_end, n=52_113),
        model=champion(),
        feature_set_version="fs-1",
        features=[
            FeatureDrift(
                feature="amount",
                kind=FeatureKind.NUMERIC,
                psi=0.31,
                ks=0.12,
                wasserstein=14.2,
                p_value=0.0001,
                missing_rate_live=0.0,
                missing_rate_reference=0.0,
                alert_statistic=DriftStatistic.PSI,
                threshold=0.25,
                alert=True,
            ),
            FeatureDrift(
                feature="channel",
                kind=FeatureKind.CATEGORICAL,
                psi=0.02,
                chi_square=3.1,
                p_value=0.38,
                alert_statistic=DriftStatistic.PSI,
                threshold=0.25,
                alert=False,
            ),
        ],
        score=ScoreDrift(
            psi=0.05,
            ks=0.03,
            mean_live=0.041,
            mean_reference=0.038,
            alert_statistic=DriftStatistic.PSI,
            threshold=0.25,
            alert=False,
        ),
        decision_rates=DecisionRateDrift(
            live=OutcomeRates(approve=0.95, review=0.04, decline=0.01),
            reference=OutcomeRates(approve=0.96, review=0.03, decline=0.01),
        ),
        performance=[
            LivePerformance(
                model=champion(),
                role=DeploymentRole.CHAMPION,
                labels_joined=1_830,
                positives=41,
                precision=0.52,
                recall=0.78,
                pr_auc=0.61,
                window_start=EVENT_TIME - timedelta(days=30),
                window_end=EVENT_TIME - timedelta(days=2),
            )
        ],
        alerts=[
            DriftAlert(
                what="feature amount psi",
                severity=AlertSeverity.WARNING,
                value=0.31,
                threshold=0.25,
            )
        ],
    )


def model_control() -> ModelControl:
    return ModelControl(
        plan_version=7,
        previous_plan_version=6,
        champion=DeployedPackage(model=champion(), location="registry/hgb-fraud/1.3.0"),
        shadows=[],
        canary=CanaryDeployment(
            model=shadow(), location="registry/hgb-fraud/1.4.0-rc1", traffic_share=0.05
        ),
        changed_by="alice@example.com",
        changed_at=DECIDED_AT,
        reason="Canary 1.4.0-rc1 at 5% after offline evaluation run 2026-11-01",
        approvals=[
            Approval(approver="bob@example.com", role="risk-approver", approved_at=DECIDED_AT)
        ],
    )


def dead_letter_replay() -> DeadLetterReplay:
    letter = dead_letter()
    return DeadLetterReplay(
        dead_letter_id=letter.dead_letter_id,
        category=letter.category,
        source=letter.source,
        replayed_to=KafkaSource(topic=TOPIC, partition=3, offset=2051, key=letter.source.key),
        replayed_at=DECIDED_AT + timedelta(hours=2),
        replayed_by="alice@example.com",
        forced=False,
    )


def outcome_audit() -> OutcomeAudit:
    ranges = [
        OffsetRange(partition=0, start=1000, end=1500),
        OffsetRange(partition=3, start=1040, end=1520),
    ]
    return OutcomeAudit(
        audit_id=outcome_audit_id_for(TOPIC, ranges),
        input_topic=TOPIC,
        ranges=ranges,
        first_input_at=EVENT_TIME,
        last_input_at=EVENT_TIME + timedelta(seconds=10),
        checked_at=EVENT_TIME + timedelta(seconds=75),
        inputs=979,
        decided=970,
        dead_lettered=8,
        lost=1,
        redriven=2,
        redrive_copies=2,
        duplicate_decisions=1,
        conflicting_decisions=0,
        lost_inputs=[LostInput(partition=3, offset=1043, transaction_id="tx-000002", redrives=2)],
        grace_s=60.0,
        audited_by="audit-fraudstream-audit",
    )
