"""Offline recomputation of what the stream computed, from the topics themselves.

Reads the input topic and replays the inputs that got a decision (the scoring log names them)
through the same step functions, per partition in offset order as the worker applied them:
card state per card, one merchant partial per (merchant, input partition). The result is what
the tables' changelogs must hold, and — with each scoring-log record's merchant view — the
exact feature vector of each decision; the parity test and the chaos check compare.
"""

from __future__ import annotations

import time
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field

from confluent_kafka import OFFSET_BEGINNING, TopicPartition

from models.features import (
    CardFeatures,
    CardState,
    MerchantState,
    apply_to_partial,
    card_step,
    facts_from_transaction,
    feature_vector,
    merchant_view_features,
)
from schemas import ScoringLogRecord, Transaction
from stream.kafka_clients import new_consumer
from stream.settings import Settings
from stream.topic_scan import partition_watermarks, positions_reached
from stream.topics import CARD_STATE_TABLE, MERCHANT_PARTIALS_TABLE, changelog_topic


@dataclass(frozen=True)
class TopicRecord:
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


def read_topic(bootstrap: str, topic: str, timeout_s: float = 60.0) -> list[TopicRecord]:
    """Every record now in `topic`, ordered by (partition, offset)."""
    consumer = new_consumer(
        bootstrap,
        {
            "group.id": f"fraudstream-replay-{time.time_ns()}",
            "enable.auto.commit": False,
            "enable.partition.eof": False,
        },
    )
    try:
        partitions = consumer.list_topics(topic, timeout=timeout_s).topics[topic].partitions
        ends = {}
        deadline = time.monotonic() + timeout_s
        for p in partitions:
            low, high = partition_watermarks(consumer, TopicPartition(topic, p), deadline)
            if high > low:
                ends[p] = high
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in ends])
        records: list[TopicRecord] = []
        deadline = time.monotonic() + timeout_s
        while not positions_reached(consumer, topic, ends):
            if time.monotonic() > deadline:
                raise TimeoutError(f"reading {topic} took longer than {timeout_s} s")
            for message in consumer.consume(10_000, timeout=0.5):
                if message.error() is not None:
                    raise RuntimeError(f"{topic}: {message.error()}")
                partition, offset = message.partition(), message.offset()
                assert partition is not None and offset is not None  # set on consumed records
                records.append(TopicRecord(partition, offset, message.key(), message.value()))
        records.sort(key=lambda r: (r.partition, r.offset))
        return records
    finally:
        consumer.close()


@dataclass
class Recomputation:
    """What the stream's tables must hold, and what each decision's features must have been."""

    card_states: dict[str, CardState] = field(default_factory=dict)
    card_features: dict[str, CardFeatures] = field(default_factory=dict)
    # (merchant, input partition) → the partial after each transaction it applied, in order,
    # with its watermark: the partial as of any watermark is there.
    partial_history: dict[tuple[str, int], list[tuple[int, MerchantState]]] = field(
        default_factory=dict
    )

    def partial_at(self, merchant: str, partition: int, watermark: int) -> MerchantState:
        """The partial that had applied the merchant's transactions up to `watermark`."""
        history = self.partial_history.get((merchant, partition), [])
        position = bisect_right([w for w, _ in history], watermark)
        return history[position - 1][1] if position else MerchantState.empty()

    def final_partials(self) -> dict[tuple[str, int], MerchantState]:
        return {key: history[-1][1] for key, history in self.partial_history.items() if history}

    def features_of(self, record: ScoringLogRecord) -> tuple[float, ...]:
        """The feature vector the logged decision must have had, from its merchant view."""
        if record.merchant_view is None:
            raise ValueError(f"{record.decision_id}: a version-1 record has no merchant view")
        facts = facts_from_transaction(record.transaction)
        partials = [
            self.partial_at(record.merchant_id, seen.partition, seen.offset)
            for seen in record.merchant_view
        ]
        merchant = merchant_view_features(partials, facts)
        return feature_vector(facts, self.card_features[record.transaction_id], merchant)


def accepted_sources(logs: Iterable[ScoringLogRecord]) -> set[tuple[int, int]]:
    """(partition, offset) of every input that got a decision: the ones that touched state."""
    return {(log.source.partition, log.source.offset) for log in logs}


def recompute(inputs: Iterable[TopicRecord], accepted: set[tuple[int, int]]) -> Recomputation:
    """Replay the accepted inputs per partition in offset order, as the worker applied them.

    Card state per card; one merchant partial per (merchant, input partition), applying a
    transaction the card state has not seen before at its first offset.
    """
    result = Recomputation()
    for record in inputs:
        if (record.partition, record.offset) not in accepted:
            continue
        transaction = Transaction.model_validate_json(record.value or b"")
        facts = facts_from_transaction(transaction)
        state = result.card_states.get(transaction.card_id) or CardState.empty()
        step = card_step(state, facts, record.offset)
        result.card_states[transaction.card_id] = step.state
        result.card_features.setdefault(transaction.transaction_id, step.features)
        history = result.partial_history.setdefault((transaction.merchant_id, record.partition), [])
        partial = history[-1][1] if history else MerchantState.empty()
        updated = apply_to_partial(partial, facts, record.partition, step.origin_offset)
        if updated is not None:
            history.append((step.origin_offset, updated))
    return result


def latest_by_key(records: Iterable[TopicRecord]) -> dict[tuple[int, bytes], bytes]:
    """The last value of each (partition, key), as a compacted changelog (or a restored table)
    holds it. A merchant's partials share its key, one per partition."""
    latest: dict[tuple[int, bytes], bytes] = {}
    for record in records:  # per partition in offset order
        if record.key is not None and record.value is not None:
            latest[(record.partition, record.key)] = record.value
    return latest


@dataclass(frozen=True)
class StateParity:
    cards: int
    merchants: int
    card_mismatches: list[str]
    merchant_mismatches: list[str]

    @property
    def equal(self) -> bool:
        return not self.card_mismatches and not self.merchant_mismatches


def state_parity(bootstrap: str, settings: Settings) -> StateParity:
    """Compare the tables' changelogs (what a restarted worker restores) with a recomputation."""
    inputs = read_topic(bootstrap, settings.topics.transactions)
    logs = [
        ScoringLogRecord.model_validate_json(record.value or b"")
        for record in read_topic(bootstrap, settings.topics.scoring_log)
    ]
    offline = recompute(inputs, accepted_sources(logs))
    cards = {
        key.decode(): CardState.decode(value)
        for (_, key), value in latest_by_key(
            read_topic(bootstrap, changelog_topic(settings, CARD_STATE_TABLE))
        ).items()
    }
    partials = {
        (key.decode(), partition): MerchantState.decode(value)
        for (partition, key), value in latest_by_key(
            read_topic(bootstrap, changelog_topic(settings, MERCHANT_PARTIALS_TABLE))
        ).items()
    }
    expected_partials = offline.final_partials()
    card_mismatches = sorted(
        set(cards) ^ set(offline.card_states)
        | {card for card, state in offline.card_states.items() if cards.get(card, state) != state}
    )
    merchant_mismatches = sorted(
        f"{merchant}@{partition}"
        for merchant, partition in set(partials) ^ set(expected_partials)
        | {key for key, state in expected_partials.items() if partials.get(key, state) != state}
    )
    return StateParity(
        len(offline.card_states),
        len({merchant for merchant, _ in expected_partials}),
        card_mismatches,
        merchant_mismatches,
    )
