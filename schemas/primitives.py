"""Field types shared by the record contracts, and how their failures are explained.

The two hot-path types, `Amount` and `IsoTimestamp`, validate JSON in pydantic-core alone (a
regex, then a Rust Decimal/datetime parse: no Python call per event) and explain a failure only
when one happens: `CUSTOM_ERROR_EXPLAINERS` turns the custom error into a precise category and
message for the dead letter. Python-mode construction (our own code building records from
Python values) runs the same bounds through ordinary pydantic validators, where speed matters less.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import Field, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from schemas.categories import ErrorCategory

Identifier = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]
Sha256Hex = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
ReasonCode = Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]{0,47}$")]
FeatureName = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_.:-]{0,127}$")]
# Same shapes as the model package manifest's name and version.
PackageName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
VersionLabel = Annotated[str, Field(pattern=r"^[0-9A-Za-z.+_-]{1,64}$")]
# A worker or a person: host:pid, service accounts, e-mail addresses. No spaces, so it greps.
ActorId = Annotated[str, Field(pattern=r"^[A-Za-z0-9._:@/+-]{1,128}$")]
Probability = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Finite = Annotated[float, Field(allow_inf_nan=False)]
Count = Annotated[int, Field(ge=0)]
SchemaVersion = Annotated[int, Field(strict=True, ge=1, le=999)]
"""Strict: `true`, `"1"` and `1.0` are not versions. The upper bound only rejects nonsense; a
version newer than a reader supports is the codec's `unsupported_schema_version`."""

Explainer = Callable[[object], tuple[ErrorCategory, str]]
"""Input → (category, problem); the problem reads after "field: " and before "; got <input>"."""


def describe_json_value(value: object) -> str:
    """How a JSON value reads in a message: its JSON type, so a detail never echoes a huge input."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


# ---------------------------------------------------------------------------------------------
# Money: a JSON string in plain decimal notation, > 0, at most 1,000,000.00, at most 2 places.

MAX_AMOUNT = Decimal("1000000.00")
AMOUNT_PATTERN = (
    r"^(?:[1-9][0-9]{0,5}(?:\.[0-9]{1,2})?|0\.(?:[1-9][0-9]?|0[1-9])|1000000(?:\.0{1,2})?)$"
)
"""Encodes the whole rule (positive, ≤ MAX_AMOUNT, ≤ 2 places, no sign/exponent/leading zeros),
so valid JSON needs one regex and one Decimal construction: a quarter of what pydantic's Decimal
constraints cost (they call back into Python's decimal module for digits, places and bounds)."""
AMOUNT_ERROR = "amount_format"
_AMOUNT_RULE = (
    f"a JSON string holding a decimal > 0 and ≤ {MAX_AMOUNT} with at most 2 decimal places, "
    'e.g. "12.34"'
)


def explain_amount(value: object) -> tuple[ErrorCategory, str]:
    if not isinstance(value, str):
        return ErrorCategory.WRONG_TYPE, f"expected {_AMOUNT_RULE}"
    try:
        number = Decimal(value)
    except (InvalidOperation, ValueError):
        return ErrorCategory.INVALID_VALUE, f"not a decimal number; expected {_AMOUNT_RULE}"
    if not number.is_finite():
        return ErrorCategory.NON_FINITE_NUMBER, f"not finite; expected {_AMOUNT_RULE}"
    if number <= 0 or number > MAX_AMOUNT:
        return ErrorCategory.OUT_OF_RANGE, f"must be > 0 and ≤ {MAX_AMOUNT}"
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        return ErrorCategory.INVALID_VALUE, "more than 2 decimal places"
    return (
        ErrorCategory.INVALID_VALUE,
        "not in plain decimal form (digits, an optional point and 1-2 decimals; "
        "no sign, exponent, spaces, underscores or leading zeros)",
    )


def _two_places(amount: Decimal) -> Decimal:
    # Python-built amounts (Decimal("12.5"), Decimal("1E+2")) serialise in the JSON form that
    # AMOUNT_PATTERN accepts, so every record we write reads back.
    return amount.quantize(Decimal("0.01"))


class _AmountSchema:
    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        from_json = core_schema.chain_schema(
            [
                core_schema.custom_error_schema(
                    core_schema.str_schema(pattern=AMOUNT_PATTERN),
                    custom_error_type=AMOUNT_ERROR,
                    custom_error_message=f"expected {_AMOUNT_RULE}",
                ),
                core_schema.decimal_schema(),
            ]
        )
        from_python = core_schema.no_info_after_validator_function(
            _two_places,
            core_schema.decimal_schema(
                gt=Decimal(0), le=MAX_AMOUNT, decimal_places=2, allow_inf_nan=False
            ),
        )
        return core_schema.json_or_python_schema(
            json_schema=from_json,
            python_schema=from_python,
            serialization=core_schema.to_string_ser_schema(when_used="json"),
        )

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"type": "string", "pattern": AMOUNT_PATTERN, "examples": ["12.34"]}


