"""The outcome audit (topic fraud.outcome-audit.v1, key = the input topic name).

One record per checked window of the input topic: contiguous offset ranges, one per partition,
in which every input was matched to its final outcome (a decision or a dead letter) or, after
the grace period and every re-drive, reported lost. The counts add up:
`decided + dead_lettered + lost == inputs`. Re-drive copies the audit produced itself are
inputs of the ranges too, but they are counted apart (`redrive_copies`): the original input
they stand for carries the outcome.

`audit_id` is derived from the ranges, so a window re-published after an audit crash has the
same id and readers can drop the repeat.
"""

from __future__ import annotations

import uuid
from typing import ClassVar, Self

from pydantic import Field, model_validator

from schemas.base import Part, Record
from schemas.primitives import ActorId, Count, IsoTimestamp, NonNegative, SchemaVersion

OUTCOME_AUDIT_SCHEMA_VERSION = 1

OUTCOME_AUDIT_ID_NAMESPACE = uuid.UUID("b1c3fc98-5f5a-5bf0-bdeb-798792eb5a34")
"""Fixed for ever (it was uuid5(NAMESPACE_URL, "urn:fraudstream:outcome-audit")): re-published
windows must keep their ids."""

MAX_LOST_LISTED = 1000
"""Lost inputs named in one record; `lost` counts all of them."""


class OffsetRange(Part):
    partition: int = Field(ge=0)
    start: int = Field(ge=0, description="First input offset checked (inclusive)")
    end: int = Field(ge=0, description="Offset after the last input checked (exclusive)")

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end <= self.start:
            raise ValueError("an offset range must hold at least one offset")
        return self


class LostInput(Part):
    partition: int = Field(ge=0)
    offset: int = Field(ge=0)
    transaction_id: str | None = Field(
        default=None, max_length=64, description="Read from the input bytes, when they hold one"
    )
    redrives: Count = Field(description="Re-drives tried before it was reported lost")


def outcome_audit_id_for(input_topic: str, ranges: list[OffsetRange]) -> str:
    """The id of the audit of these ranges (UUID5 under the project namespace)."""
    spans = ",".join(f"{r.partition}:{r.start}-{r.end}" for r in sorted(ranges, key=_by_partition))
    return str(uuid.uuid5(OUTCOME_AUDIT_ID_NAMESPACE, f"{input_topic}|{spans}"))


def _by_partition(offset_range: OffsetRange) -> int:
    return offset_range.partition


class OutcomeAudit(Record):
    SCHEMA_VERSION: ClassVar[int] = OUTCOME_AUDIT_SCHEMA_VERSION

    schema_version: SchemaVersion = Field(
        default=OUTCOME_AUDIT_SCHEMA_VERSION, description="Version of this record contract"
    )
    audit_id: str = Field(description="UUID5 of the input topic and the ranges checked")
    input_topic: str = Field(max_length=249)
    ranges: list[OffsetRange] = Field(min_length=1, description="What was checked, per partition")
    first_input_at: IsoTimestamp = Field(description="Earliest Kafka timestamp of those inputs")
    last_input_at: IsoTimestamp = Field(description="Latest Kafka timestamp of those inputs")
    checked_at: IsoTimestamp = Field(description="When the last input of the window was settled")
    inputs: Count = Field(description="Inputs checked, re-drive copies not included")
    decided: Count = Field(description="Inputs whose outcome is a decision")
    dead_lettered: Count = Field(description="Inputs whose outcome is a dead letter")
    lost: Count = Field(description="Inputs without an outcome after the grace and every re-drive")
    redriven: Count = Field(description="Inputs re-driven at least once (lost ones included)")
    redrive_copies: Count = Field(description="Re-drive copies read within the ranges")
    duplicate_decisions: Count = Field(
        description="Decision records repeating a decision id already seen for these inputs"
    )
    conflicting_decisions: Count = Field(
        description="Decisions giving one of these transactions a second, different decision id"
    )
    lost_inputs: list[LostInput] = Field(
        max_length=MAX_LOST_LISTED, description="The lost inputs (the first ones, if many)"
    )
    grace_s: NonNegative = Field(description="How long an input may wait for its outcome")
    audited_by: ActorId

    @model_validator(mode="after")
    def _adds_up(self) -> Self:
        if self.decided + self.dead_lettered + self.lost != self.inputs:
            raise ValueError("decided + dead_lettered + lost must equal inputs")
        if len(self.lost_inputs) > self.lost:
            raise ValueError("more lost inputs listed than counted")
        if self.last_input_at < self.first_input_at:
            raise ValueError("last_input_at is before first_input_at")
        return self
