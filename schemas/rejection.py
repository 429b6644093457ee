"""Turning a decode failure into a category and a detail an operator can act on.

Runs only on the failure path, so it may be thorough: it re-examines the input to tell a
non-UTF-8 payload from a JSON syntax error, and asks each custom field type to explain its own
failure (`schemas.primitives.CUSTOM_ERROR_EXPLAINERS`). The first error (in contract field order)
decides the category; the detail lists every error, each as `path: problem`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from schemas.categories import ErrorCategory
from schemas.dead_letter import MAX_DETAIL_CHARS
from schemas.primitives import CUSTOM_ERROR_EXPLAINERS, describe_json_value

MAX_LISTED_ERRORS = 10
MAX_INPUT_CHARS = 60

_BY_ERROR_TYPE: dict[str, ErrorCategory] = {
    "missing": ErrorCategory.MISSING_FIELD,
    "extra_forbidden": ErrorCategory.UNEXPECTED_FIELD,
    "finite_number": ErrorCategory.NON_FINITE_NUMBER,
    "timezone_aware": ErrorCategory.NAIVE_TIMESTAMP,
    "datetime_parsing": ErrorCategory.INVALID_TIMESTAMP,
    "datetime_from_date_parsing": ErrorCategory.INVALID_TIMESTAMP,
    "datetime_object_invalid": ErrorCategory.INVALID_TIMESTAMP,
    "recursion_loop": ErrorCategory.TOO_DEEP,
    **dict.fromkeys(
        [
            "greater_than",
            "greater_than_equal",
            "less_than",
            "less_than_equal",
            "multiple_of",
            "too_short",
            "too_long",
            "string_too_short",
            "string_too_long",
            "bytes_too_short",
            "bytes_too_long",
            "decimal_max_digits",
            "decimal_whole_digits",
            "int_parsing_size",
        ],
        ErrorCategory.OUT_OF_RANGE,
    ),
    **dict.fromkeys(
        [
            "string_type",
            "int_type",
            "int_parsing",
            "int_from_float",
            "float_type",
            "float_parsing",
            "bool_type",
            "bool_parsing",
            "decimal_type",
            "decimal_parsing",
            "datetime_type",
            "list_type",
            "tuple_type",
            "dict_type",
            "model_type",
            "model_attributes_type",
            "bytes_type",
            "none_required",
        ],
        ErrorCategory.WRONG_TYPE,
    ),
    # pattern, enum, literal, decimal places, value/assertion errors of model validators, and
    # anything newer pydantic adds: the value is not an allowed one.
}
_SHAPE_ERRORS = {"model_type", "model_attributes_type", "dict_type"}
_CHOICE_ERRORS = {"literal_error", "enum"}  # one of a fixed list of values (code lists, enums)


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why one record was refused: what a dead letter (or RecordRejected) carries."""

    category: ErrorCategory
    detail: str
    field: str | None = None


def field_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path


def shown(value: object) -> str:
    """The input as a detail shows it: JSON spelling, short, never the whole of a huge value."""
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, int) and abs(value) >= 10**20:
        digits = str(abs(value))
        return f"{digits[:10]}... ({len(digits)} digits)"
    text = repr(value)
    if len(text) > MAX_INPUT_CHARS:
        return f"{text[: MAX_INPUT_CHARS - 3]}... ({describe_json_value(value)})"
    return text


