"""The edge of the decision path: input bytes → a valid Transaction, or a dead letter.

Shared with the dead-letter tools, which re-check a letter by the same rules before replaying.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from schemas import (
    DeadLetter,
    DecodeLimits,
    Decoder,
    SourceCoords,
    Transaction,
    transaction_decoder,
)
from schemas.categories import ErrorCategory
from schemas.rejection import Rejection, shown_key
from stream.settings import Settings


def input_decoder(settings: Settings, actor: str) -> Decoder[Transaction]:
    """The input codec with the limits from settings (the worker's, and a replay's check)."""
    limits = DecodeLimits(
        max_bytes=settings.max_event_bytes,
        max_future_skew=timedelta(seconds=settings.max_future_skew_s),
        max_past_age=timedelta(seconds=settings.max_event_age_s),
    )
    return transaction_decoder(actor, limits)


def admit(
    decoder: Decoder[Transaction], value: bytes | None, source: SourceCoords, now: datetime
) -> Transaction | DeadLetter:
    """One input record's verdict at the edge: the transaction, or its dead letter. Never raises;
    a pure function of the record, its coordinates and `now`."""
    decoded = decoder.decode(value, source, now=now)
    if isinstance(decoded, DeadLetter):
        return decoded
    rejection = key_rejection(source.key, decoded.card_id)
    if rejection is not None:
        return decoder.dead_letter(value, source, rejection, now=now)
    return decoded


def key_rejection(key: bytes | None, card_id: str) -> Rejection | None:
    """The record key must be the card id.

    Per-card state lives in the partition the key chose; another key would split it.
    """
    if key == card_id.encode():
        return None
    return Rejection(
        ErrorCategory.KEY_MISMATCH,
        f"the record key must be the card_id {card_id!r}; got {shown_key(key)}",
        "card_id",
    )
