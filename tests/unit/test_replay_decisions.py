"""One transaction, one decision: a replay is answered with the decision its card state recorded,
even when deciding it again would give another answer (here: past the latency budget)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from models.scoring import open_package
from schemas import Decision, ModelRef
from stream.decision_path.deciding import Champion, LivePlan
from stream.decision_path.stage import DecisionStage
from stream.engine.state_stores import DictStore
from stream.settings import Settings
from tests.support.model_builds import TEST_KEY, build_small, small_world
from tests.support.stage_doubles import CollectedOutput, in_memory_stage
from tests.support.stream_setup import simulated_events

SETTINGS = Settings()
BUDGET_MS = 50.0


@pytest.fixture(scope="module")
def champion(tmp_path_factory: pytest.TempPathFactory) -> Champion:
    root: Path = tmp_path_factory.mktemp("replay-package")
    package = build_small(small_world(root), root / "registry")
    return Champion(open_package(package, TEST_KEY))


def _stage(
    champion: Champion | LivePlan, cards: DictStore, budget_ms: float = BUDGET_MS
) -> tuple[DecisionStage, CollectedOutput]:
    built = in_memory_stage(champion, cards, budget_ms=budget_ms)
    return built.stage, built.output


def _decide(stage: DecisionStage, output: CollectedOutput, arrival_ms: int) -> list[Decision]:
    output.sent.clear()
    for offset, (key, value) in enumerate(simulated_events(seed=5, limit=30)):
        stage.take(value, key, 1, 500 + offset, arrival_ms)
    stage.flush()
    return [Decision.model_validate_json(v) for v in output.on(SETTINGS.topics.decisions)]


def _another(champion: Champion) -> Champion:
    """The same scorer under another identity: a second model without a second build."""
    other = Champion(champion.scorer)
    other.ref = ModelRef(name=champion.ref.name, version="2.0.0", content_hash="f" * 64)
    return other


def _what_was_decided(decisions: list[Decision]) -> list[tuple[object, ...]]:
    return [
        (d.decision_id, d.outcome, d.score, d.reason_codes, d.model, d.fallback_reason)
        for d in decisions
    ]


def test_a_replay_past_the_budget_gets_the_first_decision_again(champion: Champion) -> None:
    cards = DictStore()
    # In time whatever the machine's load: the first worker's budget is generous.
    stage, output = _stage(champion, cards, budget_ms=60_000)
    arrival_ms = int(time.time() * 1000)
    first = _decide(stage, output, arrival_ms)
    assert all(d.score is not None for d in first)  # scored by the model

    time.sleep(2 * BUDGET_MS / 1000)  # the same records, now older than the budget
    restarted, replay_output = _stage(champion, cards)  # a new worker on the same state
    replayed = _decide(restarted, replay_output, arrival_ms)

    assert _what_was_decided(replayed) == _what_was_decided(first)
    assert all(d.timings.scoring_us == 0 for d in replayed)  # answered, not scored again


def test_without_its_recorded_decision_a_late_replay_falls_back(champion: Champion) -> None:
    """What the recorded decision prevents: the same records, decided again, disagree."""
    stage, output = _stage(champion, DictStore(), budget_ms=60_000)
    arrival_ms = int(time.time() * 1000)
    first = _decide(stage, output, arrival_ms)
    time.sleep(2 * BUDGET_MS / 1000)
    lost_state, lost_output = _stage(champion, DictStore())
    again = _decide(lost_state, lost_output, arrival_ms)
    assert {d.fallback_reason for d in again} == {"latency_budget_exceeded"}
    assert _what_was_decided(again) != _what_was_decided(first)


def test_a_replay_under_another_model_is_decided_again_by_it(champion: Champion) -> None:
    cards = DictStore()
    stage, output = _stage(champion, cards, budget_ms=60_000)
    first = _decide(stage, output, int(time.time() * 1000))
    other = _another(champion)
    restarted, replay_output = _stage(other, cards, budget_ms=60_000)
    replayed = _decide(restarted, replay_output, int(time.time() * 1000))
    assert [d.decision_id for d in replayed] == [d.decision_id for d in first]
    assert {d.model for d in replayed} == {other.ref}
    assert all(d.timings.scoring_us > 0 for d in replayed)


def test_two_copies_in_one_batch_get_one_decision(champion: Champion) -> None:
    """A producer's retry lands the same transaction twice, side by side: the second copy must
    not be decided on a merchant partial that already counts the first."""
    stage, output = _stage(champion, DictStore(), budget_ms=60_000)
    events = simulated_events(seed=5, limit=30)
    arrival_ms = int(time.time() * 1000)
    for offset, (key, value) in enumerate([*events, *events[:10]]):
        stage.take(value, key, 1, 500 + offset, arrival_ms)
    stage.flush()
    decisions = [Decision.model_validate_json(v) for v in output.on(SETTINGS.topics.decisions)]
    assert len(decisions) == 40
    first, copies = decisions[:10], decisions[30:]
    assert _what_was_decided(copies) == _what_was_decided(first)


def test_a_replay_under_a_canary_gets_the_decision_of_its_model(champion: Champion) -> None:
    canary = _another(champion)
    plan = LivePlan(2, champion, canary, 0.5)
    cards = DictStore()
    stage, output = _stage(plan, cards, budget_ms=60_000)
    arrival_ms = int(time.time() * 1000)
    first = _decide(stage, output, arrival_ms)
    assert {d.model for d in first} == {champion.ref, canary.ref}  # both decide some cards

    time.sleep(2 * BUDGET_MS / 1000)  # deciding them again now would fall back
    restarted, replay_output = _stage(plan, cards)
    replayed = _decide(restarted, replay_output, arrival_ms)
    assert _what_was_decided(replayed) == _what_was_decided(first)
    assert [d.role for d in replayed] == [d.role for d in first]
    assert all(d.timings.scoring_us == 0 for d in replayed)


def test_after_a_rollback_the_canarys_replays_are_decided_again(champion: Champion) -> None:
    canary = _another(champion)
    cards = DictStore()
    stage, output = _stage(LivePlan(2, champion, canary, 0.5), cards, budget_ms=60_000)
    first = {d.decision_id: d for d in _decide(stage, output, int(time.time() * 1000))}

    rolled_back = LivePlan(3, champion)  # the canary no longer decides anything
    restarted, replay_output = _stage(rolled_back, cards, budget_ms=60_000)
    replayed = _decide(restarted, replay_output, int(time.time() * 1000))
    again = [d for d in replayed if first[d.decision_id].model == canary.ref]
    kept = [d for d in replayed if first[d.decision_id].model == champion.ref]
    assert again and kept and len(again) + len(kept) == len(replayed)
    # The rolled-back model's decisions are not repeated: the current one decides, and says so.
    assert {(d.model, d.role.value) for d in again} == {(champion.ref, "champion")}
    assert all(d.timings.scoring_us > 0 for d in again)
    # The champion still decides: its first answers stand, without a model call.
    assert _what_was_decided(kept) == _what_was_decided([first[d.decision_id] for d in kept])
    assert all(d.timings.scoring_us == 0 for d in kept)


def _one_card(count: int) -> list[tuple[bytes, bytes]]:
    """`count` transactions of one card, a minute apart."""
    import orjson

    key, value = simulated_events(seed=5, limit=1)[0]
    first = orjson.loads(value)
    events = []
    for n in range(count):
        at = time.gmtime(time.time() - 3_600 + 60 * n)
        tx = {
            **first,
            "transaction_id": f"T-one-card-{n}",
            "event_time": time.strftime("%Y-%m-%dT%H:%M:%SZ", at),
        }
        events.append((key, orjson.dumps(tx)))
    return events


def _one_card_decided_then_replayed(
    champion: Champion, committed_offset: Callable[[int], int | None]
) -> tuple[list[Decision], list[Decision]]:
    """20 transactions of one card decided one batch each (offsets 500-519), then replayed
    from offset 500 by a new worker on the same card states, past the latency budget."""
    events = _one_card(20)
    cards = DictStore()
    built = in_memory_stage(champion, cards, budget_ms=60_000, committed_offset=committed_offset)
    arrival_ms = int(time.time() * 1000)
    for offset, (key, value) in enumerate(events):
        built.stage.take(value, key, 1, 500 + offset, arrival_ms)
        built.stage.flush()  # one batch per event: each writes the card's state
    first = [Decision.model_validate_json(v) for v in built.output.on(SETTINGS.topics.decisions)]
    assert len(first) == 20 and all(d.score is not None for d in first)

    time.sleep(2 * BUDGET_MS / 1000)  # late now: deciding again would fall back
    restarted, replay_output = _stage(champion, cards)
    for offset, (key, value) in enumerate(events):
        restarted.take(value, key, 1, 500 + offset, arrival_ms)
    restarted.flush()
    replayed = [
        Decision.model_validate_json(v) for v in replay_output.on(SETTINGS.topics.decisions)
    ]
    return first, replayed


def test_a_replay_from_far_behind_the_last_commit_gets_its_first_decisions(
    champion: Champion,
) -> None:
    # Restarts faster than commits (a kill campaign, a broker outage) make a replay reach
    # back further than a card's last few transactions: every decision from the committed
    # offset on must still be in the card state (kept until its input offset is committed).
    first, replayed = _one_card_decided_then_replayed(champion, lambda partition: None)
    assert _what_was_decided(replayed) == _what_was_decided(first)


def test_decisions_below_the_committed_offset_are_not_kept(champion: Champion) -> None:
    # Inputs below the committed offset are not read again: their decisions leave the state
    # (what bounds it in normal running), and the rest are still answered as the first time.
    first, replayed = _one_card_decided_then_replayed(champion, lambda partition: 510)
    assert _what_was_decided(replayed[10:]) == _what_was_decided(first[10:])
    assert {d.fallback_reason for d in replayed[:10]} == {"latency_budget_exceeded"}
