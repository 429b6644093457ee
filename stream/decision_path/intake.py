"""The edge of the decision path: input bytes → a valid Transaction, or a dead letter's reason.

Shared with the dead-letter tools, which re-check a letter by the same rules before replaying.
"""

from __future__ import annotations

from datetime import timedelta

from schemas import DecodeLimits, Decoder, Transaction, transaction_decoder
from schemas.categories import ErrorCategory
from schemas.rejection import Rejection
from stream.settings import Settings


def input_decoder(settings: Settings, actor: str) -> Decoder[Transaction]:
    """The input codec with the limits from settings (the worker's, and a replay's check)."""
    limits = DecodeLimits(
        max_bytes=settings.max_event_bytes,
        max_future_skew=timedelta(seconds=settings.max_future_skew_s),
    )
    return transaction_decoder(actor, limits)


def key_rejection(key: bytes | None, card_id: str) -> Rejection | None:
    """The record key must be the card id.

    Per-card state lives in the partition the key chose; another key would split it.
    """
    if key == card_id.encode():
        return None
    return Rejection(
        ErrorCategory.KEY_MISMATCH,
        f"the record key must be the card_id {card_id!r}; got {key!r}",
        "card_id",
    )
