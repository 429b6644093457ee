"""The codec at the stream edge: bytes in, a record or a dead letter out; records to bytes.

Framework-free (no faust, no kafka): the stream hands over the value bytes and where they came
from, and gets back either a validated record or a `DeadLetter` to produce. Decoding never raises
for any bytes: a bug in this module becomes an `internal_error` dead letter that still carries
the input. (It raises ValueError only for a naive `now`: a caller bug, not data.)

Checks run cheapest first: empty, size, (optional) nesting pre-scan, then one pydantic-core call
that parses and validates together, then the schema version and the event-time window. The
failure path is separate and may be slow (see `schemas.rejection`). Per-event cost, measured by
`python -m tests.load.bench_codec`, is dominated by that single `validate_json` call.

Limits and the JSON parser (jiter, inside pydantic-core), as measured on pydantic-core 2.50:
- it nests at most 201 levels; deeper input fails as "recursion limit exceeded" (→ too_deep);
- integers beyond 4300 digits fail as "number out of range" (→ out_of_range);
- NaN/Infinity tokens parse, and 1e400 becomes inf: finite-only fields reject them
  (→ non_finite_number), unknown fields holding them are ignored like any unknown field;
- with duplicate keys the last one wins (as in Python's json and JavaScript); set
  `DecodeLimits.reject_duplicate_keys` to refuse them (a second, Python-speed parse per event);
- a UTF-8 byte order mark, trailing data and lone surrogates are syntax errors (→ not_json).
"""

from __future__ import annotations

import functools
import hashlib
import json
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, NamedTuple, TypeVar, cast

import pydantic_core
from pydantic import ValidationError

from schemas.base import Record
from schemas.categories import ErrorCategory
from schemas.dead_letter import (
    MAX_FIELD_CHARS,
    MAX_TOPIC_CHARS,
    DeadLetter,
    KafkaSource,
    bounded_key,
    dead_letter_id_for,
)
from schemas.errors import RecordRejected, UpgradeError
from schemas.rejection import (
    Rejection,
    explain_json_failure,
    explain_validation_errors,
    shown,
    truncate,
)
from schemas.transaction import Transaction
from schemas.versions import TRANSACTION_UPGRADES, UpgradeRegistry

R = TypeVar("R", bound=Record)

PARSER_MAX_DEPTH = 201
"""Deepest nesting pydantic-core's JSON parser accepts (measured); it refuses deeper itself."""

UTC = pydantic_core.TzInfo(0)
"""pydantic-core's UTC tzinfo, one shared instance: the parser gives it to every UTC timestamp,
and CPython compares two datetimes with the *same* tzinfo object without calling utcoffset()
(~40 ns instead of ~700 ns here). `datetime.now(UTC)` makes such a `now`."""

_ACTOR_ID = re.compile(r"^[A-Za-z0-9._:@/+-]{1,128}$")


class SourceCoords(NamedTuple):
    """Where a value was read; a NamedTuple because the stream builds one per event."""

    topic: str
    partition: int
    offset: int
    key: bytes | None = None
    timestamp_ms: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DecodeLimits:
    max_bytes: int = 64 * 1024
    """Larger values are dead-lettered `too_large` before any parsing."""
    max_future_skew: timedelta = timedelta(minutes=5)
    """event_time may be at most this far ahead of the reader's clock (`future_timestamp`)."""
    max_past_age: timedelta | None = None
    """If set, event_time older than now minus this is dead-lettered `stale_timestamp`."""
    max_depth: int = PARSER_MAX_DEPTH
    """Deepest nesting accepted (the top-level object is depth 1). The default is the parser's
    own ceiling, which costs nothing; a lower limit adds a pre-scan of the bytes to every event
    that contains any nesting at all."""
    reject_duplicate_keys: bool = False
    """Refuse objects that repeat a key (`duplicate_key`). Off by default: it costs a second
    parse in Python per event, about as much as the whole decode."""

    def __post_init__(self) -> None:
        if self.max_bytes < 1:
            raise ValueError("max_bytes must be positive")
        if self.max_future_skew < timedelta(0):
            raise ValueError("max_future_skew must not be negative")
        if self.max_past_age is not None and self.max_past_age <= timedelta(0):
            raise ValueError("max_past_age must be positive")
        if not 1 <= self.max_depth <= PARSER_MAX_DEPTH:
            raise ValueError(
                f"max_depth must be within 1..{PARSER_MAX_DEPTH} (the parser's ceiling)"
            )


DEFAULT_LIMITS = DecodeLimits()

# now, latest acceptable event time, earliest acceptable event time (or None)
_Window = tuple[datetime, datetime, datetime | None]


