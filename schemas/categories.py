"""Why a record was dead-lettered: one category per distinct thing an operator would fix.

The codec checks in this order and the first failure decides the category:
transport (empty, too_large, too_deep, not_utf8, not_json), then shape (not_object), then the
schema version, then the fields in contract order, then the event-time window.

One rule decides a field's category, in this order:
1. missing_field / unexpected_field: the field is absent, or present where none is allowed;
2. non_finite_number: the value is NaN or Infinity (a JSON token, a number that overflowed to
   one, or a decimal string spelling one), whatever type the field takes: no field accepts one;
3. wrong_type: the value's JSON type (string, number, integer, boolean, object, array, null) is
   not one the field takes, e.g. a number for a string field or for a code list of strings;
4. out_of_range: right type, but a number or a length outside its bounds;
5. invalid_value: right type and size, but not an allowed value (pattern, code list, enum,
   format); timestamps have their own invalid_timestamp / naive_timestamp.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCategory(StrEnum):
    # The bytes themselves.
    EMPTY = "empty"  # null value (a tombstone) or zero bytes
    TOO_LARGE = "too_large"  # more bytes than DecodeLimits.max_bytes
    NOT_UTF8 = "not_utf8"  # not valid UTF-8 (JSON text must be)
    NOT_JSON = "not_json"  # not well-formed JSON: syntax, trailing data, a BOM, a lone surrogate
    TOO_DEEP = "too_deep"  # nested deeper than DecodeLimits.max_depth (or the parser's ceiling)
    DUPLICATE_KEY = "duplicate_key"  # an object repeats a key (only with reject_duplicate_keys)
    NOT_OBJECT = "not_object"  # valid JSON, but the top level is not an object
    # The contract.
    UNSUPPORTED_SCHEMA_VERSION = "unsupported_schema_version"  # newer than this reader knows
    UPGRADE_FAILED = "upgrade_failed"  # an older version whose upgrade function failed
    MISSING_FIELD = "missing_field"
    UNEXPECTED_FIELD = "unexpected_field"  # only for records that forbid unknown fields
    WRONG_TYPE = "wrong_type"  # e.g. a number where a string is expected, a bool for a number
    OUT_OF_RANGE = "out_of_range"  # a number or a length outside its bounds
    NON_FINITE_NUMBER = "non_finite_number"  # NaN, Infinity, or a float that overflowed to it
    INVALID_VALUE = "invalid_value"  # right type, not an allowed value (pattern, code list, enum)
    INVALID_TIMESTAMP = "invalid_timestamp"  # a string that is not an ISO 8601 date-time
    NAIVE_TIMESTAMP = "naive_timestamp"  # an ISO 8601 date-time without a UTC offset
    FUTURE_TIMESTAMP = "future_timestamp"  # event time beyond now + DecodeLimits.max_future_skew
    STALE_TIMESTAMP = "stale_timestamp"  # event time before now - DecodeLimits.max_past_age
    # The transport envelope.
    KEY_MISMATCH = "key_mismatch"  # the Kafka key is not the record's card_id (see README)
    # The codec itself failed: a bug, never the record's fault; the bytes are kept for replay.
    INTERNAL_ERROR = "internal_error"
