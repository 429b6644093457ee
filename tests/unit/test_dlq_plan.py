"""Which dead letters a replay would re-produce: the current codec, the key rule, the ledger."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from schemas import DeadLetter, DeadLetterReplay, ErrorCategory, KafkaSource, SourceCoords, examples
from schemas.codec import encode_record
from schemas.rejection import Rejection
from stream.dlq import (
    Action,
    StoredDeadLetter,
    plan_replay,
    revalidate,
    revalidation_decoder,
    select,
)
from stream.settings import Settings

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
TOPIC = "fraud.transactions.v1"


def settings() -> Settings:
    return Settings(max_future_skew_s=60)


def dead_letter(raw: bytes, key: bytes | None, offset: int) -> StoredDeadLetter:
    """The dead letter the worker writes for this input at NOW (the card stage's key rule
    included, which the codec alone does not apply)."""
    decoder = revalidation_decoder(settings())
    source = SourceCoords(TOPIC, 1, offset, key, 0)
    decoded = decoder.decode(raw, source, now=NOW)
    if isinstance(decoded, DeadLetter):
        return StoredDeadLetter(decoded, partition=0, offset=offset)
    mismatch = Rejection(ErrorCategory.KEY_MISMATCH, "the key is not the card_id", "card_id")
    return StoredDeadLetter(decoder.dead_letter(raw, source, mismatch, now=NOW), 0, offset)


def transaction(**changes: object) -> bytes:
    data = json.loads(encode_record(examples.transaction()))
    return json.dumps(data | changes).encode()


def test_a_future_timestamp_becomes_replayable_once_its_time_has_come() -> None:
    event_time = NOW + timedelta(minutes=5)
    stored = dead_letter(transaction(event_time=event_time.isoformat()), b"card-42", 1)
    assert stored.letter.category.value == "future_timestamp"
    decoder = revalidation_decoder(settings())
    assert revalidate(stored.letter, decoder, NOW) is not None
    assert revalidate(stored.letter, decoder, event_time - timedelta(seconds=30)) is None


def test_the_key_rule_is_checked_too() -> None:
    stored = dead_letter(transaction(), b"another-card", 2)
    rejection = revalidate(stored.letter, revalidation_decoder(settings()), NOW)
    assert rejection is not None
    assert rejection.category.value == "key_mismatch"


def test_plan_skips_invalid_unless_forced_and_never_replays_twice() -> None:
    good = dead_letter(
        transaction(event_time=(NOW + timedelta(minutes=5)).isoformat()), b"card-42", 1
    )
    bad = dead_letter(b"not json", b"card-42", 2)
    done = dead_letter(transaction(), b"another-card", 3)
    later = NOW + timedelta(minutes=5)
    ledger = {done.letter.dead_letter_id: replay_entry(done)}
    decoder = revalidation_decoder(settings())

    plan = plan_replay([good, bad, done], ledger, decoder, later)
    assert [c.action for c in plan] == [
        Action.REPLAY,
        Action.STILL_INVALID,
        Action.ALREADY_REPLAYED,
    ]
    assert plan[1].reason.startswith("not_json")
    assert "3/17" in plan[2].reason  # where the earlier copy went

    forced = plan_replay([good, bad, done], ledger, decoder, later, force=True)
    assert [c.action for c in forced] == [Action.REPLAY, Action.FORCE, Action.ALREADY_REPLAYED]
    assert [c.replays for c in forced] == [True, True, False]


def test_select_by_category_and_id() -> None:
    a = dead_letter(b"not json", b"k", 1)
    b = dead_letter(b"[1]", b"k", 2)
    assert select([a, b], categories=["not_object"]) == [b]
    assert select([a, b], ids=[a.letter.dead_letter_id]) == [a]
    assert select([a, b]) == [a, b]


def replay_entry(stored: StoredDeadLetter) -> DeadLetterReplay:
    letter = stored.letter
    return DeadLetterReplay(
        dead_letter_id=letter.dead_letter_id,
        category=letter.category,
        source=letter.source,
        replayed_to=KafkaSource(topic=TOPIC, partition=3, offset=17),
        replayed_at=NOW,
        replayed_by="alice@example.com",
        forced=False,
    )


def test_a_letter_that_keeps_only_the_start_of_its_key_is_never_replayed() -> None:
    stored = dead_letter(transaction(), b"k" * 5000, 4)
    assert not stored.letter.source.key_is_whole
    decoder = revalidation_decoder(settings())
    for force in (False, True):
        (candidate,) = plan_replay([stored], {}, decoder, NOW, force)
        assert candidate.action is Action.KEY_NOT_KEPT
        assert not candidate.replays
        assert "1024 of the key's 5000 bytes" in candidate.reason
