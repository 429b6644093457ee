"""Offline feature building: replay history in order through the same step functions."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from models.datasets.columns import decimal_to_cents
from models.features.card import CardState, card_step
from models.features.facts import TxFacts, make_facts
from models.features.merchant import MerchantState, merchant_step
from models.features.vector import FEATURE_NAMES, feature_vector


class FeatureReplayer:
    """Holds every card's and merchant's state in memory, as the stream holds them in tables."""

    def __init__(self) -> None:
        self.cards: dict[str, CardState] = {}
        self.merchants: dict[str, MerchantState] = {}

    def step(self, facts: TxFacts, sequence: int) -> tuple[float, ...]:
        """Apply one transaction; `sequence` orders events like the stream's offsets do."""
        card = card_step(self.cards.get(facts.card_id) or CardState.empty(), facts, sequence)
        self.cards[facts.card_id] = card.state
        merchant = merchant_step(
            self.merchants.get(facts.merchant_id) or MerchantState.empty(),
            facts,
            origin_partition=0,
            origin_offset=sequence,
        )
        self.merchants[facts.merchant_id] = merchant.state
        return feature_vector(facts, card.features, merchant.features)


def build_feature_matrix(events: Iterable[TxFacts]) -> npt.NDArray[np.float64]:
    """Feature matrix (rows in the given order, columns in FEATURE_NAMES order)."""
    replayer = FeatureReplayer()
    rows = [replayer.step(facts, sequence) for sequence, facts in enumerate(events)]
    if not rows:
        return np.empty((0, len(FEATURE_NAMES)), dtype=np.float64)
    return np.asarray(rows, dtype=np.float64)


def facts_from_table(table: Any) -> list[TxFacts]:
    """Facts of every row of a stored transactions table (models.datasets.columns layout).

    Integer arithmetic only: cents from the decimal's unscaled value, milliseconds by floor
    division of microseconds, so the result equals facts_from_transaction of each row's record.
    """
    cents = decimal_to_cents(table.column("amount"))
    micros = table.column("event_time").cast(pa.int64()).to_numpy()
    columns = {
        name: table.column(name).to_pylist()
        for name in (
            "transaction_id",
            "card_id",
            "merchant_id",
            "country",
            "channel",
            "entry_mode",
            "card_present",
            "mcc",
        )
    }
    return [
        make_facts(
            transaction_id=columns["transaction_id"][i],
            card_id=columns["card_id"][i],
            merchant_id=columns["merchant_id"][i],
            event_ms=int(micros[i]) // 1000,
            amount_cents=int(cents[i]),
            country=columns["country"][i],
            channel=columns["channel"][i],
            entry_mode=columns["entry_mode"][i],
            card_present=columns["card_present"][i],
            mcc=columns["mcc"][i],
        )
        for i in range(table.num_rows)
    ]
