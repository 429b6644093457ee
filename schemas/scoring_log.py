"""The input/output log (topic fraud.scoring-log.v1, key = card_id): one per decision.

Everything needed to audit or replay a decision without the stream: the validated input and
the sha256 of its raw bytes, where it was read, the full feature vector and exactly which
merchant partials it was computed from, every model's output (champion, canary, shadows), the
input expectations it broke, the fallback, and the timings of each step.

Version 2 added `merchant_view` and `milestones`; a version-1 record reads with both null.
"""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Annotated, ClassVar, Self

from pydantic import BeforeValidator, Field, model_validator

from schemas.base import DeploymentRole, ModelRef, Part, Record
from schemas.dead_letter import KafkaSource
from schemas.decision import DecidingRole, DecisionTimings, FallbackReason, Outcome
from schemas.primitives import (
    FeatureName,
    Finite,
    Identifier,
    IsoTimestamp,
    NonNegative,
    Probability,
    ReasonCode,
    SchemaVersion,
    Sha256Hex,
    VersionLabel,
)
from schemas.transaction import Transaction
from schemas.versions import UpgradeRegistry

SCORING_LOG_SCHEMA_VERSION = 2


def _nan_is_missing(features: object) -> object:
    # Feature code marks a missing value with NaN (what the model reads); JSON has no NaN, so
    # the log writes null. One pass over the mapping, not a Python call per value.
    if isinstance(features, dict):
        return {
            name: None if isinstance(value, float) and math.isnan(value) else value
            for name, value in features.items()
        }
    return features


FeatureVector = Annotated[dict[FeatureName, Finite | None], BeforeValidator(_nan_is_missing)]


class ModelOutput(Part):
    """What one deployed model said about the event (deciding or not)."""

    role: DeploymentRole = Field(description="The model's role in the live deployment plan")
    model: ModelRef
    score: Probability | None = Field(description="Fraud probability; null when it failed")
    outcome: Outcome | None = Field(
        description="What this model's thresholds would decide; null when it failed"
    )
    latency_us: NonNegative | None = Field(
        description="Microseconds of the model call it was part of; null if never called"
    )
    error: str | None = Field(
        default=None, max_length=500, description="Why it produced no score; null on success"
    )

    @model_validator(mode="after")
    def _score_or_error(self) -> Self:
        if (self.score is None) == (self.error is None):
            raise ValueError("exactly one of score and error must be set")
        return self


class ExpectationKind(StrEnum):
    """Which expectation from the training data profile an input feature broke."""

    ABOVE_MAX = "above_max"  # above the largest value seen in training
    BELOW_MIN = "below_min"  # below the smallest value seen in training
    UNSEEN_CATEGORY = "unseen_category"  # a category training never saw
    MISSING = "missing"  # missing where training never had it missing
    NOT_FINITE = "not_finite"  # NaN/Infinity where a finite number was expected


class ExpectationViolation(Part):
    feature: FeatureName = Field(description="Feature (or input field) name")
    kind: ExpectationKind
    observed: Finite | str | None = Field(description="The live value; null when missing")
    detail: str = Field(
        max_length=300, description="What was expected, e.g. 'max seen in training: 25000.0'"
    )


class MerchantPartialSeen(Part):
    """One input partition's share of the merchant features a decision saw."""

    partition: int = Field(ge=0, description="Input partition the partial aggregates")
    offset: int = Field(
        ge=0,
        description="Last input offset of that partition applied to the merchant's partial: "
        "the partial held every accepted transaction of the merchant up to it",
    )


class Milestones(Part):
    """Milliseconds from the input record's Kafka timestamp (`source.timestamp_ms`) to each step.

    With producer-set (CreateTime) timestamps, clock differences between the producer and the
    worker shift every value alike, so they can be negative.
    """

    received: Finite = Field(description="The agent took the record from its stream")
    enriched: Finite = Field(description="Validated, card and merchant state read and written")
    batch_started: Finite = Field(description="Its micro-batch started scoring")
    scored: Finite = Field(
        description="The model call of its batch returned; the decision follows at once "
        "(decided_at, timings.arrival_to_decision_ms)"
    )


class ScoringLogRecord(Record):
    SCHEMA_VERSION: ClassVar[int] = SCORING_LOG_SCHEMA_VERSION

    schema_version: SchemaVersion = Field(
        default=SCORING_LOG_SCHEMA_VERSION, description="Version of this record contract"
    )
    decision_id: str = Field(description="The decision this log entry belongs to")
    transaction_id: Identifier
    card_id: Identifier
    merchant_id: Identifier
    transaction: Transaction = Field(description="The validated input record")
    raw_sha256: Sha256Hex = Field(description="sha256 (hex) of the input record's raw bytes")
    source: KafkaSource = Field(description="Where the input record was read")
    feature_set_version: VersionLabel = Field(description="Version of the feature definitions")
    features: FeatureVector = Field(
        description="The full feature vector the models read, name → value; null = missing"
    )
    merchant_view: list[MerchantPartialSeen] | None = Field(
        default=None,
        max_length=10_000,
        description="The merchant partials the merchant features summed, by input partition "
        "(empty: the merchant had no earlier transactions); null in version-1 records",
    )
    outputs: list[ModelOutput] = Field(
        description="Every model's output: the deciding one and every shadow"
    )
    deciding_role: DecidingRole = Field(description="Which role's output decided")
    outcome: Outcome = Field(description="The decision's outcome (after rules and fallback)")
    reason_codes: list[ReasonCode] = Field(max_length=32, description="As on the decision")
    violations: list[ExpectationViolation] = Field(
        description="Input expectations the features broke (logged, never blocking)"
    )
    fallback: bool = Field(description="True when the fallback policy decided")
    fallback_reason: FallbackReason | None = Field(
        default=None, description="Why; null unless fallback"
    )
    decided_at: IsoTimestamp = Field(description="When the worker decided")
    timings: DecisionTimings
    milestones: Milestones | None = Field(
        default=None,
        description="When each step of the decision happened; null in version-1 records",
    )
    decided_online: bool = Field(
        default=False,
        description="True when POST /v1/score decided it at request time and the stream "
        "emitted that decision as carried by the input record (no second model call); "
        "`milestones` then count from the request's arrival, not from `source.timestamp_ms`",
    )

    @model_validator(mode="after")
    def _fallback_is_explained(self) -> Self:
        if self.fallback != (self.fallback_reason is not None):
            raise ValueError("fallback_reason must be set exactly when fallback is true")
        return self


SCORING_LOG_UPGRADES = UpgradeRegistry("ScoringLogRecord", SCORING_LOG_SCHEMA_VERSION)


@SCORING_LOG_UPGRADES.register(1)
def _v1_to_v2(old: dict[str, object]) -> dict[str, object]:
    # Version 1 did not record what the merchant features were computed from, nor milestones.
    old.setdefault("merchant_view", None)
    old.setdefault("milestones", None)
    return old
