"""A delayed fraud label (topic fraud.labels.v1, key = card_id).

Confirmations and chargebacks arrive days or weeks after the transaction; the drift monitor
joins them to logged scores for live precision and recall. A later label for the same
transaction supersedes an earlier one (e.g. a customer report later cleared).
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar, Self

from pydantic import Field, model_validator

from schemas.base import Record
from schemas.primitives import Identifier, IsoTimestamp, SchemaVersion

LABEL_SCHEMA_VERSION = 1


class LabelSource(StrEnum):
    CHARGEBACK = "chargeback"  # the issuer's chargeback process (fraud or not, per is_fraud)
    CONFIRMED_FRAUD = "confirmed_fraud"  # an investigation confirmed fraud
    CUSTOMER_REPORT = "customer_report"  # the cardholder reported it
    CLEARED = "cleared"  # investigated and found legitimate


class FraudLabel(Record):
    SCHEMA_VERSION: ClassVar[int] = LABEL_SCHEMA_VERSION

    schema_version: SchemaVersion = Field(
        default=LABEL_SCHEMA_VERSION, description="Version of this record contract"
    )
    transaction_id: Identifier = Field(description="The labelled transaction")
    card_id: Identifier = Field(description="Its card; the Kafka key")
    is_fraud: bool = Field(strict=True, description="The label")
    label_source: LabelSource = Field(description="Where the label comes from")
    labelled_at: IsoTimestamp = Field(description="When the label became known")
    event_time: IsoTimestamp | None = Field(
        default=None, description="The transaction's event_time, when the source knows it"
    )

    @model_validator(mode="after")
    def _source_agrees(self) -> Self:
        if self.label_source is LabelSource.CLEARED and self.is_fraud:
            raise ValueError("a cleared transaction cannot be labelled fraud")
        if self.label_source is LabelSource.CONFIRMED_FRAUD and not self.is_fraud:
            raise ValueError("confirmed_fraud must be labelled fraud")
        return self