class Decoder(Generic[R]):
    """Decodes values of one record type; build one per process and call `decode` per event."""

    __slots__ = (
        "_check_duplicates",
        "_event_time",
        "_max_bytes",
        "_scan_depth",
        "_shortcut",
        "_upgrades",
        "_validate_json",
        "_version",
        "_window",
        "limits",
        "record_type",
        "worker_id",
    )

    def __init__(
        self,
        record_type: type[R],
        *,
        worker_id: str,
        limits: DecodeLimits = DEFAULT_LIMITS,
        upgrades: UpgradeRegistry | None = None,
        event_time: Callable[[R], datetime] | None = None,
    ) -> None:
        if not _ACTOR_ID.match(worker_id):
            raise ValueError(f"worker_id {worker_id!r} must match {_ACTOR_ID.pattern}")
        self.record_type = record_type
        self.worker_id = worker_id
        self.limits = limits
        self._version = record_type.SCHEMA_VERSION
        self._upgrades = upgrades or UpgradeRegistry(record_type.__name__, self._version)
        if self._upgrades.current_version != self._version:
            raise ValueError("the upgrade registry targets another version than the record type")
        self._event_time = event_time
        self._validate_json: Callable[[bytes], R] = record_type.__pydantic_validator__.validate_json
        self._window: _Window | None = None
        # Plain attributes: the per-event path reads each once, without a second lookup.
        self._max_bytes = limits.max_bytes
        self._scan_depth = limits.max_depth < PARSER_MAX_DEPTH
        self._check_duplicates = limits.reject_duplicate_keys
        # decode's inlined path covers records with an event time and no optional scans.
        self._shortcut = event_time is not None and not (self._scan_depth or self._check_duplicates)

    # -- the per-event entry points ----------------------------------------------------------

    def decode(self, raw: bytes | None, source: SourceCoords, *, now: datetime) -> R | DeadLetter:
        """The record, or a DeadLetter carrying `raw` untouched. Never raises for any `raw`.

        Pass the same aware `now` object to consecutive calls (e.g. one per poll batch or tick;
        `datetime.now(UTC)` with this module's UTC is cheapest): the decoder derives its
        event-time window once per distinct `now`.
        """
        window = self._window
        if window is None or window[0] is not now:
            window = self._window_at(now)
        try:
            # The common case, inlined (every Python call here costs ~3% of the whole decode).
            # It may only accept what _check accepts; anything else goes the full way, which
            # validates again: a failure costs ten times a success anyway.
            if self._shortcut and raw and len(raw) <= self._max_bytes:
                try:
                    record = self._validate_json(raw)
                except ValidationError:
                    pass
                else:
                    if record.schema_version == self._version:
                        when = self._event_time(record)  # type: ignore[misc]  # _shortcut: set
                        if when <= window[1] and (window[2] is None or when >= window[2]):
                            return record
            result = self._check(raw, window)
        except Exception as exc:  # a bug here must neither crash the agent nor lose the record
            result = _internal_error(exc)
        if isinstance(result, Rejection):
            return self.dead_letter(raw, source, result, now=now)
        return result

    def check(self, raw: bytes | None, *, now: datetime) -> R | Rejection:
        """Like `decode`, but returns a Rejection (for readers without a dead-letter topic)."""
        window = self._window_at(now)
        try:
            return self._check(raw, window)
        except Exception as exc:
            return _internal_error(exc)

    # -- internals ---------------------------------------------------------------------------

    def _window_at(self, now: datetime) -> _Window:
        window = self._window
        if window is not None and window[0] is now:
            return window
        if now.utcoffset() is None:
            raise ValueError("now must be timezone-aware")
        utc_now = now.astimezone(UTC)
        oldest = self.limits.max_past_age
        window = (
            now,
            utc_now + self.limits.max_future_skew,
            None if oldest is None else utc_now - oldest,
        )
        self._window = window  # one tuple swap: consistent even if two tasks share a decoder
        return window

    def _check(self, raw: bytes | None, window: _Window) -> R | Rejection:
        if not raw:
            return Rejection(ErrorCategory.EMPTY, "no value: null (a tombstone) or zero bytes")
        if len(raw) > self._max_bytes:
            return Rejection(
                ErrorCategory.TOO_LARGE, f"{len(raw)} bytes; the limit is {self._max_bytes}"
            )
        if self._scan_depth:
            limit = self.limits.max_depth
            if nesting_depth(raw, stop_above=limit) > limit:
                return Rejection(ErrorCategory.TOO_DEEP, f"nested deeper than the limit of {limit}")
        try:
            record = self._validate_json(raw)
        except ValidationError as exc:
            return self._explain(raw, exc, window)
        if record.schema_version != self._version:
            return self._read_other_version(raw, record.schema_version, window)
        if self._check_duplicates:
            duplicate = first_duplicate_key(raw)
            if duplicate is not None:
                return Rejection(
                    ErrorCategory.DUPLICATE_KEY,
                    f"key {duplicate[:100]!r} appears more than once in one object",
                    duplicate[:200],
                )
        # _check_time, inlined: a Python call is a tenth of the budget left after validation
        event_time = self._event_time
        if event_time is None:
            return record
        when = event_time(record)
        if when > window[1] or (window[2] is not None and when < window[2]):
            return self._outside_window(when, window)
        return record

    def _check_time(self, record: R, window: _Window) -> R | Rejection:
        event_time = self._event_time
        if event_time is None:
            return record
        when = event_time(record)
        _, latest, earliest = window
        if when > latest or (earliest is not None and when < earliest):
            return self._outside_window(when, window)
        return record

    def _outside_window(self, when: datetime, window: _Window) -> Rejection:
        now, latest, _ = window
        if when > latest:
            return Rejection(
                ErrorCategory.FUTURE_TIMESTAMP,
                f"event_time {when.isoformat()} is more than {self.limits.max_future_skew} "
                f"ahead of the reader's clock ({now.isoformat()})",
                "event_time",
            )
        return Rejection(
            ErrorCategory.STALE_TIMESTAMP,
            f"event_time {when.isoformat()} is more than {self.limits.max_past_age} "
            f"before the reader's clock ({now.isoformat()})",
            "event_time",
        )

    def _explain(self, raw: bytes, exc: ValidationError, window: _Window) -> R | Rejection:
        errors = exc.errors(include_url=False)
        if errors and errors[0]["type"] == "json_invalid":
            return explain_json_failure(raw, str(errors[0]["msg"]))
        # A record of another version may fail only because its shape is not this version's:
        # say so (or upgrade it) rather than list the symptoms.
        version = declared_version(raw)
        if version is not None and version != self._version:
            return self._read_other_version(raw, version, window)
        return explain_validation_errors(errors)

    def _read_other_version(self, raw: bytes, version: int, window: _Window) -> R | Rejection:
        current = self._version
        if version > current:
            return Rejection(
                ErrorCategory.UNSUPPORTED_SCHEMA_VERSION,
                f"schema_version {shown(version)} is newer than {current}, the newest this "
                "reader supports; upgrade the reader, then replay this dead letter",
                "schema_version",
            )
        if not self._upgrades.can_upgrade(version):
            return Rejection(
                ErrorCategory.UNSUPPORTED_SCHEMA_VERSION,
                f"schema_version {version} is older than {current} and no upgrade from it exists",
                "schema_version",
            )
        try:
            upgraded = self._upgrades.upgrade(pydantic_core.from_json(raw))
            body = json.dumps(upgraded).encode()
        except (UpgradeError, TypeError, ValueError) as exc:
            return Rejection(ErrorCategory.UPGRADE_FAILED, str(exc)[:1000], "schema_version")
        try:
            record = self._validate_json(body)
        except ValidationError as exc:
            return explain_validation_errors(
                exc.errors(include_url=False), prefix=f"after upgrading from version {version}: "
            )
        return self._check_time(record, window)

    def dead_letter(
        self, raw: bytes | None, source: SourceCoords, rejection: Rejection, *, now: datetime
    ) -> DeadLetter:
        """The dead letter for a rejected value. Never raises, and always carries `raw` and the
        source coordinates: every text the input can fill is bounded first (the detail, the
        field path, the key), so only a bug can fail validation, and then the letter becomes a
        valid `internal_error` one under the same id."""
        letter_id = dead_letter_id_for(source.topic, source.partition, source.offset)
        try:
            return self._letter(letter_id, raw, source, rejection, now, source.topic)
        except Exception as exc:
            failure = Rejection(
                ErrorCategory.INTERNAL_ERROR,
                f"could not build the dead letter ({exc!r}"[:1000]
                + f"); original rejection: {rejection.category}: {rejection.detail}",
            )
            try:  # e.g. a topic name longer than Kafka allows (a caller bug): say so, cut it
                topic = truncate(str(source.topic), MAX_TOPIC_CHARS)
                return self._letter(letter_id, raw, source, failure, now, topic)
            except Exception:  # unusable coordinates (a caller bug): keep the bytes regardless
                return DeadLetter.model_construct(
                    schema_version=DeadLetter.SCHEMA_VERSION,
                    dead_letter_id=letter_id,
                    record_type=self.record_type.__name__,
                    category=ErrorCategory.INTERNAL_ERROR,
                    field=None,
                    detail=truncate(failure.detail),
                    value=raw,
                    source=KafkaSource.model_construct(
                        topic=str(source.topic), partition=-1, offset=-1, key=None
                    ),
                    dead_lettered_at=now,
                    dead_lettered_by=self.worker_id,
                )

    def _letter(
        self,
        letter_id: str,
        raw: bytes | None,
        source: SourceCoords,
        rejection: Rejection,
        now: datetime,
        topic: str,
    ) -> DeadLetter:
        field = rejection.field
        return DeadLetter(
            dead_letter_id=letter_id,
            record_type=self.record_type.__name__,
            category=rejection.category,
            field=None if field is None else truncate(field, MAX_FIELD_CHARS),
            detail=truncate(rejection.detail),
            value=raw,
            source=KafkaSource(
                topic=topic,
                partition=source.partition,
                offset=source.offset,
                timestamp_ms=source.timestamp_ms,
                **bounded_key(source.key)._asdict(),
            ),
            dead_lettered_at=now,
            dead_lettered_by=self.worker_id,
        )


