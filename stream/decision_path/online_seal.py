"""The decision an online request made, carried on its input record and sealed.

POST /v1/score decides a transaction at request time and publishes it to the input topic with
that decision in a header: the stream then emits exactly that decision instead of deciding the
record again (on a clock and a merchant view that moved on, the answer could differ from what
the caller was told). Any producer can set headers, so the header only counts with a seal: an
HMAC under FRAUD_API_DECISION_KEY over what it claims (the decision, its card-state record, its
scoring log) and what it rides on (topic, partition, digests of key and value). A record whose
seal does not verify is decided like any other input.

The HMAC is the re-drive seal's (`stream.redrive_seal.domain_seal`) with its own domain, so a
re-drive seal can never pass as a decision seal, nor the reverse.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from typing import NamedTuple

from stream.redrive_seal import digest, domain_seal
from stream.settings import Settings

DECISION_HEADER = "fraudstream-online-decision"
"""On an input published by POST /v1/score: the decision made (see `Carried`)."""
SEAL_HEADER = "fraudstream-online-seal"
"""Hex HMAC-SHA256 of the carried decision and the record it rides on."""

_DOMAIN = b"fraudstream-online-decision/1"
# Public (it is in this repository): accepted only where the package signing key's development
# default is (FRAUD_ALLOW_DEV_SIGNING_KEY=true: demos and tests).
DEV_DECISION_KEY = b"fraudstream-dev-online-decision-key"


class Carried(NamedTuple):
    """What the stream emits for a record decided online. orjson writes no raw newline, so the
    JSON documents travel newline-separated."""

    decision: bytes  # the fraud.decisions.v1 value the caller was answered with
    record: bytes  # what the card state keeps of it (deciding.decision_record)
    log: bytes  # the fraud.scoring-log.v1 value, its `source` still to be filled in
    # The window totals of the merchant's partial of the record's partition that the decision
    # summed (overlay included), as a JSON array: the stage checks its own partial against it.
    own_sums: bytes

    def encode(self) -> bytes:
        return b"\n".join(self)

    @classmethod
    def decode(cls, payload: bytes) -> Carried | None:
        parts = payload.split(b"\n")
        return cls(*parts) if len(parts) == 4 else None


class CarriedAt(NamedTuple):
    """A verified carried decision, as the stage applies it."""

    carried: Carried
    # The watermark of the record's partition's merchant partial the stage holds before the
    # record, when that partial has the totals the decision summed (None: it has not).
    own_watermark: int | None


class Forged(NamedTuple):
    """A decision header whose seal does not verify: ignored, the record decided normally."""

    why: str


def decision_key(settings: Settings) -> bytes | None:
    """The cluster's key for online decisions; None: the online API is off (see settings)."""
    if settings.api_decision_key is not None:
        return settings.api_decision_key.get_secret_value().encode()
    if settings.allow_dev_signing_key:
        return DEV_DECISION_KEY
    return None


def _seal(
    key: bytes, topic: str, partition: int, record_key: bytes, value: bytes, payload: bytes
) -> bytes:
    where = str(partition).encode()
    return domain_seal(
        key, _DOMAIN, topic.encode(), where, digest(record_key), digest(value), digest(payload)
    )


def sealed_headers(
    key: bytes, topic: str, partition: int, record_key: bytes, value: bytes, carried: Carried
) -> list[tuple[str, bytes]]:
    payload = carried.encode()
    mark = _seal(key, topic, partition, record_key, value, payload)
    return [(DECISION_HEADER, payload), (SEAL_HEADER, mark)]


def carried_decision(
    headers: Iterable[tuple[str, bytes | None]] | None,
    key: bytes | None,
    topic: str,
    partition: int,
    record_key: bytes,
    value: bytes,
) -> Carried | Forged | None:
    """The decision a record carries if its seal verifies; Forged if it claims one that does
    not; None if it claims none. Without a key nothing verifies."""
    payload = given = None
    for name, header_value in headers or ():
        if name == DECISION_HEADER:
            payload = header_value
        elif name == SEAL_HEADER:
            given = header_value
    if payload is None:
        return None
    if key is None:
        return Forged("no FRAUD_API_DECISION_KEY configured")
    if given is None:
        return Forged("no seal")
    if not hmac.compare_digest(_seal(key, topic, partition, record_key, value, payload), given):
        return Forged("the seal does not verify")
    carried = Carried.decode(payload)
    return carried if carried is not None else Forged("malformed payload")
