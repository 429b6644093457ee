"""The inbound card transaction (topic fraud.transactions.v1, key = card_id)."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from schemas.codes import COUNTRIES, CURRENCIES

TRANSACTION_SCHEMA_VERSION = 1
"""The newest transaction schema version this code reads; see schemas.versions for older ones."""

MAX_AMOUNT = Decimal("1000000.00")


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


def _known_currency(code: str) -> str:
    if code not in CURRENCIES:
        raise ValueError(f"{code!r} is not an ISO 4217 currency code")
    return code


def _known_country(code: str) -> str:
    if code not in COUNTRIES:
        raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 country code")
    return code


Identifier = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]
CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$"), AfterValidator(_known_currency)]
CountryCode = Annotated[str, Field(pattern=r"^[A-Z]{2}$"), AfterValidator(_known_country)]
Sha256Hex = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class Transaction(BaseModel):
    """One card authorisation request as the payment system saw it.

    Unknown fields are ignored (a tolerant reader, so producers may add fields before consumers
    upgrade); the schema version decides how a record is read (see schemas.versions).
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    schema_version: int = Field(ge=1, description="Version of this record contract")
    transaction_id: Identifier = Field(description="Unique id of the authorisation request")
    card_id: Identifier = Field(description="Tokenised card id (never a PAN); the Kafka key")
    merchant_id: Identifier = Field(description="Merchant (acceptor) id")
    terminal_id: Identifier | None = Field(default=None, description="Terminal id at the merchant")
    amount: Decimal = Field(
        gt=0,
        le=MAX_AMOUNT,
        max_digits=9,
        decimal_places=2,
        description="Amount in major units of `currency`, at most 2 decimal places",
    )
    currency: CurrencyCode = Field(description="ISO 4217 alphabetic code")
    event_time: AwareDatetime = Field(
        description="When the payment system saw the request; ISO 8601 with a UTC offset"
    )
    mcc: str = Field(pattern=r"^[0-9]{4}$", description="ISO 18245 merchant category code")
    channel: Channel
    country: CountryCode = Field(description="ISO 3166-1 alpha-2 country of the merchant")
    entry_mode: EntryMode | None = None
    card_present: bool | None = None
    device_id_hash: Sha256Hex | None = Field(default=None, description="sha256 of the device id")
    ip_hash: Sha256Hex | None = Field(default=None, description="sha256 of the client IP address")
    customer_lat: float | None = Field(default=None, ge=-90, le=90, allow_inf_nan=False)
    customer_lon: float | None = Field(default=None, ge=-180, le=180, allow_inf_nan=False)
