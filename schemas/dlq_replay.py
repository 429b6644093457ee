"""The dead-letter replay ledger (topic fraud.transactions.dlq-replays.v1, compacted,
key = dead_letter_id).

One record per dead letter that was replayed to the input topic: a replay tool reads the ledger
first and refuses to replay a dead letter twice. Compaction keeps the newest record per id, and
the topic outlives any one operator's machine.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from schemas.base import Record
from schemas.categories import ErrorCategory
from schemas.dead_letter import KafkaSource
from schemas.primitives import ActorId, IsoTimestamp, SchemaVersion

DEAD_LETTER_REPLAY_SCHEMA_VERSION = 1


class DeadLetterReplay(Record):
    SCHEMA_VERSION: ClassVar[int] = DEAD_LETTER_REPLAY_SCHEMA_VERSION

    schema_version: SchemaVersion = Field(
        default=DEAD_LETTER_REPLAY_SCHEMA_VERSION, description="Version of this record contract"
    )
    dead_letter_id: str = Field(description="The dead letter replayed")
    category: ErrorCategory = Field(description="Why it had been dead-lettered")
    source: KafkaSource = Field(description="Where the original input was")
    replayed_to: KafkaSource = Field(description="Where its copy was produced")
    replayed_at: IsoTimestamp
    replayed_by: ActorId = Field(description="Who replayed it")
    forced: bool = Field(
        description="Replayed although the current codec still rejects it (--force)"
    )
