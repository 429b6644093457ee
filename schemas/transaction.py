"""The inbound card transaction (topic fraud.transactions.v1, key = card_id).

Reading rules (the codec in `schemas.codec` applies them at the stream edge):
- Unknown fields are ignored (tolerant reader), so producers may add fields before consumers
  upgrade. Duplicate keys: the last one wins unless `DecodeLimits.reject_duplicate_keys`.
- `schema_version` newer than `TRANSACTION_SCHEMA_VERSION` is dead-lettered as
  `unsupported_schema_version`; an older one is upgraded first (`schemas.versions`).
- JSON types are not coerced: ids and codes are strings, `amount` is a decimal *string*
  ("12.34": a binary float cannot carry money exactly, and one form keeps producers honest),
  `event_time` is an ISO 8601 string with an offset (never an epoch number), `card_present` is
  true/false, coordinates are numbers. NaN and Infinity are rejected everywhere.
- The event-time window (not too far in the future, optionally not too old) depends on the
  reader's clock, so the codec checks it, not this model.

Validation cost is part of the contract: everything here is checked inside pydantic-core (regexes,
Literal lookups, strict scalars), without a Python call per event. See tests/load/bench_codec.py.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from schemas.base import Record
from schemas.codes import CountryCode, CurrencyCode
from schemas.primitives import (
    MAX_AMOUNT,
    Amount,
    Identifier,
    IsoTimestamp,
    SchemaVersion,
    Sha256Hex,
)

__all__ = ["MAX_AMOUNT", "TRANSACTION_SCHEMA_VERSION", "Channel", "EntryMode", "Transaction"]

TRANSACTION_SCHEMA_VERSION = 1
"""The newest transaction schema version this code reads; see schemas.versions for older ones."""


class Channel(StrEnum):
    POS = "POS"  # card present at a physical terminal
    ECOM = "ECOM"  # online, card not present
    ATM = "ATM"
    MOTO = "MOTO"  # mail / telephone order


class EntryMode(StrEnum):
    CHIP = "CHIP"
    CONTACTLESS = "CONTACTLESS"
    MAGSTRIPE = "MAGSTRIPE"
    MANUAL = "MANUAL"
    CREDENTIAL_ON_FILE = "CREDENTIAL_ON_FILE"
    ECOM = "ECOM"


class Transaction(Record):
    """One card authorisation request as the payment system saw it."""

    SCHEMA_VERSION: ClassVar[int] = TRANSACTION_SCHEMA_VERSION

    schema_version: SchemaVersion = Field(
        description="Version of this record contract; required, producers state what they wrote"
    )
    transaction_id: Identifier = Field(description="Unique id of the authorisation request")
    card_id: Identifier = Field(description="Tokenised card id (never a PAN); the Kafka key")
    merchant_id: Identifier = Field(description="Merchant (acceptor) id")
    terminal_id: Identifier | None = Field(default=None, description="Terminal id at the merchant")
    amount: Amount = Field(
        description=(
            f"Amount in major units of `currency`: a decimal string, > 0, ≤ {MAX_AMOUNT}, "
            "at most 2 decimal places"
        )
    )
    currency: CurrencyCode = Field(description="ISO 4217 alphabetic currency code")
    event_time: IsoTimestamp = Field(
        description="When the payment system saw the request; ISO 8601 with a UTC offset"
    )
    mcc: str = Field(pattern=r"^[0-9]{4}$", description="ISO 18245 merchant category code")
    channel: Channel = Field(description="How the card was used")
    country: CountryCode = Field(description="ISO 3166-1 alpha-2 country of the merchant")
    entry_mode: EntryMode | None = Field(
        default=None, description="How the card details were captured, when known"
    )
    card_present: bool | None = Field(
        default=None, strict=True, description="Whether the card was physically present"
    )
    device_id_hash: Sha256Hex | None = Field(
        default=None, description="sha256 (hex) of the customer's device id"
    )
    ip_hash: Sha256Hex | None = Field(
        default=None, description="sha256 (hex) of the customer's IP address"
    )
    customer_lat: float | None = Field(
        default=None,
        strict=True,
        ge=-90,
        le=90,
        allow_inf_nan=False,
        description="Customer latitude in degrees (WGS 84), when known",
    )
    customer_lon: float | None = Field(
        default=None,
        strict=True,
        ge=-180,
        le=180,
        allow_inf_nan=False,
        description="Customer longitude in degrees (WGS 84), when known",
    )
