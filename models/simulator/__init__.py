"""A seeded card-transaction simulator: realistic data, fraud scenarios and delayed labels,
with no download.

In the spirit of the Fraud Detection Handbook's simulator (Le Borgne et al.): customers with
spending profiles and home locations, terminals with locations, purchases near home with daily
and weekly rhythms; plus four fraud scenarios that only windowed per-card or per-merchant
features reveal (models.simulator.fraud), delayed labels, and switchable distribution shifts.

    result = simulate(SimulatorConfig())          # ~0.8M transactions over 100 days, seconds
    result.transactions, result.labels            # pyarrow tables (models.datasets.columns)
    for key, value in iter_transaction_json(result.transactions): ...
"""

from __future__ import annotations

from models.simulator.catalogue import SCENARIOS
from models.simulator.config import (
    CardTestingConfig,
    CompromisedTerminalConfig,
    FraudConfig,
    ImpossibleTravelConfig,
    InflatedAmountsConfig,
    LabelConfig,
    MccShift,
    NewCountryShift,
    ShiftConfig,
    SimulatorConfig,
)
from models.simulator.generate import SimulationResult, simulate
from models.simulator.persist import store_simulation
from models.simulator.stream import iter_label_json, iter_transaction_json, shift_to_now

__all__ = [
    "SCENARIOS",
    "CardTestingConfig",
    "CompromisedTerminalConfig",
    "FraudConfig",
    "ImpossibleTravelConfig",
    "InflatedAmountsConfig",
    "LabelConfig",
    "MccShift",
    "NewCountryShift",
    "ShiftConfig",
    "SimulationResult",
    "SimulatorConfig",
    "iter_label_json",
    "iter_transaction_json",
    "shift_to_now",
    "simulate",
    "store_simulation",
]