# -- helpers for the failure path and the options --------------------------------------------


def _internal_error(exc: Exception) -> Rejection:
    return Rejection(ErrorCategory.INTERNAL_ERROR, f"codec failure: {exc!r}"[:500])


def declared_version(raw: bytes) -> int | None:
    """The integer `schema_version` a JSON object declares, if any (failure path only)."""
    try:
        data = pydantic_core.from_json(raw)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    version = data.get("schema_version")
    if isinstance(version, int) and not isinstance(version, bool) and version >= 1:
        return version
    return None


# A JSON string (escapes included) or one bracket; strings are matched whole so brackets inside
# them do not count.
_STRUCTURE = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')
_OPENERS = frozenset(b"[{")


def nesting_depth(raw: bytes, *, stop_above: int) -> int:
    """Deepest bracket nesting in `raw`, stopping early once it exceeds `stop_above`."""
    if raw.find(b"[") < 0 and raw.count(b"{") <= 1:
        return 1
    depth = deepest = 0
    for match in _STRUCTURE.finditer(raw):
        token = match.group()
        if len(token) != 1:
            continue
        if token[0] in _OPENERS:
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > stop_above:
                    break
        else:
            depth -= 1
    return deepest


def first_duplicate_key(raw: bytes) -> str | None:
    """The first key repeated within one object anywhere in `raw` (valid JSON), else None."""
    found: list[str] = []

    def check_pairs(pairs: list[tuple[str, Any]]) -> None:
        if not found:
            seen: set[str] = set()
            for key, _ in pairs:
                if key in seen:
                    found.append(key)
                    break
                seen.add(key)

    try:
        json.loads(raw, object_pairs_hook=check_pairs)
    except ValueError:  # input jiter accepted but Python's json does not: no verdict
        return None
    return found[0] if found else None


