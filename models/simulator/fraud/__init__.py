"""Fraud scenarios, each one invisible to a single transaction's fields and visible to a window
of the card's or the merchant's recent history (see each module's docstring)."""

from __future__ import annotations

from models.simulator.fraud.card_testing import card_testing
from models.simulator.fraud.compromised_terminal import compromised_terminal
from models.simulator.fraud.impossible_travel import impossible_travel
from models.simulator.fraud.inflated_amounts import inflated_amounts
from models.simulator.rows import Rows, concat
from models.simulator.world import World


def generate_fraud(world: World, legit: Rows) -> Rows:
    """All scenarios' rows; each scenario draws from its own random stream."""
    return concat(
        [
            compromised_terminal(world, legit),
            inflated_amounts(world),
            card_testing(world),
            impossible_travel(world, legit),
        ]
    )
