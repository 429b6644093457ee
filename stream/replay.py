"""Offline recomputation of what the stream computed, from the topics themselves.

Reads the input topic and the card→merchant hand-over topic, and replays them through the same
step functions in the order each stage consumed them (per partition, by offset): the card
stage's order for card state, the merchant stage's order for merchant state. The result is
what the tables and the scoring log must hold; the parity test and the chaos check compare.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from models.features import (
    CardFeatures,
    CardState,
    MerchantFeatures,
    MerchantState,
    card_step,
    facts_from_transaction,
    feature_vector,
    merchant_step,
)
from schemas import Transaction
from stream import internal
from stream.settings import Settings
from stream.topic_scan import positions_reached
from stream.topics import changelog_topic


@dataclass(frozen=True)
class TopicRecord:
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


def read_topic(bootstrap: str, topic: str, timeout_s: float = 60.0) -> list[TopicRecord]:
    """Every record now in `topic`, ordered by (partition, offset)."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"fraudstream-replay-{time.time_ns()}",
            "enable.auto.commit": False,
            "enable.partition.eof": False,
        }
    )
    try:
        partitions = consumer.list_topics(topic, timeout=timeout_s).topics[topic].partitions
        ends = {}
        for p in partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=timeout_s)
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
    card_features: dict[str, CardFeatures] = field(default_factory=dict)
    merchant_features: dict[str, MerchantFeatures] = field(default_factory=dict)
    vectors: dict[str, tuple[float, ...]] = field(default_factory=dict)
    card_states: dict[str, CardState] = field(default_factory=dict)
    merchant_states: dict[str, MerchantState] = field(default_factory=dict)


def recompute(inputs: Iterable[TopicRecord], handovers: list[TopicRecord]) -> Recomputation:
    """Card stage over the inputs it accepted, merchant stage over `handovers`.

    An input was accepted when a hand-over names it as its source; the others were dead
    letters, which never touch state.
    """
    result = Recomputation()
    decoded = [internal.decode(record.value or b"") for record in handovers]
    accepted = {(h.origin_partition, h.source_offset) for h in decoded}
    for record in inputs:
        if (record.partition, record.offset) not in accepted:
            continue
        transaction = Transaction.model_validate_json(record.value or b"")
        state = result.card_states.get(transaction.card_id) or CardState.empty()
        step = card_step(state, facts_from_transaction(transaction), record.offset)
        result.card_states[transaction.card_id] = step.state
        result.card_features.setdefault(transaction.transaction_id, step.features)
    for handover in decoded:
        transaction = Transaction.model_validate_json(handover.raw)
        facts = facts_from_transaction(transaction)
        merchant = result.merchant_states.get(transaction.merchant_id) or MerchantState.empty()
        applied = merchant_step(merchant, facts, handover.origin_partition, handover.origin_offset)
        result.merchant_states[transaction.merchant_id] = applied.state
        if transaction.transaction_id not in result.merchant_features:
            result.merchant_features[transaction.transaction_id] = applied.features
            card = result.card_features[transaction.transaction_id]
            result.vectors[transaction.transaction_id] = feature_vector(
                facts, card, applied.features
            )
    return result


def latest_by_key(records: Iterable[TopicRecord]) -> dict[bytes, bytes]:
    """The last value of each key, as a compacted changelog (or a restored table) holds it."""
    latest: dict[bytes, bytes] = {}
    for record in records:  # per partition in offset order; a key lives in one partition
        if record.key is not None and record.value is not None:
            latest[record.key] = record.value
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
    handovers = read_topic(bootstrap, settings.topics.by_merchant)
    offline = recompute(inputs, handovers)
    cards = latest_by_key(read_topic(bootstrap, changelog_topic(settings, "card")))
    merchants = latest_by_key(read_topic(bootstrap, changelog_topic(settings, "merchant")))
    card_mismatches = sorted(
        {key.decode() for key in cards} ^ set(offline.card_states)
        | {
            card
            for card, state in offline.card_states.items()
            if card.encode() in cards and CardState.decode(cards[card.encode()]) != state
        }
    )
    merchant_mismatches = sorted(
        {key.decode() for key in merchants} ^ set(offline.merchant_states)
        | {
            merchant
            for merchant, state in offline.merchant_states.items()
            if merchant.encode() in merchants
            and MerchantState.decode(merchants[merchant.encode()]) != state
        }
    )
    return StateParity(
        len(offline.card_states), len(offline.merchant_states), card_mismatches, merchant_mismatches
    )