# -- the transaction edge and the generic helpers ----------------------------------------------


@functools.lru_cache(maxsize=16)
def transaction_decoder(
    worker_id: str, limits: DecodeLimits = DEFAULT_LIMITS
) -> Decoder[Transaction]:
    """The decoder for fraud.transactions.v1 (cached per worker id and limits)."""
    return Decoder(
        Transaction,
        worker_id=worker_id,
        limits=limits,
        upgrades=TRANSACTION_UPGRADES,
        event_time=operator.attrgetter("event_time"),
    )


def decode_transaction(
    raw: bytes | None,
    source: SourceCoords,
    *,
    now: datetime,
    worker_id: str,
    limits: DecodeLimits = DEFAULT_LIMITS,
) -> Transaction | DeadLetter:
    """Decode one value of fraud.transactions.v1. Never raises for any `raw`."""
    return transaction_decoder(worker_id, limits).decode(raw, source, now=now)


_NO_CLOCK = datetime(1970, 1, 1, tzinfo=UTC)  # decoders without an event-time window ignore it


@functools.lru_cache(maxsize=64)
def _plain_decoder(record_type: type[Record], limits: DecodeLimits) -> Decoder[Record]:
    return Decoder(record_type, worker_id="decode_record", limits=limits)


def decode_record(
    record_type: type[R], raw: bytes | None, *, limits: DecodeLimits = DEFAULT_LIMITS
) -> R:
    """Decode a record of an internal topic, raising RecordRejected (same categories as a dead
    letter) instead of returning one. No event-time window."""
    result = _plain_decoder(record_type, limits).check(raw, now=_NO_CLOCK)
    if isinstance(result, Rejection):
        raise RecordRejected(result.category, result.detail, result.field)
    return cast(R, result)  # the cached decoder was built for this very type


def encode_record(record: Record) -> bytes:
    """The record as compact JSON bytes (what `model_dump_json` gives, without a str copy)."""
    return record.__pydantic_serializer__.to_json(record)


def encode_dead_letter(dead_letter: DeadLetter) -> bytes:
    """A dead letter as JSON bytes; the original value is base64url inside `value`."""
    return encode_record(dead_letter)


def raw_sha256(raw: bytes | None) -> str:
    """sha256 (hex) of a raw value as logged in ScoringLogRecord.raw_sha256 (b'' for null)."""
    return hashlib.sha256(raw or b"").hexdigest()
