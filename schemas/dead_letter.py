"""A record that could not be accepted (topic fraud.transactions.dlq.v1, key = the original key).

"Errors are data": the stream edge turns every rejected input into one of these instead of
raising. It keeps the original bytes untouched (JSON: base64url), where they came from, a
category an operator can count and alert on, and a detail that names the fields, what was wrong
and what was expected. Its id is derived from the source coordinates, so re-processing the same
input after a crash yields the same id.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Annotated, ClassVar, NamedTuple

from pydantic import Field, WithJsonSchema

from schemas.base import Part, Record
from schemas.categories import ErrorCategory
from schemas.primitives import ActorId, IsoTimestamp, SchemaVersion, Sha256Hex

DEAD_LETTER_SCHEMA_VERSION = 1

DEAD_LETTER_ID_NAMESPACE = uuid.UUID("599bbc59-aa01-5c79-a3a4-32f49b480183")
"""Fixed for ever (it was uuid5(NAMESPACE_URL, "urn:fraudstream:dead-letter"))."""

MAX_DETAIL_CHARS = 4000
MAX_FIELD_CHARS = 200
MAX_TOPIC_CHARS = 249  # Kafka's own limit on a topic name
MAX_KEY_BYTES = 1024
"""A record key is carried whole up to this size. Kafka allows keys up to the message size (1 MB
and more), and a dead letter also keeps a value of up to 1 MB: a longer key is cut to this many
bytes and identified by its sha256 and length instead (a card id is at most 64 characters, so such
a key was never a valid one)."""

_MAX_KEY_BASE64_CHARS = 4 * -(-MAX_KEY_BYTES // 3)  # padded base64 of MAX_KEY_BYTES bytes

BoundedKey = Annotated[
    bytes,
    Field(max_length=MAX_KEY_BYTES),
    # pydantic would export the byte limit as the string's maxLength; on the wire it is base64.
    WithJsonSchema({"type": "string", "format": "base64url", "maxLength": _MAX_KEY_BASE64_CHARS}),
]


def dead_letter_id_for(topic: str, partition: int, offset: int) -> str:
    """The dead-letter id of the record at these coordinates (UUID5 under the project namespace)."""
    return str(uuid.uuid5(DEAD_LETTER_ID_NAMESPACE, f"{topic}/{partition}/{offset}"))


class KafkaSource(Part):
    """Where a record was read. -1 / null mean the client did not know (e.g. a test harness)."""

    topic: str = Field(max_length=MAX_TOPIC_CHARS, description="Topic name")
    partition: int = Field(description="Partition number")
    offset: int = Field(description="Offset within the partition")
    key: BoundedKey | None = Field(
        default=None,
        description=f"The record key, untouched (JSON: base64url); null if none. A key longer "
        f"than {MAX_KEY_BYTES} bytes is cut to its first {MAX_KEY_BYTES} (see key_length)",
    )
    timestamp_ms: int | None = Field(
        default=None, description="The Kafka record timestamp, ms since the Unix epoch"
    )
    key_length: int | None = Field(
        default=None,
        ge=0,
        description="Length in bytes of the whole key, only when `key` holds just its start; "
        "null when `key` is the whole key",
    )
    key_sha256: Sha256Hex | None = Field(
        default=None, description="sha256 (hex) of the whole key, only when `key` was cut"
    )

    @property
    def key_is_whole(self) -> bool:
        """False when `key` holds only the first MAX_KEY_BYTES bytes of the record's key."""
        return self.key_length is None


class KeyForm(NamedTuple):
    """A record key as a KafkaSource carries it: whole, or its start plus digest and length."""

    key: bytes | None
    key_length: int | None = None
    key_sha256: str | None = None


def bounded_key(key: bytes | None) -> KeyForm:
    """The key in the form a KafkaSource can carry (whole when it fits)."""
    if key is None or len(key) <= MAX_KEY_BYTES:
        return KeyForm(key)
    return KeyForm(key[:MAX_KEY_BYTES], len(key), hashlib.sha256(key).hexdigest())


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
        max_length=MAX_FIELD_CHARS,
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
