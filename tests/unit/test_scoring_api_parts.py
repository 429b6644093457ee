"""Parts of the online scoring API that need no broker: the decision seal, the overlay, the
read-only peek, deciding at request time, and the stage emitting a carried decision."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path

import orjson
import pytest

from models.features import FEATURE_NAMES, facts_from_transaction
from models.scoring import open_package
from schemas import Decision, ScoringLogRecord, Transaction
from stream.cli.score_cli import read_transactions
from stream.decision_path.api_routing import card_partition
from stream.decision_path.deciding import Champion
from stream.decision_path.metrics import StreamMetrics
from stream.decision_path.online import OnlineDecider, Request
from stream.decision_path.online_seal import (
    DECISION_HEADER,
    SEAL_HEADER,
    Carried,
    Forged,
    carried_decision,
    sealed_headers,
)
from stream.decision_path.overlay import Entry, Overlay
from stream.engine.state_stores import DictStore
from stream.redrive_seal import REDRIVE_SEAL_HEADER, sealed_redrive_headers
from stream.settings import Settings
from tests.support.model_builds import TEST_KEY, build_small, small_world
from tests.support.stage_doubles import InMemoryStage, in_memory_stage
from tests.support.stream_setup import simulated_events

SETTINGS = Settings()
TOPIC = SETTINGS.topics.transactions
KEY = b"k" * 32
COUNT_1H = FEATURE_NAMES.index("card_count_1h")


@pytest.fixture(scope="module")
def champion(tmp_path_factory: pytest.TempPathFactory) -> Champion:
    root: Path = tmp_path_factory.mktemp("online-package")
    package = build_small(small_world(root), root / "registry")
    return Champion(open_package(package, TEST_KEY))


class FakePublisher:
    """Stands for the request producer: records what was published, acknowledges at once
    (or, `late`, only when the test calls the kept `settles`, as a slow broker would)."""

    topic = TOPIC

    def __init__(self, fail: str | None = None, late: bool = False) -> None:
        self.published: list[tuple[bytes, bytes, int, list[tuple[str, bytes]]]] = []
        self.settles: list[Callable[[str | None], None]] = []
        self._fail = fail
        self._late = late

    def publish(
        self,
        key: bytes,
        value: bytes,
        partition: int,
        headers: Sequence[tuple[str, bytes]],
        settle: Callable[[str | None], None],
    ) -> None:
        self.published.append((key, value, partition, list(headers)))
        if self._late:
            self.settles.append(settle)
        else:
            settle(self._fail)


def _online(
    built: InMemoryStage,
    overlay: Overlay,
    publisher: FakePublisher,
    metrics: StreamMetrics | None = None,
) -> OnlineDecider:
    return OnlineDecider(
        built.stage.enricher,
        built.stage.decider,
        overlay,
        publisher,  # type: ignore[arg-type]
        KEY,
        1.0,
        metrics or StreamMetrics(),
    )


def _requests(events: list[tuple[bytes, bytes]], partition: int = 0) -> list[Request]:
    return [
        Request(Transaction.model_validate_json(value), value, partition) for _, value in events
    ]


def _same_card(count: int, seed: int = 11) -> list[tuple[bytes, bytes]]:
    """`count` transactions of one card, a minute apart, in event-time order."""
    (key, value), *_ = simulated_events(seed=seed, limit=1)
    first = json.loads(value)
    events = []
    for i in range(count):
        tx = Transaction.model_validate(first)
        moved = tx.model_copy(
            update={
                "transaction_id": f"{tx.transaction_id}-{i}",
                "event_time": tx.event_time + timedelta(minutes=i),
            }
        )
        events.append((key, moved.model_dump_json().encode()))
    return events


# -- the seal --------------------------------------------------------------------------------


def _carried() -> Carried:
    return Carried(
        b'{"outcome":"APPROVE"}', b'["APPROVE",0.1,[],null,"h"]', b'{"features":{}}', b"[0,0,0,0]"
    )


def test_a_sealed_decision_verifies_only_on_the_record_it_was_made_for() -> None:
    carried = _carried()
    headers = sealed_headers(KEY, TOPIC, 2, b"card", b"value", carried)
    assert carried_decision(headers, KEY, TOPIC, 2, b"card", b"value") == carried
    assert carried_decision([], KEY, TOPIC, 2, b"card", b"value") is None
    for topic, partition, key, value in (
        ("other", 2, b"card", b"value"),
        (TOPIC, 3, b"card", b"value"),
        (TOPIC, 2, b"card2", b"value"),
        (TOPIC, 2, b"card", b"value2"),
    ):
        assert isinstance(carried_decision(headers, KEY, topic, partition, key, value), Forged)
    assert isinstance(carried_decision(headers, b"x" * 32, TOPIC, 2, b"card", b"value"), Forged)
    assert isinstance(carried_decision(headers, None, TOPIC, 2, b"card", b"value"), Forged)
    # Another decision under a genuine seal does not verify.
    swapped = [(DECISION_HEADER, Carried(b"{}", b"[]", b"{}", b"[]").encode()), headers[1]]
    assert isinstance(carried_decision(swapped, KEY, TOPIC, 2, b"card", b"value"), Forged)


def test_a_redrive_seal_under_the_same_key_is_no_decision_seal() -> None:
    payload = _carried().encode()
    redrive = sealed_redrive_headers(KEY, (TOPIC, 2, 7), 1, b"card", b"value")
    seal = next(v for name, v in redrive if name == REDRIVE_SEAL_HEADER)
    replayed = [(DECISION_HEADER, payload), (SEAL_HEADER, seal)]
    assert isinstance(carried_decision(replayed, KEY, TOPIC, 2, b"card", b"value"), Forged)


def test_the_decision_key_policy() -> None:
    from pydantic import SecretStr

    from stream.decision_path.online_seal import DEV_DECISION_KEY, decision_key

    assert decision_key(Settings()) is None
    assert decision_key(Settings(allow_dev_signing_key=True)) == DEV_DECISION_KEY
    configured = Settings(api_decision_key=SecretStr("s" * 16), allow_dev_signing_key=True)
    assert decision_key(configured) == b"s" * 16
    with pytest.raises(ValueError):
        Settings(api_decision_key=SecretStr("short"))


# -- peek and the overlay ----------------------------------------------------------------


def test_peek_writes_nothing_and_equals_what_the_stream_computes(champion: Champion) -> None:
    events = simulated_events(seed=13, limit=40)
    cards, partials = DictStore(), DictStore()
    built = in_memory_stage(champion, cards, partials)
    stage = built.stage
    for offset, (key, value) in enumerate(events[:30]):
        stage.take(value, key, 0, offset, 1_000)
    stage.flush()
    snapshot = (dict(cards.data), dict(partials.data))
    overlay = Overlay()
    peeked = []
    for key, value in events[30:]:
        tx = Transaction.model_validate_json(value)
        peeked.append(
            stage.enricher.peek(
                facts_from_transaction(tx), 0, key, tx.merchant_id.encode(), overlay
            ).features
        )
        assert (dict(cards.data), dict(partials.data)) == snapshot
    # Each alone (nothing between): what the stream computes for it next.
    for (key, value), features in zip(events[30:], peeked, strict=True):
        fresh = in_memory_stage(champion, DictStore(), DictStore())
        for offset, (k, v) in enumerate(events[:30]):
            fresh.stage.take(v, k, 0, offset, 1_000)
        fresh.stage.take(value, key, 0, 30, 1_000)
        assert repr(fresh.stage.pending[-1].features) == repr(features)


def test_two_quick_requests_of_one_card_see_each_other(champion: Champion) -> None:
    events = _same_card(2)
    built = in_memory_stage(champion)
    overlay, publisher = Overlay(), FakePublisher()
    online = _online(built, overlay, publisher)

    async def two() -> list[bytes | None]:
        first = await online.decide(_requests(events[:1]))
        second = await online.decide(_requests(events[1:]))
        return [a.decision for a in first + second]

    answers = asyncio.run(two())
    assert all(answers) and len(publisher.published) == 2 and len(overlay) == 2
    logs = [
        orjson.loads(Carried.decode(dict(h)[DECISION_HEADER]).log)  # type: ignore[union-attr]
        for *_, h in publisher.published
    ]
    assert [log["features"]["card_count_1h"] for log in logs] == [0.0, 1.0]


def test_a_merchant_counts_the_online_transactions_of_its_partition(
    champion: Champion,
) -> None:
    one, two = _same_card(2, seed=17)
    # Another card of the same merchant, on the same partition.
    other = json.loads(two[1])
    other["card_id"] = "other-card"
    built = in_memory_stage(champion)
    publisher = FakePublisher()
    online = _online(built, Overlay(), publisher)
    requests = _requests([one], partition=0) + _requests(
        [(b"other-card", orjson.dumps(other))], partition=0
    )
    asyncio.run(online.decide(requests))
    counts = [
        orjson.loads(Carried.decode(dict(h)[DECISION_HEADER]).log)["features"][  # type: ignore[union-attr]
            "merchant_count_1h"
        ]
        for *_, h in publisher.published
    ]
    assert counts == [0.0, 1.0]


def test_a_batch_sees_its_own_earlier_transactions(champion: Champion) -> None:
    events = _same_card(3)
    built = in_memory_stage(champion)
    publisher = FakePublisher()
    answers = asyncio.run(_online(built, Overlay(), publisher).decide(_requests(events)))
    assert all(a.decision for a in answers)
    counts = [
        orjson.loads(Carried.decode(dict(h)[DECISION_HEADER]).log)["features"][  # type: ignore[union-attr]
            "card_count_1h"
        ]
        for *_, h in publisher.published
    ]
    assert counts == [0.0, 1.0, 2.0]


def test_concurrent_requests_are_decided_together_in_arrival_order(champion: Champion) -> None:
    events = _same_card(3, seed=19)
    built = in_memory_stage(champion)
    publisher = FakePublisher()
    metrics = StreamMetrics()
    online = _online(built, Overlay(), publisher, metrics)

    async def together() -> list[list[bytes | None]]:
        answers = await asyncio.gather(*(online.decide(_requests([e])) for e in events))
        return [[a.decision for a in answer] for answer in answers]

    answers = asyncio.run(together())
    assert [Decision.model_validate_json(a or b"").transaction_id for (a,) in answers] == [
        json.loads(v)["transaction_id"] for _, v in events
    ]
    assert [c.rows for c in built.stage.decider.last_calls] == [3]  # one model call
    # Counted per model here: the stream will emit these decisions without calling it.
    (call,) = built.stage.decider.last_calls
    labels = {"role": call.role, "name": call.model.name, "version": call.model.version}
    scored = metrics.registry.get_sample_value("fraud_model_scored_events_total", labels)
    assert scored == 3.0
    counts = [
        orjson.loads(Carried.decode(dict(h)[DECISION_HEADER]).log)["features"][  # type: ignore[union-attr]
            "card_count_1h"
        ]
        for *_, h in publisher.published
    ]
    assert counts == [0.0, 1.0, 2.0]


def test_a_retry_gets_the_same_decision_and_is_published_once(champion: Champion) -> None:
    events = _same_card(1)
    built = in_memory_stage(champion)
    overlay, publisher = Overlay(), FakePublisher()
    online = _online(built, overlay, publisher)

    async def twice() -> list[bytes | None]:
        first = await online.decide(_requests(events))
        again = await online.decide(_requests(events))
        return [first[0].decision, again[0].decision]

    first, again = asyncio.run(twice())
    assert first == again and first is not None
    assert len(publisher.published) == 1


def test_a_request_and_its_retry_both_wait_for_the_late_acknowledgement(
    champion: Champion,
) -> None:
    events = _same_card(1)
    built = in_memory_stage(champion)
    publisher = FakePublisher(late=True)
    metrics = StreamMetrics()
    online = _online(built, Overlay(), publisher, metrics)

    async def retried_while_in_flight() -> tuple[list[bytes | None], bool]:
        first = asyncio.ensure_future(online.decide(_requests(events)))
        await asyncio.sleep(0.01)
        retry = asyncio.ensure_future(online.decide(_requests(events)))
        await asyncio.sleep(0.01)
        answered_early = first.done() or retry.done()
        (settle,) = publisher.settles
        asyncio.get_running_loop().call_soon_threadsafe(settle, None)
        return [(await first)[0].decision, (await retry)[0].decision], answered_early

    (first, retry), answered_early = asyncio.run(retried_while_in_flight())
    assert not answered_early  # nobody is answered before the broker acknowledged
    assert first is not None and first == retry
    assert len(publisher.published) == 1

    def phase(name: str, stat: str) -> float:
        value = metrics.registry.get_sample_value(
            f"fraud_online_request_phase_seconds_{stat}", {"phase": name}
        )
        assert value is not None
        return value

    assert phase("decided", "count") == phase("acknowledged", "count") == 2
    # The first request waited both 10 ms sleeps for its acknowledgement, the retry one.
    assert phase("acknowledged", "sum") >= 0.03


def test_a_record_never_acknowledged_answers_unavailable_at_the_timeout(
    champion: Champion,
) -> None:
    built = in_memory_stage(champion)
    overlay, publisher = Overlay(), FakePublisher(late=True)
    online = OnlineDecider(
        built.stage.enricher,
        built.stage.decider,
        overlay,
        publisher,  # type: ignore[arg-type]
        KEY,
        0.05,
        StreamMetrics(),
    )
    (answer,) = asyncio.run(online.decide(_requests(_same_card(1))))
    assert answer.decision is None and answer.retry
    assert answer.unavailable is not None and "did not acknowledge" in answer.unavailable
    # Not forgotten: the record may still be written, and a retry must then find it.
    assert len(overlay) == 1


def test_a_failed_publish_is_unavailable_and_leaves_no_overlay(champion: Champion) -> None:
    built = in_memory_stage(champion)
    overlay = Overlay()
    online = _online(built, overlay, FakePublisher(fail="broker down"))
    (answer,) = asyncio.run(online.decide(_requests(_same_card(1))))
    assert answer.decision is None and answer.unavailable == "broker down" and answer.retry
    assert len(overlay) == 0


def test_without_a_key_online_scoring_is_off(champion: Champion) -> None:
    built = in_memory_stage(champion)
    online = OnlineDecider(
        built.stage.enricher,
        built.stage.decider,
        Overlay(),
        FakePublisher(),  # type: ignore[arg-type]
        None,
        1.0,
        StreamMetrics(),
    )
    (answer,) = asyncio.run(online.decide(_requests(_same_card(1))))
    assert answer.decision is None and not answer.retry


# -- the stage and a carried decision -----------------------------------------------------


def _published_then_streamed(
    champion: Champion, tamper: bool = False
) -> tuple[bytes, InMemoryStage, Overlay, Entry | None]:
    """One transaction decided online, then its published record read by the stage."""
    events = _same_card(1)
    overlay, publisher = Overlay(), FakePublisher()
    cards, partials = DictStore(), DictStore()
    # The API and the stage share the tables and the overlay, as in a worker.
    stage_built = in_memory_stage(champion, cards, partials, overlay=overlay, decision_key=KEY)
    online = _online(stage_built, overlay, publisher)
    (answer,) = asyncio.run(online.decide(_requests(events, partition=1)))
    assert answer.decision is not None
    key, value, partition, headers = publisher.published[0]
    entry = next(iter(overlay._by_txid.values()))
    if tamper:
        decision = orjson.loads(answer.decision)
        decision["outcome"] = "APPROVE" if decision["outcome"] != "APPROVE" else "DECLINE"
        forged = Carried(orjson.dumps(decision), b'["APPROVE",0.0,[],null,null]', b"{}", b"[]")
        headers = [(DECISION_HEADER, forged.encode()), headers[1]]
    stage_built.stage.begin_batch()
    stage_built.stage.take(value, key, partition, 17, 2_000_000_000_000, headers)
    stage_built.stage.flush()
    return answer.decision, stage_built, overlay, entry


def test_the_stage_emits_the_carried_decision_without_a_model_call(champion: Champion) -> None:
    answer, built, overlay, _ = _published_then_streamed(champion)
    (decision,) = built.output.on(SETTINGS.topics.decisions)
    assert decision == answer  # byte for byte
    assert built.stage.decider.last_calls == []
    (log_value,) = built.output.on(SETTINGS.topics.scoring_log)
    log = ScoringLogRecord.model_validate_json(log_value)
    assert log.decided_online and log.source.partition == 1 and log.source.offset == 17
    assert log.decision_id == Decision.model_validate_json(answer).decision_id
    assert len(overlay) == 0  # applied: the tables count it now
    # A replay of the record (after a crash) gets the same decision from the card state.
    built.output.sent.clear()
    tx = Transaction.model_validate_json(log.transaction.model_dump_json())
    built.stage.take(tx.model_dump_json().encode(), tx.card_id.encode(), 1, 17, 2_000_000_000_000)
    built.stage.flush()
    assert built.stage.decider.last_calls == []  # answered from the card state, not re-scored
    (again,) = built.output.on(SETTINGS.topics.decisions)
    replayed = Decision.model_validate_json(again)
    first = Decision.model_validate_json(answer)
    assert (replayed.decision_id, replayed.outcome, replayed.score) == (
        first.decision_id,
        first.outcome,
        first.score,
    )


def test_a_forged_decision_is_decided_normally_and_counted(champion: Champion) -> None:
    answer, built, _, _ = _published_then_streamed(champion, tamper=True)
    (decision,) = built.output.on(SETTINGS.topics.decisions)
    streamed = Decision.model_validate_json(decision)
    assert streamed.outcome == Decision.model_validate_json(answer).outcome  # the model's own
    assert built.stage.decider.last_calls  # the model was called
    assert not ScoringLogRecord.model_validate_json(
        built.output.on(SETTINGS.topics.scoring_log)[0]
    ).decided_online
    rejected = built.metrics.registry.get_sample_value(
        "fraud_rejected_online_decision_seals_total", {"reason": "the seal does not verify"}
    )
    assert rejected == 1.0


# -- routing and the CLI -----------------------------------------------------------------


def test_card_partition_is_kafkas_default_partitioner() -> None:
    # Values of the Java client's murmur2 partitioner (also aiokafka's and librdkafka's
    # murmur2_random) for 4 and 12 partitions.
    from aiokafka.partitioner import DefaultPartitioner

    for card in ("card-42", "c-0001", "x"):
        for partitions in (4, 12):
            expected = DefaultPartitioner()(card.encode(), list(range(partitions)), [])
            assert card_partition(card, partitions) == expected


def test_the_cli_reads_lines_or_an_array() -> None:
    assert read_transactions(b'{"a": 1}\n\n{"b": 2}\n') == [b'{"a": 1}', b'{"b": 2}']
    assert read_transactions(b'[{"a":1},{"b":2}]') == [b'{"a":1}', b'{"b":2}']
