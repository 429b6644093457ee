"""Parts of the online scoring API that need no broker: waiting for decisions, partitions."""

from __future__ import annotations

import asyncio

from stream.cli.score_cli import read_transactions
from stream.decision_path.answers import Answer, DecisionWaiters
from stream.decision_path.api_routing import card_partition


def test_a_decision_reaches_every_request_waiting_for_it_and_only_those() -> None:
    async def scenario() -> tuple[Answer, Answer, bool, int]:
        waiters = DecisionWaiters()
        first, second, other = waiters.expect("tx-1"), waiters.expect("tx-1"), waiters.expect("x")
        waiters.resolve([("tx-1", b"{decision}"), ("tx-unknown", b"{}")])
        return first.result(), second.result(), other.done(), len(waiters)

    first, second, other_done, left = asyncio.run(scenario())
    assert first == second == Answer(b"{decision}")
    assert not other_done and left == 1


def test_released_requests_learn_why_no_decision_comes() -> None:
    async def scenario() -> Answer:
        waiters = DecisionWaiters()
        future = waiters.expect("tx-1")
        waiters.release_all("rebalance")
        assert len(waiters) == 0
        return future.result()

    assert asyncio.run(scenario()) == Answer(None, "rebalance")


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
