"""The few facts of a transaction that features read, in exact integer units."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from hashlib import blake2b
from typing import NamedTuple

from schemas.transaction import Transaction

CHANNELS = ("POS", "ECOM", "ATM", "MOTO")
ENTRY_MODES = ("CHIP", "CONTACTLESS", "MAGSTRIPE", "MANUAL", "CREDENTIAL_ON_FILE", "ECOM")
_CHANNEL_CODE = {name: code for code, name in enumerate(CHANNELS)}
_ENTRY_MODE_CODE = {name: code for code, name in enumerate(ENTRY_MODES)}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MS = timedelta(milliseconds=1)


class TxFacts(NamedTuple):
    """Integers and short codes only, so online and offline arithmetic is identical."""

    txid_hash: int  # 64-bit digest of transaction_id: how state recognises a replayed event
    card_id: str
    merchant_id: str
    event_ms: int  # epoch milliseconds, UTC
    amount_cents: int
    country: bytes  # ISO 3166 alpha-2, 2 ASCII bytes
    channel: int  # index into CHANNELS
    entry_mode: int  # index into ENTRY_MODES, -1 when absent
    card_present: int  # 1, 0, or -1 when absent
    mcc: int


def txid_digest(transaction_id: str) -> int:
    """A stable 64-bit digest (Python's hash() is salted per process)."""
    return int.from_bytes(blake2b(transaction_id.encode(), digest_size=8).digest(), "little")


def epoch_ms(moment: datetime) -> int:
    """Exact integer milliseconds (float timestamps can round 0.123 s down to 122 ms)."""
    return (moment - _EPOCH) // _ONE_MS


def make_facts(
    *,
    transaction_id: str,
    card_id: str,
    merchant_id: str,
    event_ms: int,
    amount_cents: int,
    country: str,
    channel: str,
    entry_mode: str | None,
    card_present: bool | None,
    mcc: str,
) -> TxFacts:
    """Build facts from plain values (the offline path reads these from a Parquet table)."""
    return TxFacts(
        txid_hash=txid_digest(transaction_id),
        card_id=card_id,
        merchant_id=merchant_id,
        event_ms=event_ms,
        amount_cents=amount_cents,
        country=country.encode("ascii"),
        channel=_CHANNEL_CODE[channel],
        entry_mode=-1 if entry_mode is None else _ENTRY_MODE_CODE[entry_mode],
        card_present=-1 if card_present is None else int(card_present),
        mcc=int(mcc),
    )


def facts_from_transaction(tx: Transaction) -> TxFacts:
    """The online path: facts from a validated transaction record."""
    return make_facts(
        transaction_id=tx.transaction_id,
        card_id=tx.card_id,
        merchant_id=tx.merchant_id,
        event_ms=epoch_ms(tx.event_time),
        amount_cents=int(tx.amount * 100),
        country=tx.country,
        channel=tx.channel.value,
        entry_mode=None if tx.entry_mode is None else tx.entry_mode.value,
        card_present=tx.card_present,
        mcc=tx.mcc,
    )
