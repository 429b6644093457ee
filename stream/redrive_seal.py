"""Re-drive copies the audit can tell from forgeries: an HMAC only the audit can make.

Any producer can set headers, so a bare `fraudstream-redrive-of` header proves nothing: an audit
that believed it would leave the record out of its input count, and a producer (or a bug) could
hide any input by naming some other input as its "original". So the audit seals every copy it
produces with HMAC-SHA256 under its own key (FRAUD_AUDIT__REDRIVE_KEY) over what the copy
claims (the original's topic, partition and offset, the attempt) and what it is (the partition it
went to, digests of its key and value). A record whose claim does not verify is an ordinary input
and needs its own outcome.

A byte-for-byte repeat of a genuine copy in the same partition verifies too: it carries only the
original's bytes, which the audit checks anyway, so it can hide nothing.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import replace

from stream.redrive import Headers, Provenance, provenance, redrive_of

REDRIVE_SEAL_HEADER = "fraudstream-redrive-seal"
"""On a re-driven input: hex HMAC-SHA256 of the claim and the copy (see `seal`)."""

_DOMAIN = b"fraudstream-redrive-seal/1"


def seal(
    key: bytes,
    original: tuple[str, int, int],
    attempt: int,
    partition: int,
    record_key: bytes | None,
    value: bytes | None,
) -> bytes:
    """The seal of a copy of `original` (topic, partition, offset), written to `partition`."""
    topic, original_partition, original_offset = original
    # Topic names cannot hold a NUL; the numbers are decimal: the message is unambiguous.
    claim = f"{original_partition}/{original_offset}/{attempt}/{partition}".encode()
    return domain_seal(key, _DOMAIN, topic.encode(), claim, digest(record_key), digest(value))


def domain_seal(key: bytes, domain: bytes, *parts: bytes) -> bytes:
    """Hex HMAC-SHA256 of `parts` under `key`, bound to `domain`: a seal made for one purpose
    (a re-drive, an online decision) never verifies as another's, even under the same key.
    Parts must hold no NUL (digests, decimal numbers, topic names)."""
    message = b"\0".join((domain, *parts))
    return hmac.new(key, message, hashlib.sha256).hexdigest().encode()


def sealed_redrive_headers(
    key: bytes,
    original: tuple[str, int, int],
    attempt: int,
    record_key: bytes | None,
    value: bytes | None,
) -> tuple[tuple[str, bytes], ...]:
    """The headers of a copy the audit produces; a copy goes to its original's partition."""
    topic, partition, offset = original
    mark = seal(key, original, attempt, partition, record_key, value)
    return (*redrive_of(topic, partition, offset, attempt), (REDRIVE_SEAL_HEADER, mark))


def verified_provenance(
    headers: Headers | None,
    key: bytes | None,
    partition: int,
    record_key: bytes | None,
    value: bytes | None,
) -> Provenance:
    """What the headers say, with a re-drive claim kept only if its seal verifies under `key`.

    Without a key nothing verifies: every claim is then unverified, so no input is left out.
    """
    claimed = provenance(headers)
    target = claimed.redrive_of
    if target is None:
        return claimed
    given = next(
        (v for name, v in headers or () if name == REDRIVE_SEAL_HEADER and v is not None), None
    )
    if key is not None and given is not None:
        expected = seal(key, target, claimed.redrive_attempt, partition, record_key, value)
        if hmac.compare_digest(expected, given):
            return claimed
    return replace(claimed, redrive_of=None, redrive_attempt=0, unverified_redrive=True)


def digest(data: bytes | None) -> bytes:
    # A missing key or value is not the same as an empty one.
    return b"-" if data is None else hashlib.sha256(data).hexdigest().encode()
