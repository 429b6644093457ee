"""Stage 1, partitioned like the input (key = card_id): validate, card features, hand over.

Every input record leaves this stage as exactly one thing: a dead letter, or a record for the
merchant stage (which publishes the decision). The card state is updated per event, as Faust
requires; a transaction the state has already applied (a replay after a crash, or a re-drive)
leaves it unchanged (the unchanged state is still written, see `handle`) and is handed
over with the features it had the first time.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from models.features import CardState, card_step, facts_from_transaction
from schemas import (
    DeadLetter,
    DecodeLimits,
    Decoder,
    SourceCoords,
    Transaction,
    encode_dead_letter,
    transaction_decoder,
)
from schemas.categories import ErrorCategory
from schemas.rejection import Rejection
from stream import internal
from stream.metrics import StreamMetrics
from stream.output import OutputProducer
from stream.settings import Settings
from stream.state_table import StateTable


def card_stage_decoder(settings: Settings, actor: str) -> Decoder[Transaction]:
    """The input codec with the limits from settings (the worker's, and a replay's check)."""
    limits = DecodeLimits(
        max_bytes=settings.max_event_bytes,
        max_future_skew=timedelta(seconds=settings.max_future_skew_s),
    )
    return transaction_decoder(actor, limits)


def key_rejection(key: bytes | None, card_id: str) -> Rejection | None:
    """The card stage's rule: the record key is the card id.

    Per-card state lives in the partition the key chose; another key would split it.
    """
    if key == card_id.encode():
        return None
    return Rejection(
        ErrorCategory.KEY_MISMATCH,
        f"the record key must be the card_id {card_id!r}; got {key!r}",
        "card_id",
    )


class CardStage:
    def __init__(
        self,
        settings: Settings,
        table: StateTable,
        output: OutputProducer,
        decoder: Decoder[Transaction],
        metrics: StreamMetrics,
    ) -> None:
        self._input_topic = settings.topics.transactions
        self._handover_topic = settings.topics.by_merchant
        self._dead_letter_topic = settings.topics.dead_letters
        self._table = table
        self._output = output
        self._decoder = decoder
        self._metrics = metrics
        self._events_in = metrics.events_in.labels("card")
        self._replays = metrics.replays.labels("card")

    def handle(
        self,
        value: bytes | None,
        key: bytes | None,
        partition: int,
        offset: int,
        timestamp_ms: int,
        now: datetime,
    ) -> None:
        self._events_in.inc()
        source = SourceCoords(self._input_topic, partition, offset, key, timestamp_ms)
        decoded = self._decoder.decode(value, source, now=now)
        if isinstance(decoded, DeadLetter):
            self._dead_letter(decoded)
            return
        card_key = decoded.card_id.encode()
        rejection = key_rejection(key, decoded.card_id)
        if rejection is not None:
            self._dead_letter(self._decoder.dead_letter(value, source, rejection, now=now))
            return
        assert value is not None  # a decoded record had bytes
        blob = self._table.get(card_key)
        state = CardState.decode(blob) if blob is not None else CardState.empty()
        step = card_step(state, facts_from_transaction(decoded), offset)
        if step.duplicate:
            self._replays.inc()
        # Written on a replay too: the local RocksDB store can hold an update whose changelog
        # record died with a killed worker; re-sending the state is what brings the changelog
        # (and every worker that later restores from it) back in line.
        self._table.set(card_key, step.state.encode())
        handover = internal.CardStageOutput(
            origin_partition=partition,
            origin_offset=step.origin_offset,
            source_offset=offset,
            source_timestamp_ms=timestamp_ms,
            card_replayed=step.duplicate,
            card_features=step.features,
            key=card_key,
            raw=value,
        )
        self._output.send(
            self._handover_topic, decoded.merchant_id.encode(), internal.encode(handover)
        )

    def _dead_letter(self, dead_letter: DeadLetter) -> None:
        self._metrics.invalid.labels(dead_letter.category.value).inc()
        self._output.send(
            self._dead_letter_topic, dead_letter.source.key, encode_dead_letter(dead_letter)
        )
