"""The decision stage on in-memory tables: one outcome per record, replays that change nothing,
merchant features summed over every partition's partial, and what each decision saw logged."""

from __future__ import annotations

import json

from models.features import (
    FEATURE_NAMES,
    CardState,
    MerchantState,
    apply_to_partial,
    facts_from_transaction,
    merchant_view_features,
)
from schemas import DeadLetter, Decision, ScoringLogRecord, Transaction
from stream.decision_path.deciding import read_decision_record
from stream.decision_path.merchant_view import MerchantView
from stream.decision_path.metrics import StreamMetrics
from stream.decision_path.stage import DecisionStage
from stream.engine.state_stores import DictStore, OnStored
from stream.settings import Settings
from tests.support.stage_doubles import CollectedOutput, in_memory_stage
from tests.support.stream_setup import simulated_events

SETTINGS = Settings()
MERCHANT_COLUMNS = [i for i, name in enumerate(FEATURE_NAMES) if name.startswith("merchant_")]


class RecordingStore(DictStore):
    """A table whose writes are what its changelog would receive."""

    def __init__(self) -> None:
        super().__init__()
        self.changelog: list[tuple[int, bytes, bytes]] = []

    def set(self, partition: int, key: bytes, value: bytes, on_stored: OnStored = None) -> None:
        super().set(partition, key, value, on_stored)
        self.changelog.append((partition, key, value))


def _stage(
    cards: DictStore | None = None, partials: DictStore | None = None
) -> tuple[DecisionStage, CollectedOutput, StreamMetrics, MerchantView]:
    return in_memory_stage(None, cards, partials)


def test_every_valid_record_gets_a_decision_and_a_log_in_order() -> None:
    events = simulated_events(seed=3, limit=6)
    stage, output, _, _ = _stage()
    for offset, (key, value) in enumerate(events):
        stage.take(value, key, 0, offset, 1_000)
    assert len(stage.pending) == 6
    assert output.sent == []  # nothing sent before the batch is decided
    stage.flush()
    decisions = [Decision.model_validate_json(v) for v in output.on(SETTINGS.topics.decisions)]
    logs = [ScoringLogRecord.model_validate_json(v) for v in output.on(SETTINGS.topics.scoring_log)]
    expected = [json.loads(value)["transaction_id"] for _, value in events]
    assert [d.transaction_id for d in decisions] == expected
    assert [log.transaction_id for log in logs] == expected
    assert all(d.fallback_reason == "model_unavailable" for d in decisions)  # no package here
    assert stage.pending == []


def test_bad_records_become_dead_letters_at_once() -> None:
    ((key, value),) = simulated_events(seed=3, limit=1)
    stage, output, metrics, _ = _stage()
    stage.take(b"\xff\xfe", key, 1, 7, 1_000)
    stage.take(value, b"another-card", 1, 8, 1_000)
    letters = [DeadLetter.model_validate_json(v) for v in output.on(SETTINGS.topics.dead_letters)]
    assert [letter.category.value for letter in letters] == ["not_utf8", "key_mismatch"]
    assert [(letter.source.partition, letter.source.offset) for letter in letters] == [
        (1, 7),
        (1, 8),
    ]
    assert stage.pending == []
    stage.flush()
    assert metrics.registry.get_sample_value("fraud_events_in_total") == 2


def test_a_replayed_record_resends_both_states_unchanged_and_is_not_applied_twice() -> None:
    ((key, value),) = simulated_events(seed=3, limit=1)
    cards, partials = RecordingStore(), RecordingStore()
    stage, _, metrics, _ = _stage(cards, partials)
    stage.take(value, key, 2, 10, 1_000)
    stage.flush()
    first_card, first_partial = cards.changelog[-1], partials.changelog[-1]
    # The worker dies before these changelog records are delivered, restarts and replays.
    cards.changelog.clear()
    partials.changelog.clear()
    stage.take(value, key, 2, 10, 1_000)
    stage.flush()

    assert cards.changelog == [first_card]
    assert partials.changelog == [first_partial]
    assert sum(MerchantState.decode(first_partial[2]).coarse_count) == 1
    assert metrics.registry.get_sample_value("fraud_replayed_events_total") == 1


def test_a_card_state_is_written_after_its_batch_is_decided_with_the_decisions_in_it() -> None:
    events = simulated_events(seed=3, limit=40)
    cards = RecordingStore()
    stage, output, _, _ = _stage(cards)
    for offset, (key, value) in enumerate(events):
        stage.take(value, key, 0, offset, 1_000)
    assert cards.changelog == []  # nothing written before the batch is decided
    stage.flush()
    # One write per card of the batch, holding the decision of each of its transactions.
    written = {key: CardState.decode(blob) for _, key, blob in cards.changelog}
    assert len(cards.changelog) == len(written) == len({key for key, _ in events})
    for decision in map(Decision.model_validate_json, output.on(SETTINGS.topics.decisions)):
        txid = facts_from_transaction(
            Transaction.model_validate_json(
                next(
                    v
                    for _, v in events
                    if json.loads(v)["transaction_id"] == decision.transaction_id
                )
            )
        ).txid_hash
        recorded = written[decision.card_id.encode()].decision_for(txid)
        assert recorded is not None
        assert read_decision_record(recorded).outcome == decision.outcome.value


def test_merchant_features_sum_every_partitions_partial_and_the_log_says_which() -> None:
    events = simulated_events(seed=3, limit=400)
    by_merchant: dict[str, list[tuple[bytes, bytes]]] = {}
    for key, value in events:
        by_merchant.setdefault(json.loads(value)["merchant_id"], []).append((key, value))
    merchant, busiest = max(by_merchant.items(), key=lambda item: len(item[1]))
    assert len(busiest) >= 4
    stage, output, _, _ = _stage()
    # The merchant's transactions arrive on different input partitions (cards differ).
    for offset, (key, value) in enumerate(busiest):
        stage.take(value, key, offset % 4, 100 + offset, 1_000)
    stage.flush()
    logs = [ScoringLogRecord.model_validate_json(v) for v in output.on(SETTINGS.topics.scoring_log)]

    last = logs[-1]
    assert last.merchant_view is not None
    seen = {(p.partition, p.offset) for p in last.merchant_view}
    previous = len(busiest) - 1
    # Every earlier transaction of the merchant is in the view, whichever partition it came in on.
    assert seen == {(p, max(100 + i for i in range(previous) if i % 4 == p)) for p in range(4)}
    # And the logged merchant features are exactly those of the sum of those partials.
    partials: dict[int, MerchantState] = {}
    for i, (_, value) in enumerate(busiest[:-1]):
        facts = facts_from_transaction(Transaction.model_validate_json(value))
        current = partials.get(i % 4, MerchantState.empty())
        partials[i % 4] = apply_to_partial(current, facts, i % 4, 100 + i) or current
    facts = facts_from_transaction(last.transaction)
    expected = merchant_view_features(list(partials.values()), facts)
    assert [last.features[FEATURE_NAMES[i]] for i in MERCHANT_COLUMNS] == [
        None if value != value else value for value in expected
    ]
    assert merchant == last.merchant_id
