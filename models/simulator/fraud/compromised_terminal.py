"""(a) Compromised terminal: a burst of stolen cards at one shop, for inflated amounts.

A breached or colluding terminal runs many different cards within hours to a couple of days,
for several times what that shop usually takes. Each card sees one odd purchase; the merchant
sees its count and mean amount jump against its own history — a per-merchant window feature.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from models.simulator import catalogue as cat
from models.simulator.amounts import to_eur
from models.simulator.fraud.common import fraud_days, fraud_rows, incident_count
from models.simulator.rng import stream
from models.simulator.rows import MICROS_PER_DAY, MICROS_PER_HOUR, Rows
from models.simulator.world import World


def compromised_terminal(world: World, legit: Rows) -> Rows:
    config = world.config.fraud.compromised_terminal
    rng = stream(world.config.seed, "fraud.compromised_terminal")
    terminals = world.terminals
    shops = terminals.of_channel(cat.POS)
    days = fraud_days(world)
    n = min(
        incident_count(
            rng, config.incidents_per_1k_merchants_per_day, world.config.n_merchants, days
        ),
        len(shops),
    )
    terminal = rng.choice(shops, size=n, replace=False)
    duration_us = (rng.uniform(*config.duration_hours, n) * MICROS_PER_HOUR).astype(np.int64)
    first_us = world.day_start_us(np.full(n, world.config.fraud.warmup_days)) + (
        rng.random(n) * days * MICROS_PER_DAY
    ).astype(np.int64)
    size = rng.integers(config.transactions[0], config.transactions[1] + 1, n)

    incident = np.repeat(np.arange(n), size)
    rows = len(incident)
    time_us = first_us[incident] + (rng.random(rows) * duration_us[incident]).astype(np.int64)
    card = rng.integers(0, len(world.cards), rows)  # stolen cards from anywhere
    usual = _merchant_mean_eur(world, legit)[terminals.merchant[terminal]]
    noise = rng.lognormal(0.0, 0.2, rows)
    amount = usual[incident] * rng.uniform(*config.amount_factor, rows) * noise
    return fraud_rows(
        world, rng, cat.COMPROMISED_TERMINAL, incident, card, terminal[incident], time_us, amount
    )


def _merchant_mean_eur(world: World, legit: Rows) -> npt.NDArray[np.float64]:
    """Each merchant's mean genuine amount, the baseline its fraud is inflated against."""
    merchant = world.terminals.merchant[legit.terminal]
    eur = to_eur(legit.cents, world.terminals.country[legit.terminal])
    n_merchants = int(world.terminals.merchant.max()) + 1
    total = np.bincount(merchant, weights=eur, minlength=n_merchants)
    count = np.bincount(merchant, minlength=n_merchants)
    overall = float(eur.mean()) if len(eur) else 30.0
    return np.where(count > 0, total / np.maximum(count, 1), overall)
