"""Re-drive claims count only with the audit's seal: forged or altered copies are inputs."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from stream.audit.runner import audit_config
from stream.audit.tracking import OutcomeTracker, TrackerConfig, Verdict
from stream.redrive import PLAIN, REDRIVE_ATTEMPT_HEADER, Headers, redrive_of
from stream.redrive_seal import REDRIVE_SEAL_HEADER, sealed_redrive_headers, verified_provenance
from stream.settings import AuditSettings, Settings

TOPIC = "fraud.tx.v1"
KEY = b"k" * 32
ORIGINAL = (TOPIC, 3, 1042)
RECORD_KEY = b"card-17"
VALUE = b'{"transaction_id": "T1"}'


def sealed(attempt: int = 1) -> Headers:
    return sealed_redrive_headers(KEY, ORIGINAL, attempt, RECORD_KEY, VALUE)


def with_header(headers: Headers, name: str, value: bytes) -> Headers:
    return tuple((n, value if n == name else v) for n, v in headers)


def test_a_copy_sealed_by_the_audit_is_recognised() -> None:
    origin = verified_provenance(sealed(attempt=2), KEY, 3, RECORD_KEY, VALUE)
    assert origin.redrive_of == ORIGINAL
    assert origin.redrive_attempt == 2
    assert not origin.unverified_redrive


def test_a_bare_redrive_header_is_unverified() -> None:
    origin = verified_provenance(redrive_of(TOPIC, 3, 1042, 1), KEY, 3, RECORD_KEY, VALUE)
    assert origin.redrive_of is None
    assert origin.redrive_attempt == 0
    assert origin.unverified_redrive


@pytest.mark.parametrize(
    ("what", "headers", "partition", "record_key", "value"),
    [
        ("another value", sealed(), 3, RECORD_KEY, b'{"transaction_id": "T2"}'),
        ("no value", sealed(), 3, RECORD_KEY, None),
        ("an empty value", sealed(), 3, RECORD_KEY, b""),
        ("another key", sealed(), 3, b"card-18", VALUE),
        ("no key", sealed(), 3, None, VALUE),
        ("another partition", sealed(), 0, RECORD_KEY, VALUE),
        (
            "another original",
            with_header(sealed(), "fraudstream-redrive-of", f"{TOPIC}/3/1041".encode()),
            3,
            RECORD_KEY,
            VALUE,
        ),
        (
            "another attempt",
            with_header(sealed(), REDRIVE_ATTEMPT_HEADER, b"2"),
            3,
            RECORD_KEY,
            VALUE,
        ),
        (
            "a damaged seal",
            with_header(sealed(), REDRIVE_SEAL_HEADER, b"00" * 32),
            3,
            RECORD_KEY,
            VALUE,
        ),
    ],
)
def test_a_genuine_seal_on_anything_else_is_unverified(
    what: str, headers: Headers, partition: int, record_key: bytes | None, value: bytes | None
) -> None:
    origin = verified_provenance(headers, KEY, partition, record_key, value)
    assert origin.unverified_redrive, what
    assert origin.redrive_of is None, what


def test_a_seal_under_another_key_or_no_key_is_unverified() -> None:
    assert verified_provenance(sealed(), b"x" * 32, 3, RECORD_KEY, VALUE).unverified_redrive
    assert verified_provenance(sealed(), None, 3, RECORD_KEY, VALUE).unverified_redrive


def test_inputs_without_a_redrive_claim_pass_unchanged() -> None:
    assert verified_provenance((), KEY, 0, None, None) is PLAIN
    replayed = verified_provenance((("fraudstream-replay-of", b"dl-1"),), KEY, 0, RECORD_KEY, VALUE)
    assert replayed.replay_of == "dl-1"
    assert not replayed.unverified_redrive


def test_a_forged_copy_is_an_input_awaiting_its_own_outcome() -> None:
    tracker = OutcomeTracker(
        TrackerConfig(
            input_topic=TOPIC,
            grace_ms=1_000,
            max_redrives=2,
            window_ms=10_000,
            window_max_inputs=1_000,
            max_outcomes=1_000,
        )
    )
    assert tracker.add_input(3, 1042, 100, "T1", now_ms=0) is Verdict.PENDING
    forged = verified_provenance(redrive_of(TOPIC, 3, 1042, 1), KEY, 3, RECORD_KEY, VALUE)
    assert tracker.add_input(3, 1050, 200, "T9", now_ms=0, origin=forged) is Verdict.PENDING
    genuine = verified_provenance(sealed(), KEY, 3, RECORD_KEY, VALUE)
    assert tracker.add_input(3, 1051, 300, "T1", now_ms=0, origin=genuine) is Verdict.COPY
    window = tracker.windows[0]
    assert (window.inputs, window.copies, tracker.pending) == (2, 1, 2)
    assert sorted(p.offset for p in tracker.take_due(until_ms=1_000)) == [1042, 1050]


def test_the_audit_key_comes_from_its_own_setting_else_a_random_one_per_process() -> None:
    configured = Settings(audit=AuditSettings(redrive_key=SecretStr("a" * 16)))
    assert audit_config(configured).redrive_key == b"a" * 16
    first, second = audit_config(Settings()), audit_config(Settings())
    assert len(first.redrive_key) == 32
    assert first.redrive_key != second.redrive_key
    assert "redrive_key" not in repr(first)
    with pytest.raises(ValueError, match="at least 16"):
        AuditSettings(redrive_key=SecretStr("short"))