Amount = Annotated[Decimal, _AmountSchema()]


# ---------------------------------------------------------------------------------------------
# Timestamps: ISO 8601 date-time strings with a UTC offset. Epoch numbers are refused: a bare
# number does not say whether it is seconds or milliseconds, and pydantic would guess.

ISO_DATETIME_PREFIX = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T"
"""Only the date and the 'T' are checked by regex; pydantic's parser checks the rest strictly
(and reports a missing offset as its own error, which becomes `naive_timestamp`)."""
TIMESTAMP_ERROR = "iso_timestamp"
_TIMESTAMP_RULE = "an ISO 8601 date-time string with a UTC offset, e.g. 2026-11-02T10:15:30Z"
_ISO_PREFIX = re.compile(ISO_DATETIME_PREFIX)
_EPOCH_LIKE = re.compile(r"^\s*[+-]?[0-9]+(?:\.[0-9]*)?\s*$")


def explain_timestamp(value: object) -> tuple[ErrorCategory, str]:
    if isinstance(value, str):
        if _EPOCH_LIKE.match(value):
            return (
                ErrorCategory.INVALID_TIMESTAMP,
                f"epoch numbers are not accepted; expected {_TIMESTAMP_RULE}",
            )
        return ErrorCategory.INVALID_TIMESTAMP, f"expected {_TIMESTAMP_RULE}"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (
            ErrorCategory.WRONG_TYPE,
            f"epoch numbers are not accepted; expected {_TIMESTAMP_RULE}",
        )
    return ErrorCategory.WRONG_TYPE, f"expected {_TIMESTAMP_RULE}"


def _datetime_or_iso_string(value: object) -> object:
    if isinstance(value, datetime) or (isinstance(value, str) and _ISO_PREFIX.match(value)):
        return value
    raise PydanticCustomError(TIMESTAMP_ERROR, f"expected a datetime or {_TIMESTAMP_RULE}")


class _IsoTimestampSchema:
    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        aware = core_schema.datetime_schema(tz_constraint="aware")
        from_json = core_schema.chain_schema(
            [
                core_schema.custom_error_schema(
                    core_schema.str_schema(pattern=ISO_DATETIME_PREFIX),
                    custom_error_type=TIMESTAMP_ERROR,
                    custom_error_message=f"expected {_TIMESTAMP_RULE}",
                ),
                aware,
            ]
        )
        from_python = core_schema.no_info_before_validator_function(_datetime_or_iso_string, aware)
        return core_schema.json_or_python_schema(
            json_schema=from_json,
            python_schema=from_python,
            serialization=aware.get("serialization"),
        )

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"type": "string", "format": "date-time", "pattern": ISO_DATETIME_PREFIX}


IsoTimestamp = Annotated[datetime, _IsoTimestampSchema()]
"""A timezone-aware datetime; on the wire an ISO 8601 string with an offset (output uses 'Z')."""


CUSTOM_ERROR_EXPLAINERS: dict[str, Explainer] = {
    AMOUNT_ERROR: explain_amount,
    TIMESTAMP_ERROR: explain_timestamp,
}
"""Custom pydantic error type → how to explain the rejected input precisely."""
