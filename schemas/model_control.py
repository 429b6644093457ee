"""The live deployment plan (topic fraud.model-control.v1, compacted, one fixed key).

The newest record is the plan every worker applies live: which verified package is champion,
which are shadows, and which is the canary with what share of traffic. Plans are numbered;
a worker ignores a plan whose number is not higher than the one it runs.

Unlike the other records, unknown fields are *forbidden*: a worker must not apply a plan it only
half understands (a newer plan also carries a newer schema_version, which the codec refuses).
"""

from __future__ import annotations

from typing import ClassVar, Self

from pydantic import ConfigDict, Field, model_validator

from schemas.base import ModelRef, Part, Record
from schemas.primitives import ActorId, IsoTimestamp, Probability, SchemaVersion

MODEL_CONTROL_SCHEMA_VERSION = 1


class DeployedPackage(Part):
    model_config = ConfigDict(extra="forbid")

    model: ModelRef
    location: str = Field(
        min_length=1,
        max_length=1024,
        description="Where the package is stored (registry path or URI); loaded only if verified",
    )


class CanaryDeployment(DeployedPackage):
    traffic_share: Probability = Field(
        description="Share of events (by a stable hash of card_id) the canary decides"
    )


class Approval(Part):
    model_config = ConfigDict(extra="forbid")

    approver: ActorId
    role: str = Field(
        pattern=r"^[a-z][a-z0-9_-]{0,63}$", description="The approver's governance role"
    )
    approved_at: IsoTimestamp


class ModelControl(Record):
    model_config = ConfigDict(extra="forbid")

    SCHEMA_VERSION: ClassVar[int] = MODEL_CONTROL_SCHEMA_VERSION

    schema_version: SchemaVersion = Field(
        default=MODEL_CONTROL_SCHEMA_VERSION, description="Version of this record contract"
    )
    plan_version: int = Field(ge=1, description="Monotonic plan number")
    previous_plan_version: int | None = Field(
        ge=1, description="The plan this one replaces; null only for the first plan"
    )
    champion: DeployedPackage
    shadows: list[DeployedPackage] = Field(max_length=8)
    canary: CanaryDeployment | None
    changed_by: ActorId = Field(description="Who made the change")
    changed_at: IsoTimestamp
    reason: str = Field(min_length=1, max_length=1000, description="Why the plan changed")
    approvals: list[Approval] = Field(description="Who signed the change off")

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.previous_plan_version is None and self.plan_version != 1:
            raise ValueError("only plan 1 may have no previous plan")
        if self.previous_plan_version is not None and (
            self.previous_plan_version >= self.plan_version
        ):
            raise ValueError("previous_plan_version must be lower than plan_version")
        packages = [self.champion, *self.shadows, *([self.canary] if self.canary else [])]
        hashes = [p.model.content_hash for p in packages]
        if len(set(hashes)) != len(hashes):
            raise ValueError("a package may hold only one role in a plan")
        return self
