"""What a chaos run must prove, read back from the topics once everything has drained."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass

from confluent_kafka import TopicPartition

from schemas import DeadLetter, Decision
from stream.kafka_clients import new_consumer
from stream.replay import StateParity, read_topic, state_parity
from stream.settings import Settings, TopicNames


@dataclass(frozen=True)
class Outcomes:
    inputs: int
    decided: int  # distinct transactions with a decision
    dead_lettered: int
    decisions: int  # decision records, duplicates included
    without_outcome: list[tuple[int, int]]  # input (partition, offset)
    duplicate_decisions: int
    duplicates_after_dedupe: int  # decision ids naming different transactions: must be 0
    conflicting_duplicates: int  # transactions whose copies disagree (outcome, score, ...): 0


def outcomes(
    bootstrap: str, topics: TopicNames, expected_ids: dict[tuple[int, int], str]
) -> Outcomes:
    """`expected_ids`: input coordinates → transaction id of the valid inputs produced."""
    inputs = read_topic(bootstrap, topics.transactions)
    decisions = [
        Decision.model_validate_json(r.value or b"")
        for r in read_topic(bootstrap, topics.decisions)
    ]
    letters = [
        DeadLetter.model_validate_json(r.value or b"")
        for r in read_topic(bootstrap, topics.dead_letters)
    ]
    decided = Counter(d.transaction_id for d in decisions)
    by_decision_id: dict[str, set[str]] = {}
    answers: dict[str, set[tuple[object, ...]]] = {}
    for decision in decisions:
        by_decision_id.setdefault(decision.decision_id, set()).add(decision.transaction_id)
        answers.setdefault(decision.decision_id, set()).add(_what_was_decided(decision))
    lettered = {(letter.source.partition, letter.source.offset) for letter in letters}
    missing = [
        (record.partition, record.offset)
        for record in inputs
        if (record.partition, record.offset) not in lettered
        and expected_ids.get((record.partition, record.offset)) not in decided
    ]
    return Outcomes(
        inputs=len(inputs),
        decided=len(decided),
        dead_lettered=len(lettered),
        decisions=len(decisions),
        without_outcome=missing,
        duplicate_decisions=sum(count - 1 for count in decided.values()),
        duplicates_after_dedupe=sum(len(ids) - 1 for ids in by_decision_id.values()),
        conflicting_duplicates=sum(1 for seen in answers.values() if len(seen) > 1),
    )


def _what_was_decided(decision: Decision) -> tuple[object, ...]:
    """What a downstream consumer acts on; timings and decided_at differ between copies."""
    return (
        decision.outcome,
        decision.score,
        tuple(decision.reason_codes),
        decision.model,
        decision.role,
        decision.fallback_reason,
    )


def committed_lag(bootstrap: str, group: str, topic_names: list[str]) -> dict[str, int]:
    """Records between the group's committed offsets and the end, per topic."""
    consumer = new_consumer(bootstrap, {"group.id": group, "enable.auto.commit": False})
    try:
        lag: dict[str, int] = {}
        for topic in topic_names:
            partitions = consumer.list_topics(topic, timeout=30).topics[topic].partitions
            tps = [TopicPartition(topic, p) for p in partitions]
            committed = {tp.partition: tp.offset for tp in consumer.committed(tps, timeout=30)}
            total = 0
            for tp in tps:
                low, high = consumer.get_watermark_offsets(tp, timeout=30)
                position = committed[tp.partition]
                total += high - (position if position >= 0 else low)
            lag[topic] = total
        return lag
    finally:
        consumer.close()


def wait_for_zero_lag(
    bootstrap: str, group: str, topic_names: list[str], timeout_s: float
) -> dict[str, int]:
    deadline = time.monotonic() + timeout_s
    while True:
        lag = committed_lag(bootstrap, group, topic_names)
        if not any(lag.values()) or time.monotonic() > deadline:
            return lag
        time.sleep(1.0)


def table_parity(bootstrap: str, settings: Settings) -> StateParity:
    return state_parity(bootstrap, settings)
