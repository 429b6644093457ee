"""Dead letters: reading them, and replaying chosen ones to the input topic exactly once.

A replay re-produces the original key and bytes to the original partition (`stream.redrive`)
with a `fraudstream-replay-of: <dead_letter_id>` header. Why that cannot create a duplicate
downstream: a dead-lettered input never produced a decision, so its copy's decision is the
first for that transaction; a copy replayed twice would be recognised by the card state as
already applied and decided again under the same decision id (derived from the transaction
id), which consumers drop. The replay ledger keeps even that from happening: before replaying,
the tool reads the compacted ledger topic and skips every dead letter it names; after each
copy is delivered, it records the copy there.

The ledger is a topic rather than a file under var/ because replays are run by whoever is on
call, from whichever machine: a local file would let a second operator (or the same one after
a reinstall) replay the same dead letters again. The order is produce, then record: a crash in
between leaves a copy without a ledger entry (a later replay makes a second copy, which the
decision id absorbs), never an entry without a copy (which would hide a dead letter for good).

Before replaying, each dead letter is checked with the current codec and the worker's key rule:
one that would be dead-lettered again is skipped and reported, unless forced.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from confluent_kafka import KafkaError, Message

from schemas import (
    DeadLetter,
    DeadLetterReplay,
    DecodeLimits,
    Decoder,
    KafkaSource,
    RecordRejected,
    Transaction,
    decode_record,
    encode_record,
)
from schemas.rejection import Rejection
from stream.decision_path.intake import input_decoder, key_rejection
from stream.kafka_clients import new_producer
from stream.redrive import Copy, Redriver, replay_of
from stream.settings import Settings
from stream.topic_scan import scan

REPLAY_ACTOR = "dlq-replay"


class DlqError(Exception):
    """A dead letter could not be found, replayed or recorded."""


@dataclass(frozen=True)
class StoredDeadLetter:
    """A dead letter and where it sits in the dead-letter topic."""

    letter: DeadLetter
    partition: int
    offset: int

    @property
    def size(self) -> int:
        return len(self.letter.value or b"")


def read_dead_letters(
    bootstrap: str, topic: str, since: datetime | None = None, timeout_s: float = 120.0
) -> tuple[list[StoredDeadLetter], int]:
    """Every dead letter in `topic` (dead-lettered at or after `since`), each id once; and how
    many records could not be read as dead letters."""
    since_ms = None if since is None else int(since.timestamp() * 1000)
    letters: dict[str, StoredDeadLetter] = {}
    unreadable = 0
    for record in scan(bootstrap, topic, since_ms, timeout_s):
        try:
            letter = decode_record(DeadLetter, record.value, limits=DEAD_LETTER_LIMITS)
        except RecordRejected:
            unreadable += 1
            continue
        # A worker that re-processes an input after a crash writes its dead letter again.
        letters.setdefault(
            letter.dead_letter_id, StoredDeadLetter(letter, record.partition, record.offset)
        )
    return sorted(letters.values(), key=_when), unreadable


# Dead letters hold inputs up to 1 MB, base64-encoded (see stream.topics).
DEAD_LETTER_LIMITS = DecodeLimits(max_bytes=4 * 1024 * 1024)


def _when(stored: StoredDeadLetter) -> tuple[datetime, int, int]:
    return stored.letter.dead_lettered_at, stored.partition, stored.offset


def select(
    letters: Iterable[StoredDeadLetter],
    categories: Iterable[str] = (),
    ids: Iterable[str] = (),
) -> list[StoredDeadLetter]:
    """The dead letters of any of `categories` and with any of `ids` (empty: no restriction)."""
    wanted_categories, wanted_ids = set(categories), set(ids)
    return [
        s
        for s in letters
        if (not wanted_categories or s.letter.category.value in wanted_categories)
        and (not wanted_ids or s.letter.dead_letter_id in wanted_ids)
    ]


def read_ledger(bootstrap: str, topic: str, timeout_s: float = 60.0) -> dict[str, DeadLetterReplay]:
    """dead_letter_id → its replay, from the ledger topic (the newest record per id)."""
    ledger: dict[str, DeadLetterReplay] = {}
    for record in scan(bootstrap, topic, timeout_s=timeout_s):
        try:
            entry = decode_record(DeadLetterReplay, record.value)
        except RecordRejected:
            continue  # not a ledger record: it cannot vouch for any replay
        ledger[entry.dead_letter_id] = entry
    return ledger


# -- deciding what to replay -----------------------------------------------------------------


def revalidation_decoder(settings: Settings) -> Decoder[Transaction]:
    """The codec as the worker builds it from the same settings."""
    return input_decoder(settings, REPLAY_ACTOR)


def revalidate(
    letter: DeadLetter, decoder: Decoder[Transaction], now: datetime
) -> Rejection | None:
    """Why the worker would dead-letter this input again today, or None if it would accept it."""
    checked = decoder.check(letter.value, now=now)
    if isinstance(checked, Rejection):
        return checked
    return key_rejection(letter.source.key, checked.card_id)


class Action(StrEnum):
    REPLAY = "replay"
    FORCE = "replay (forced)"  # still invalid, replayed anyway on request
    ALREADY_REPLAYED = "already replayed"
    STILL_INVALID = "still invalid"
    KEY_NOT_KEPT = "key not kept"  # never replayed, even forced: the copy would have another key


@dataclass(frozen=True)
class Candidate:
    stored: StoredDeadLetter
    action: Action
    reason: str = ""

    @property
    def replays(self) -> bool:
        return self.action in (Action.REPLAY, Action.FORCE)


def plan_replay(
    letters: Sequence[StoredDeadLetter],
    ledger: dict[str, DeadLetterReplay],
    decoder: Decoder[Transaction],
    now: datetime,
    force: bool = False,
) -> list[Candidate]:
    """What would happen to each dead letter: the ledger wins over --force, always."""
    plan = []
    for stored in letters:
        entry = ledger.get(stored.letter.dead_letter_id)
        if entry is not None:
            copy = entry.replayed_to
            plan.append(
                Candidate(
                    stored,
                    Action.ALREADY_REPLAYED,
                    f"at {entry.replayed_at.isoformat()} by {entry.replayed_by} "
                    f"as {copy.topic}/{copy.partition}/{copy.offset}",
                )
            )
            continue
        source = stored.letter.source
        if not source.key_is_whole:
            kept = len(source.key or b"")
            reason = f"it keeps the first {kept} of the key's {source.key_length} bytes"
            plan.append(Candidate(stored, Action.KEY_NOT_KEPT, reason))
            continue
        rejection = revalidate(stored.letter, decoder, now)
        if rejection is None:
            plan.append(Candidate(stored, Action.REPLAY))
        else:
            reason = f"{rejection.category.value}: {rejection.detail}"
            plan.append(Candidate(stored, Action.FORCE if force else Action.STILL_INVALID, reason))
    return plan


# -- replaying -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Replayed:
    candidate: Candidate
    copy: KafkaSource | None  # where the copy landed; None if it was not delivered
    error: str | None = None


def replay(
    candidates: Sequence[Candidate],
    bootstrap: str,
    input_topic: str,
    ledger_topic: str,
    actor: str,
    now: datetime,
    timeout_s: float = 30.0,
) -> list[Replayed]:
    """Produce a copy of each candidate that replays, then record the delivered ones."""
    chosen = [c for c in candidates if c.replays]
    if not chosen:
        return []
    redriver = Redriver(bootstrap, input_topic, actor)
    try:
        results = redriver.send(
            [
                Copy(
                    c.stored.letter.source.partition,
                    c.stored.letter.source.key,
                    c.stored.letter.value,
                    replay_of(c.stored.letter.dead_letter_id),
                )
                for c in chosen
            ],
            timeout_s,
        )
    finally:
        redriver.close()
    replayed = [
        Replayed(
            c,
            KafkaSource(
                topic=input_topic,
                partition=c.stored.letter.source.partition,
                offset=result,
                key=c.stored.letter.source.key,
            ),
        )
        if isinstance(result, int)
        else Replayed(c, None, result)
        for c, result in zip(chosen, results, strict=True)
    ]
    _record(replayed, bootstrap, ledger_topic, actor, now, timeout_s)
    return replayed


def _record(
    replayed: Sequence[Replayed],
    bootstrap: str,
    ledger_topic: str,
    actor: str,
    now: datetime,
    timeout_s: float,
) -> None:
    producer = new_producer(bootstrap, {"enable.idempotence": True, "acks": "all"})
    errors: list[str] = []

    def delivered(error: KafkaError | None, _message: Message) -> None:
        if error is not None:
            errors.append(str(error))

    for result in replayed:
        if result.copy is None:
            continue
        letter = result.candidate.stored.letter
        entry = DeadLetterReplay(
            dead_letter_id=letter.dead_letter_id,
            category=letter.category,
            source=letter.source,
            replayed_to=result.copy,
            replayed_at=now,
            replayed_by=actor,
            forced=result.candidate.action is Action.FORCE,
        )
        producer.produce(
            ledger_topic,
            key=letter.dead_letter_id.encode(),
            value=encode_record(entry),
            on_delivery=delivered,
        )
    left = producer.flush(timeout_s)
    if left or errors:
        raise DlqError(
            f"copies were produced but {left + len(errors)} ledger records were not written "
            f"({errors[:3]}): replaying these dead letters again would make second copies"
        )
