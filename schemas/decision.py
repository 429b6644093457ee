"""The fraud decision (topic fraud.decisions.v1, key = card_id): what downstream acts on.

Exactly one decision per accepted transaction. Its id is derived from the transaction id
(`decision_id_for`), so a decision re-emitted after a crash or a replay has the same id and
consumers can drop the duplicate.
"""

from __future__ import annotations

import hashlib
import uuid
from enum import StrEnum
from typing import ClassVar, Literal, Self

from pydantic import Field, model_validator

from schemas.base import DeploymentRole, ModelRef, Part, Record
from schemas.primitives import (
    Finite,
    Identifier,
    IsoTimestamp,
    NonNegative,
    Probability,
    ReasonCode,
    SchemaVersion,
    VersionLabel,
)

DECISION_SCHEMA_VERSION = 1

DECISION_ID_NAMESPACE = uuid.UUID("46cc9b62-2958-590c-87a3-abc9046a2844")
"""Fixed for ever (it was uuid5(NAMESPACE_URL, "urn:fraudstream:decision")): changing it would
change every decision id, and downstream de-duplication with it."""


_NAMESPACE_BYTES = DECISION_ID_NAMESPACE.bytes


def decision_id_for(transaction_id: str) -> str:
    """The decision id of a transaction: UUID5 of its id under the project namespace.

    Computed as RFC 4122 section 4.3 says (SHA-1 of namespace + name, version and variant bits
    set), without building UUID objects: it runs once per decision on the hot path. Equal to
    `str(uuid.uuid5(DECISION_ID_NAMESPACE, transaction_id))` (tested).
    """
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + transaction_id.encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    text = digest.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


class Outcome(StrEnum):
    APPROVE = "APPROVE"
    REVIEW = "REVIEW"  # step-up authentication or the manual review queue
    DECLINE = "DECLINE"


class FallbackReason(StrEnum):
    """Why the decision did not come from the model's score in the normal way."""

    MODEL_UNAVAILABLE = "model_unavailable"  # no verified package loaded (yet)
    LATENCY_BUDGET_EXCEEDED = "latency_budget_exceeded"  # the score would have come too late
    MODEL_ERROR = "model_error"  # the model call raised
    INVALID_SCORE = "invalid_score"  # the model returned NaN or a value outside [0, 1]
    STATE_UNAVAILABLE = "state_unavailable"  # per-card features could not be read


DecidingRole = Literal[DeploymentRole.CHAMPION, DeploymentRole.CANARY]


class DecisionTimings(Part):
    event_to_decision_ms: Finite = Field(
        description=(
            "Milliseconds from the transaction's event_time to decided_at; producer and worker "
            "clocks differ, so it can be slightly negative"
        )
    )
    arrival_to_decision_ms: NonNegative = Field(
        description="Milliseconds from the worker receiving the record to decided_at"
    )
    scoring_us: NonNegative = Field(
        description=(
            "Microseconds of the model call that scored this event (the whole micro-batch call "
            "it was part of); 0 when no model was called"
        )
    )


class Decision(Record):
    SCHEMA_VERSION: ClassVar[int] = DECISION_SCHEMA_VERSION

    schema_version: SchemaVersion = Field(
        default=DECISION_SCHEMA_VERSION, description="Version of this record contract"
    )
    decision_id: str = Field(
        pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$",
        description="UUID5 of transaction_id under the project namespace (see decision_id_for)",
    )
    transaction_id: Identifier = Field(description="The transaction decided on")
    card_id: Identifier = Field(description="Tokenised card id; the Kafka key")
    merchant_id: Identifier = Field(description="Merchant (acceptor) id")
    outcome: Outcome = Field(description="What downstream should do")
    score: Probability | None = Field(
        description="Fraud probability from the deciding model; null when no model answered"
    )
    reason_codes: list[ReasonCode] = Field(
        max_length=32,
        description="Why, most important first (e.g. HIGH_SCORE, AMOUNT_SPIKE); may be empty",
    )
    model: ModelRef | None = Field(
        description="The package that decided; null only when no package was loaded"
    )
    role: DecidingRole = Field(description="Whether the champion or the canary decided")
    feature_set_version: VersionLabel = Field(description="Version of the feature definitions")
    fallback: bool = Field(description="True when the fallback policy decided, not the score")
    fallback_reason: FallbackReason | None = Field(
        default=None, description="Why the fallback decided; null unless fallback"
    )
    event_time: IsoTimestamp = Field(description="The transaction's event_time")
    decided_at: IsoTimestamp = Field(description="When the worker decided")
    timings: DecisionTimings

    @model_validator(mode="after")
    def _fallback_is_explained(self) -> Self:
        if self.fallback != (self.fallback_reason is not None):
            raise ValueError("fallback_reason must be set exactly when fallback is true")
        if self.score is None and not self.fallback:
            raise ValueError("a decision without a score must be a fallback")
        if self.model is None and self.fallback_reason is not FallbackReason.MODEL_UNAVAILABLE:
            raise ValueError("model may be null only when the fallback reason is model_unavailable")
        return self
