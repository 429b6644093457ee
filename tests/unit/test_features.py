"""The shared feature module: exact windows, idempotent replays, lossless state encoding."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from models.features import (
    FEATURE_NAMES,
    CardState,
    MerchantState,
    card_step,
    facts_from_transaction,
    merchant_step,
)
from models.features.card import (
    CARD_HORIZON_MS,
    DAY_MS,
    HOUR_MS,
    MAX_CARD_ENTRIES,
    MAX_KEPT_DECISIONS,
)
from models.features.facts import TxFacts, epoch_ms, make_facts
from models.features.offline import FeatureReplayer, build_feature_matrix
from schemas.transaction import Transaction

T0 = epoch_ms(datetime(2026, 3, 2, 12, 0, tzinfo=UTC))  # a Monday, 12:00 UTC


def tx(
    n: int,
    at_ms: int,
    cents: int = 2_000,
    card: str = "card-1",
    merchant: str = "m-1",
    country: str = "FR",
) -> TxFacts:
    return make_facts(
        transaction_id=f"tx-{n}",
        card_id=card,
        merchant_id=merchant,
        event_ms=at_ms,
        amount_cents=cents,
        country=country,
        channel="POS",
        entry_mode="CHIP",
        card_present=True,
        mcc="5411",
    )


def run_card(events: list[TxFacts]) -> tuple[CardState, list[object]]:
    state = CardState.empty()
    out = []
    for offset, facts in enumerate(events):
        step = card_step(state, facts, offset)
        state = step.state
        out.append(step.features)
    return state, out


def test_card_windows_include_younger_and_exclude_exact_boundary() -> None:
    history = [
        tx(1, T0 - HOUR_MS),  # exactly 1 h old: outside the 1 h window
        tx(2, T0 - HOUR_MS + 1, cents=300),  # just inside, and small
        tx(3, T0 - DAY_MS - 1, country="DE"),
        tx(4, T0 - 7 * DAY_MS + 1, cents=10_000),
        tx(5, T0 - CARD_HORIZON_MS + 1, cents=50_000),
    ]
    state, _ = run_card(sorted(history, key=lambda f: f.event_ms))
    features = card_step(state, tx(9, T0, cents=4_000), 99).features
    assert features.card_count_1h == 1
    assert features.card_small_count_1h == 1
    assert features.card_count_24h == 2
    assert features.card_count_7d == 4
    assert features.card_count_30d == 5
    assert features.card_mean_amount_7d == (2_000 + 300 + 2_000 + 10_000) / 4 / 100
    assert features.card_mean_amount_30d == (2_000 + 300 + 2_000 + 10_000 + 50_000) / 5 / 100
    assert features.card_amount_ratio_30d == 40.0 / features.card_mean_amount_30d
    assert features.card_secs_since_last == HOUR_MS / 1000 - 0.001
    assert features.card_country_changed == 0.0
    assert features.card_countries_24h == 1  # DE is 24 h + 1 ms old


def test_first_transaction_of_a_card_has_missing_history_features() -> None:
    features = card_step(CardState.empty(), tx(1, T0), 0).features
    assert features.card_count_30d == 0
    assert math.isnan(features.card_mean_amount_30d)
    assert math.isnan(features.card_secs_since_last)
    assert math.isnan(features.card_country_changed)
    assert features.card_countries_24h == 1


def test_impossible_travel_shows_as_country_change_soon_after() -> None:
    state, _ = run_card([tx(1, T0 - 600_000, country="FR")])
    features = card_step(state, tx(2, T0, country="BR"), 1).features
    assert features.card_country_changed == 1.0
    assert features.card_secs_since_last == 600.0
    assert features.card_countries_24h == 2


def test_replayed_card_transaction_keeps_state_and_features() -> None:
    events = [tx(i, T0 + i * 60_000, cents=1_000 + i) for i in range(10)]
    state, first_time = run_card(events)
    for offset, facts in enumerate(events):
        replay = card_step(state, facts, 1_000 + offset)
        assert replay.duplicate
        assert replay.state is state
        assert replay.features == first_time[offset]
        assert replay.origin_offset == offset  # the offset that applied it first


def test_card_state_expires_old_entries_and_caps_bursts() -> None:
    state, _ = run_card([tx(1, T0), tx(2, T0 + CARD_HORIZON_MS + 1)])
    assert list(state.event_ms) == [T0 + CARD_HORIZON_MS + 1]
    burst = [tx(i, T0 + i, cents=100) for i in range(MAX_CARD_ENTRIES + 40)]
    state, _ = run_card(burst)
    assert len(state) == MAX_CARD_ENTRIES
    assert state.event_ms[0] == T0 + 40


def test_out_of_order_card_entry_is_inserted_in_time_order() -> None:
    state, _ = run_card([tx(1, T0), tx(2, T0 + 2_000), tx(3, T0 + 1_000)])
    assert list(state.event_ms) == [T0, T0 + 1_000, T0 + 2_000]
    assert CardState.decode(state.encode()).countries == b"FRFRFR"


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=40 * DAY_MS),
            st.integers(min_value=1, max_value=100_000_000),
            st.sampled_from(["FR", "DE", "US"]),
        ),
        max_size=40,
    )
)
def test_card_state_encoding_is_lossless(rows: list[tuple[int, int, str]]) -> None:
    state, _ = run_card([tx(i, T0 + at, cents, country=c) for i, (at, cents, c) in enumerate(rows)])
    decoded = CardState.decode(state.encode())
    assert decoded == state
    probe = tx(10_000, T0 + 20 * DAY_MS)
    assert card_step(decoded, probe, 0).features == card_step(state, probe, 0).features


def test_merchant_windows_by_bucket() -> None:
    state = MerchantState.empty()
    for offset, at in enumerate([T0 - 8 * DAY_MS, T0 - 2 * DAY_MS, T0 - 2 * HOUR_MS, T0 - 60_000]):
        state = merchant_step(state, tx(offset, at, cents=1_000), 0, offset).state
    features = merchant_step(state, tx(9, T0, cents=3_000), 0, 9).features
    assert features.merchant_count_1h == 1
    assert features.merchant_count_24h == 2
    assert features.merchant_count_7d == 3  # the 8-day-old one expired
    assert features.merchant_mean_amount_7d == 10.0
    assert features.merchant_amount_ratio_7d == 3.0
    assert features.merchant_hourly_rate_ratio == (1 + 1) / (3 / 168 + 1)


def test_merchant_applies_each_origin_offset_once() -> None:
    state = MerchantState.empty()
    for offset in range(5):
        state = merchant_step(
            state, tx(offset, T0 + offset), origin_partition=2, origin_offset=offset
        ).state
    resent = merchant_step(state, tx(3, T0 + 3), origin_partition=2, origin_offset=3)
    assert not resent.applied
    assert resent.state is state
    other_origin = merchant_step(state, tx(7, T0 + 7), origin_partition=0, origin_offset=3)
    assert other_origin.applied
    assert other_origin.state.watermark(0) == 3
    assert other_origin.state.watermark(2) == 4
    assert MerchantState.decode(other_origin.state.encode()) == other_origin.state


def test_facts_from_a_record_equal_facts_from_plain_columns() -> None:
    record = Transaction(
        schema_version=1,
        transaction_id="tx-42",
        card_id="card-1",
        merchant_id="m-1",
        amount=Decimal("1234.57"),
        currency="EUR",
        event_time=datetime(2026, 3, 2, 13, 0, 0, 123_999, tzinfo=UTC) + timedelta(0),
        mcc="5411",
        channel="POS",
        country="FR",
        entry_mode="CHIP",
        card_present=True,
    )
    online = facts_from_transaction(record)
    offline = make_facts(
        transaction_id="tx-42",
        card_id="card-1",
        merchant_id="m-1",
        event_ms=T0 + HOUR_MS + 123,
        amount_cents=123_457,
        country="FR",
        channel="POS",
        entry_mode="CHIP",
        card_present=True,
        mcc="5411",
    )
    assert online == offline


def test_replayer_matrix_has_one_row_per_event_in_feature_order() -> None:
    events = [tx(i, T0 + i * 1_000, card=f"c{i % 3}", merchant=f"m{i % 2}") for i in range(30)]
    matrix = build_feature_matrix(events)
    assert matrix.shape == (30, len(FEATURE_NAMES))
    card_count_1h = FEATURE_NAMES.index("card_count_1h")
    assert [matrix[i, card_count_1h] for i in range(6)] == [0, 0, 0, 1, 1, 1]
    replayer = FeatureReplayer()
    assert replayer.step(events[0], 0)[FEATURE_NAMES.index("amount")] == 20.0


def _decided(events: list[TxFacts], committed: int | None) -> CardState:
    """The card state after each event was applied (at offset 100 + i) and then decided."""
    state = CardState.empty()
    for offset, facts in enumerate(events, start=100):
        state = card_step(state, facts, offset).state
        state = state.with_decision(facts.txid_hash, f"decision-{offset}".encode(), committed)
    return state


def test_card_state_keeps_the_decisions_a_restart_could_replay() -> None:
    events = [tx(i, T0 + i * 1_000) for i in range(20)]  # offsets 100-119
    # Nothing committed yet: every decision is kept (a stuck commit, restarts in a row).
    state = CardState.decode(_decided(events, committed=None).encode())
    assert all(state.decision_for(e.txid_hash) is not None for e in events)
    # Committed up to offset 112: decisions below it can no longer be replayed.
    state = _decided(events, committed=112)
    kept = [i for i, e in enumerate(events) if state.decision_for(e.txid_hash) is not None]
    assert kept == list(range(12, 20))
    assert state.decision_for(events[15].txid_hash) == b"decision-115"
    assert state == _decided(events, committed=None)  # recomputation compares entries only


def test_card_state_caps_the_decisions_kept_dropping_the_lowest_offsets() -> None:
    events = [tx(i, T0 + i * 1_000) for i in range(MAX_KEPT_DECISIONS + 6)]
    state = _decided(events, committed=None)
    kept = [i for i, e in enumerate(events) if state.decision_for(e.txid_hash) is not None]
    assert kept == list(range(6, MAX_KEPT_DECISIONS + 6))
    # A replay recorded again replaces its own record and keeps the others.
    again = state.with_decision(events[-1].txid_hash, b"again", None)
    assert again.decision_for(events[-1].txid_hash) == b"again"
    assert again.decision_for(events[6].txid_hash) == b"decision-106"


def test_card_state_of_the_first_format_still_decodes() -> None:
    version_1 = b"\x01\x00\x00"  # format 1, no entries, nothing after the countries
    assert CardState.decode(version_1).decisions == b""
