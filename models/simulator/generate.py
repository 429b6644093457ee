"""The simulator's entry point: config in, transactions and labels out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from models.simulator.config import SimulatorConfig
from models.simulator.fraud import generate_fraud
from models.simulator.labels import generate_labels
from models.simulator.legit import generate_legit
from models.simulator.rows import MICROS_PER_DAY, Rows, concat
from models.simulator.shifts import apply_shift
from models.simulator.table import event_order, labels_table, mcc_codes, transactions_table
from models.simulator.world import build_world


@dataclass(frozen=True)
class SimulationResult:
    config: SimulatorConfig
    transactions: Any  # pyarrow.Table, columns of models.datasets.columns.TRANSACTIONS_SCHEMA
    labels: Any  # pyarrow.Table, columns of models.datasets.columns.LABELS_SCHEMA


def simulate(config: SimulatorConfig) -> SimulationResult:
    world = build_world(config)
    legit = generate_legit(world)
    rows = concat([legit, generate_fraud(world, legit)])
    rows = _inside_period(rows, world.start_us, world.start_us + config.n_days * MICROS_PER_DAY)
    if config.shift is not None:
        world, rows = apply_shift(world, rows, config.shift)
    rows = _take(rows, event_order(rows))
    labels = generate_labels(config.labels, config.seed, rows)
    transactions = transactions_table(world, rows, mcc_codes(world))
    return SimulationResult(config, transactions, labels_table(transactions, labels))


def _inside_period(rows: Rows, start_us: int, end_us: int) -> Rows:
    """Drop the few rows that local clocks or a burst pushed outside the simulated days."""
    return _take(rows, np.flatnonzero((rows.time_us >= start_us) & (rows.time_us < end_us)))


def _take(rows: Rows, index: npt.NDArray[np.int64]) -> Rows:
    return Rows(**{name: getattr(rows, name)[index] for name in Rows.__dataclass_fields__})
