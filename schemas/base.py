"""Base classes of the record contracts, and the reference to a model package they all share.

Every record that travels on a topic is a `Record`: frozen, carries `schema_version`, and reads
tolerantly: unknown fields are ignored, so a producer may add a field (and bump the version)
before every consumer has upgraded. A record that must not be half-understood (the live deployment
plan) overrides this and forbids unknown fields. Parts of records (`Part`) follow the same rules.
See `schemas.versions` for how older and newer versions are handled.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from schemas.primitives import PackageName, SchemaVersion, Sha256Hex, VersionLabel


class Part(BaseModel):
    """A structured field of a record."""

    model_config = ConfigDict(
        extra="ignore",
        frozen=True,
        # Raw Kafka bytes travel as base64url (RFC 4648 §5, padded); both alphabets are read.
        ser_json_bytes="base64",
        val_json_bytes="base64",
    )


class Record(Part):
    """A record on a topic: the unit the codec decodes, versions and exports as JSON Schema."""

    SCHEMA_VERSION: ClassVar[int]
    """The newest version of this contract the code reads and the version it writes."""

    schema_version: SchemaVersion = Field(description="Version of this record contract")


class DeploymentRole(StrEnum):
    CHAMPION = "champion"  # decides every event not routed to the canary
    CANARY = "canary"  # decides a configured share of events
    SHADOW = "shadow"  # scores every event, never decides; logged for comparison


class ModelRef(Part):
    """Names one model package exactly: a decision can be traced back to these bytes."""

    name: PackageName = Field(description="Package name, as in its manifest")
    version: VersionLabel = Field(description="Package version, as in its manifest")
    content_hash: Sha256Hex = Field(
        description="sha256 (hex) over the package's file hashes: identifies the model bytes"
    )