def _explain_one(error: Any) -> tuple[ErrorCategory, str]:
    """One error's category by the rule in `schemas.categories`: presence, then non-finite
    numbers, then JSON type, then bounds, then allowed values."""
    kind = error["type"]
    value = error.get("input")
    if kind == "missing":
        return ErrorCategory.MISSING_FIELD, "required field is missing"
    if kind == "extra_forbidden":
        return ErrorCategory.UNEXPECTED_FIELD, "unknown field (this record forbids them)"
    if isinstance(value, float) and not math.isfinite(value):
        # A NaN/Infinity token (or a number that overflowed) is refused wherever it appears,
        # whatever type the field takes: no field of any contract accepts one.
        return ErrorCategory.NON_FINITE_NUMBER, f"not a finite number; got {shown(value)}"
    explainer = CUSTOM_ERROR_EXPLAINERS.get(kind)
    if explainer is not None:
        category, problem = explainer(value)
    elif kind in _CHOICE_ERRORS:
        expected = str(error.get("ctx", {}).get("expected", ""))
        count = expected.count("'") // 2
        problem = f"not one of the {count} allowed values"
        # The allowed values are strings: any other JSON type is the wrong type, not a wrong value.
        wrong_type = count > 0 and not isinstance(value, str)
        category = ErrorCategory.WRONG_TYPE if wrong_type else ErrorCategory.INVALID_VALUE
    else:
        category = _BY_ERROR_TYPE.get(kind, ErrorCategory.INVALID_VALUE)
        if kind in _SHAPE_ERRORS and not error["loc"]:
            category = ErrorCategory.NOT_OBJECT
        problem = str(error["msg"])
    if category in (ErrorCategory.WRONG_TYPE, ErrorCategory.NOT_OBJECT) and value is not None:
        return category, f"{problem}; got {describe_json_value(value)}: {shown(value)}"
    return category, f"{problem}; got {shown(value)}"


def explain_validation_errors(errors: list[Any], *, prefix: str = "") -> Rejection:
    """Explain pydantic `ValidationError.errors()` of a parsed record."""
    problems: list[str] = []
    first: tuple[ErrorCategory, str | None] | None = None
    for error in errors[:MAX_LISTED_ERRORS]:
        category, problem = _explain_one(error)
        path = field_path(tuple(error["loc"]))
        if first is None:
            first = (category, path[:200] or None)
        problems.append(f"{path or '(record)'}: {problem} [{category}]")
    if len(errors) > MAX_LISTED_ERRORS:
        problems.append(f"... and {len(errors) - MAX_LISTED_ERRORS} more")
    if first is None:  # pydantic never raises without errors; stay total anyway
        first = (ErrorCategory.INVALID_VALUE, None)
    detail = prefix + "; ".join(problems)
    return Rejection(first[0], truncate(detail), first[1])


def explain_json_failure(raw: bytes, message: str) -> Rejection:
    """Explain a pydantic `json_invalid` error (the parser refused the bytes)."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Rejection(
            ErrorCategory.NOT_UTF8,
            f"byte {exc.start} ({raw[exc.start : exc.start + 1]!r}) is not valid UTF-8: "
            f"{exc.reason}",
        )
    reason = message.removeprefix("Invalid JSON: ")
    if "recursion limit exceeded" in reason:
        return Rejection(
            ErrorCategory.TOO_DEEP, f"nested deeper than the JSON parser allows ({reason})"
        )
    if "number out of range" in reason:
        return Rejection(
            ErrorCategory.OUT_OF_RANGE,
            f"a number too large to represent ({reason}); max 4300 digits",
        )
    if raw.startswith(b"\xef\xbb\xbf"):
        reason += "; the payload starts with a UTF-8 byte order mark, which JSON forbids"
    return Rejection(ErrorCategory.NOT_JSON, f"not well-formed JSON: {reason}")


_TRUNCATED = " ... (truncated)"


def truncate(text: str, limit: int = MAX_DETAIL_CHARS) -> str:
    """`text` cut to at most `limit` characters, marked as cut when it was."""
    if len(text) <= limit:
        return text
    return text[: limit - len(_TRUNCATED)] + _TRUNCATED


def shown_key(key: bytes | None) -> str:
    """A record key as a detail shows it: whole when short, else its start and its size."""
    if key is None or len(key) <= MAX_INPUT_CHARS:
        return repr(key)
    return f"{key[:MAX_INPUT_CHARS]!r}... ({len(key)} bytes)"
