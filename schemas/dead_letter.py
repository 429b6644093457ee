"""A record that could not be accepted (topic fraud.transactions.dlq.v1, key = the original key).

"Errors are data": the stream edge turns every rejected input into one of these instead of
raising. It keeps the original bytes untouched (JSON: base64url), where they came from, a
category an operator can count and alert on, and a detail that names the fields, what was wrong
and what was expected. Its id is derived from the source coordinates, so re-processing the same
input after a crash yields the same id.
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from pydantic import Field

from schemas.base import Part, Record
from schemas.categories import ErrorCategory
from schemas.primitives import ActorId, IsoTimestamp, SchemaVersion

DEAD_LETTER_SCHEMA_VERSION = 1

DEAD_LETTER_ID_NAMESPACE = uuid.UUID("599bbc59-aa01-5c79-a3a4-32f49b480183")
"""Fixed for ever (it was uuid5(NAMESPACE_URL, "urn:fraudstream:dead-letter"))."""

MAX_DETAIL_CHARS = 4000


def dead_letter_id_for(topic: str, partition: int, offset: int) -> str:
    """The dead-letter id of the record at these coordinates (UUID5 under the project namespace)."""
    return str(uuid.uuid5(DEAD_LETTER_ID_NAMESPACE, f"{topic}/{partition}/{offset}"))


class KafkaSource(Part):
    """Where a record was read. -1 / null mean the client did not know (e.g. a test harness)."""

    topic: str = Field(max_length=249, description="Topic name")
    partition: int = Field(description="Partition number")
    offset: int = Field(description="Offset within the partition")
    key: bytes | None = Field(
        default=None, description="The record key, untouched (JSON: base64url); null if none"
    )
    timestamp_ms: int | None = Field(
        default=None, description="The Kafka record timestamp, ms since the Unix epoch"
    )


class DeadLetter(Record):
    SCHEMA_VERSION: ClassVar[int] = DEAD_LETTER_SCHEMA_VERSION

    schema_version: SchemaVersion = Field(
        default=DEAD_LETTER_SCHEMA_VERSION, description="Version of this record contract"
    )
    dead_letter_id: str = Field(description="UUID5 of the source coordinates")
    record_type: str = Field(
        max_length=64, description="The contract the bytes were read as, e.g. Transaction"
    )
    category: ErrorCategory = Field(description="What kind of problem; the first one found")
    field: str | None = Field(
        default=None,
        max_length=200,
        description="Path of the first offending field (e.g. amount, timings.scoring_us)",
    )
    detail: str = Field(
        max_length=MAX_DETAIL_CHARS,
        description="Every problem found: field, what was wrong, what was expected",
    )
    value: bytes | None = Field(
        description="The original record value, byte for byte (JSON: base64url); null if none"
    )
    source: KafkaSource
    dead_lettered_at: IsoTimestamp = Field(description="When it was dead-lettered")
    dead_lettered_by: ActorId = Field(description="Worker id of the process that rejected it")
