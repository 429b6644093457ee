"""Reading ids out of records cheaply, provenance headers, and the bounded outcome index."""

from __future__ import annotations

import pytest

from schemas import examples
from schemas.codec import encode_dead_letter, encode_record
from stream.audit.matching import (
    OutcomeIndex,
    dead_letter_source,
    decision_ids,
    transaction_id_of,
)
from stream.redrive import (
    PLAIN,
    REDRIVE_OF_HEADER,
    header_pairs,
    provenance,
    redrive_of,
    replay_of,
)

LIMIT = 65_536


def test_transaction_id_of_a_transaction() -> None:
    raw = encode_record(examples.transaction())
    assert transaction_id_of(raw, LIMIT) == "tx-000001"


def test_transaction_id_the_worker_would_read_when_the_key_repeats() -> None:
    # Nested and duplicated keys take the full parse: the top-level, last value wins.
    nested = b'{"meta": {"transaction_id": "inner"}, "transaction_id": "outer"}'
    assert transaction_id_of(nested, LIMIT) == "outer"
    duplicated = b'{"transaction_id": "first", "transaction_id": "second"}'
    assert transaction_id_of(duplicated, LIMIT) == "second"


def test_transaction_id_with_spaces_and_escapes() -> None:
    assert transaction_id_of(b'{ "transaction_id" :  "tx-9" }', LIMIT) == "tx-9"
    escaped = b'{"transaction\\u005fid": "tx-7"}'
    assert transaction_id_of(escaped, LIMIT) == "tx-7"


@pytest.mark.parametrize(
    "raw",
    [
        None,
        b"",
        b"\xff\xfe garbage",
        b"[1, 2]",
        b'{"transaction_id": 12}',
        b'{"transaction_id": "has space"}',
        b'{"transaction_id": "' + b"x" * 65 + b'"}',
        b'{"card_id": "c"}',
    ],
)
def test_no_transaction_id(raw: bytes | None) -> None:
    assert transaction_id_of(raw, LIMIT) is None


def test_inputs_over_the_limit_are_not_parsed() -> None:
    raw = encode_record(examples.transaction())
    assert transaction_id_of(raw, len(raw) - 1) is None


def test_decision_ids() -> None:
    decision = examples.decision()
    ids = decision_ids(encode_record(decision))
    assert ids is not None
    assert (ids.transaction_id, ids.decision_id) == (decision.transaction_id, decision.decision_id)
    assert decision_ids(b'{"decision_id": "d"}') is None
    assert decision_ids(b"not json") is None


def test_dead_letter_source_only_for_the_input_topic() -> None:
    letter = examples.dead_letter()
    raw = encode_dead_letter(letter)
    assert dead_letter_source(raw, examples.TOPIC) == (3, 1043)
    assert dead_letter_source(raw, "another.topic") is None
    assert (
        dead_letter_source(b'{"source": {"topic": "t", "partition": -1, "offset": -1}}', "t")
        is None
    )


def test_provenance_headers_round_trip() -> None:
    copy = provenance(redrive_of("fraud.tx.v1", 3, 1042, attempt=2))
    assert copy.redrive_of == ("fraud.tx.v1", 3, 1042)
    assert copy.redrive_attempt == 2
    replayed = provenance(replay_of("dl-1"))
    assert replayed.replay_of == "dl-1"
    assert replayed.redrive_of is None
    assert provenance(None) is PLAIN
    assert provenance((("other", b"x"),)) is PLAIN


def test_malformed_provenance_counts_as_plain() -> None:
    for value in (b"no-slashes", b"topic/x/1", b"/1/2", b"topic/1/"):
        assert provenance(((REDRIVE_OF_HEADER, value),)) is PLAIN


def test_header_pairs_from_either_client_form() -> None:
    assert header_pairs([("a", "text"), ("b", None)]) == (("a", b"text"), ("b", None))
    assert header_pairs({"a": b"x"}) == (("a", b"x"),)
    assert header_pairs(None) == ()


def test_repeated_decision_is_counted_on_its_entry() -> None:
    index = OutcomeIndex(max_entries=10)
    first = index.add_decision("tx-1", "d-1", 1_000)
    again = index.add_decision("tx-1", "d-1", 2_000)
    assert first is again
    assert again.copies == 2
    assert again.timestamp_ms == 1_000  # the first copy's time decides when it expires


def test_dead_letters_are_recognised_once() -> None:
    index = OutcomeIndex(max_entries=10)
    assert index.add_dead_letter((0, 5), 1_000) is True
    assert index.add_dead_letter((0, 5), 1_500) is False


def test_expire_drops_what_is_older_than_the_cutoff() -> None:
    index = OutcomeIndex(max_entries=10)
    index.add_decision("tx-1", "d-1", 1_000)
    index.add_decision("tx-2", "d-2", 2_000)
    index.add_dead_letter((1, 1), 1_500)
    index.add_dead_letter((1, 2), 2_500)
    assert index.expire(before_ms=2_000) == 2
    assert set(index.decisions) == {"tx-2"}
    assert set(index.dead_letters) == {(1, 2)}
    assert index.expire(before_ms=2_000) == 0


def test_max_entries_evicts_the_oldest_of_either_kind() -> None:
    index = OutcomeIndex(max_entries=3)
    index.add_decision("tx-1", "d-1", 1_000)
    index.add_dead_letter((0, 1), 500)
    index.add_decision("tx-2", "d-2", 2_000)
    index.add_dead_letter((0, 2), 3_000)  # over the limit: the dead letter at 500 ms goes
    assert len(index) == 3
    assert (0, 1) not in index.dead_letters
    index.add_decision("tx-3", "d-3", 4_000)  # then the decision at 1000 ms
    assert "tx-1" not in index.decisions
    assert index.evicted == 2
