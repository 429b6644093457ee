"""A decision leaves only after the card state it is recorded in is stored (state_first.py)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import pytest

from schemas import Decision
from stream.decision_path.output import OutputError
from stream.engine.state_stores import DictStore, OnStored
from tests.support.stage_doubles import SETTINGS, CollectedOutput, InMemoryStage, in_memory_stage
from tests.support.stream_setup import simulated_events


class SlowChangelogStore(DictStore):
    """A card table whose changelog deliveries the test confirms, in the order it chooses."""

    def __init__(self) -> None:
        super().__init__()
        self.unconfirmed: list[Callable[[], None]] = []

    def set(self, partition: int, key: bytes, value: bytes, on_stored: OnStored = None) -> None:
        super().set(partition, key, value)
        if on_stored is not None:
            self.unconfirmed.append(on_stored)

    def confirm(self, *indexes: int) -> None:
        for index in indexes:
            self.unconfirmed[index]()


def _decided(output: CollectedOutput) -> list[str]:
    return [
        Decision.model_validate_json(value).transaction_id
        for value in output.on(SETTINGS.topics.decisions)
    ]


def _decide_two_batches(cards: DictStore) -> tuple[InMemoryStage, list[list[str]]]:
    """Two micro-batches, each of two events on two cards no other event uses."""
    first_per_card: dict[bytes, bytes] = {}
    for key, value in simulated_events(seed=5, limit=60):
        first_per_card.setdefault(key, value)
    chosen = list(first_per_card.items())[:4]
    assert len(chosen) == 4
    setup = in_memory_stage(None, cards)
    batches = [chosen[:2], chosen[2:]]
    for number, batch in enumerate(batches):
        setup.stage.begin_batch()
        for offset, (key, value) in enumerate(batch, start=2 * number):
            setup.stage.take(value, key, 0, offset, 1_000)
        setup.stage.flush()
    ids = [[json.loads(value)["transaction_id"] for _, value in batch] for batch in batches]
    return setup, ids


def test_decisions_wait_for_their_card_states_and_leave_in_batch_order() -> None:
    async def scenario() -> None:
        cards = SlowChangelogStore()
        setup, ids = _decide_two_batches(cards)
        stage, output = setup.stage, setup.output
        assert len(cards.unconfirmed) == 4  # one state per card, two per batch
        assert _decided(output) == []  # nothing readable while a state could be lost
        assert output.on(SETTINGS.topics.scoring_log) == []

        held = setup.metrics.registry.get_sample_value("fraud_decisions_held_batches")
        assert held == 2.0  # what an operator sees while the states are unconfirmed

        cards.confirm(2, 3)  # the second batch's states first
        stage.poll()
        assert _decided(output) == []  # the first batch's are still unconfirmed

        cards.confirm(0)
        stage.poll()
        assert _decided(output) == []  # one state of the first batch is still unconfirmed

        cards.confirm(1)
        await asyncio.sleep(0.05)  # the releaser's tick, without the agent polling
        assert _decided(output) == ids[0] + ids[1]
        assert len(output.on(SETTINGS.topics.scoring_log)) == 4
        assert len(stage.state_first) == 0
        assert setup.metrics.registry.get_sample_value("fraud_decisions_held_batches") == 0.0

    asyncio.run(scenario())


def test_a_commit_waits_until_the_held_decisions_are_sent() -> None:
    async def scenario() -> None:
        cards = SlowChangelogStore()
        setup, ids = _decide_two_batches(cards)
        loop = asyncio.get_running_loop()
        loop.call_later(0.05, cards.confirm, 0, 1, 2, 3)
        started = loop.time()
        await setup.stage.state_first.drain(timeout_s=5.0)
        assert loop.time() - started >= 0.04
        assert _decided(setup.output) == ids[0] + ids[1]

    asyncio.run(scenario())


def test_a_failed_state_delivery_keeps_its_decisions_and_fails_the_commit() -> None:
    async def scenario() -> None:
        cards = SlowChangelogStore()
        setup, _ = _decide_two_batches(cards)
        setup.output.failure = OutputError("output delivery failed: broker gone")
        await asyncio.sleep(0.02)  # the releaser sees the failure and stops
        with pytest.raises(OutputError):
            await setup.stage.state_first.drain(timeout_s=1.0)
        assert _decided(setup.output) == []

    asyncio.run(scenario())


def test_in_memory_tables_release_at_once() -> None:
    setup, ids = _decide_two_batches(DictStore())  # no event loop needed: nothing is held
    assert _decided(setup.output) == ids[0] + ids[1]
