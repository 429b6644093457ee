"""(b) Compromised card, inflated amounts: for a few days the card buys far above its habit.

The holder keeps using the card normally while someone else spends several times the card's
usual amount, mostly online (card not present), sometimes with a cloned card at shops near the
holder's home (so distance gives nothing away). Revealed per card: amount against the card's own
30-day mean amount (ratio or z-score), and new devices for the online part.
"""

from __future__ import annotations

import numpy as np

from models.simulator import catalogue as cat
from models.simulator.amounts import usual_amount_eur
from models.simulator.fraud.common import fraud_days, fraud_rows, incident_count, popular_terminal
from models.simulator.rng import stream
from models.simulator.rows import Rows, local_times_us
from models.simulator.world import UTC_OFFSETS, World


def inflated_amounts(world: World) -> Rows:
    config = world.config.fraud.inflated_amounts
    rng = stream(world.config.seed, "fraud.inflated_amounts")
    cards = world.cards
    days = fraud_days(world)
    n = incident_count(rng, config.incidents_per_1k_cards_per_day, len(cards), days)
    victim = rng.integers(0, len(cards), n)
    first_day = world.config.fraud.warmup_days + rng.integers(0, max(days, 1), n)
    length = rng.uniform(*config.duration_days, n)
    size = rng.integers(config.transactions[0], config.transactions[1] + 1, n)
    fraudster = rng.integers(0, 1 << 30, n)

    incident = np.repeat(np.arange(n), size)
    rows = len(incident)
    card = victim[incident]
    offset = (rng.random(rows) * length[incident]).astype(np.int64)
    day = np.minimum(first_day[incident] + offset, world.config.n_days - 1)
    online = rng.random(rows) < config.ecom_share
    online_shops = world.terminals.of_channel(cat.ECOM)
    terminal = np.where(
        online,
        popular_terminal(rng, world, online_shops, rows),
        cards.pos_near.pick(card, rng.random(rows)),
    )
    # A card without a shop nearby (only in tiny configs) is used online instead.
    fallback = popular_terminal(rng, world, online_shops, rows)
    terminal = np.where(terminal < 0, fallback, terminal)
    time_us = local_times_us(
        rng,
        world.day_start_us(day),
        world.terminals.channel[terminal] == cat.ECOM,
        UTC_OFFSETS[cards.country[card]],
    )
    factor = rng.uniform(*config.amount_factor, rows)
    habitual = usual_amount_eur(rng, cards, card, world.terminals, terminal)
    # Digital goods come at fixed price points; a fraudster buys many at once or gift cards.
    base = np.where(
        world.terminals.category_factor[terminal] == 0, cards.mean_amount_eur[card], habitual
    )
    return fraud_rows(
        world, rng, cat.INFLATED_AMOUNTS, incident, card, terminal, time_us, base * factor,
        fraudster_device=fraudster[incident],
    )  # fmt: skip
