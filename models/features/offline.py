"""Offline feature building: replay history in order through the same step functions."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from models.features.card import CardState, card_step
from models.features.facts import TxFacts
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
