"""(d) Impossible travel: a cloned card used at a shop abroad minutes after a genuine payment.

The holder pays at home; soon after, the same card is read by a terminal hundreds of kilometres
away in another country, for ordinary amounts. Legit trips abroad exist (with a day or more to
get there), so a foreign country alone is no signal; distance from the card's previous
card-present payment divided by the time since it (implied speed) is.
"""

from __future__ import annotations

import numpy as np

from models.simulator import catalogue as cat
from models.simulator.amounts import usual_amount_eur
from models.simulator.fraud.common import (
    cumsum_within,
    fraud_days,
    fraud_rows,
    incident_count,
    position_within,
)
from models.simulator.geography import haversine_km
from models.simulator.rng import stream
from models.simulator.rows import MICROS_PER_MINUTE, Rows
from models.simulator.world import World


def impossible_travel(world: World, legit: Rows) -> Rows:
    config = world.config.fraud.impossible_travel
    rng = stream(world.config.seed, "fraud.impossible_travel")
    terminals = world.terminals
    days = fraud_days(world)
    wanted = incident_count(rng, config.incidents_per_1k_cards_per_day, len(world.cards), days)
    day = world.day_of(legit.time_us)
    anchors = np.flatnonzero(
        (legit.channel == cat.POS)
        & (day >= world.config.fraud.warmup_days)
        & (day < world.config.n_days - 1)
    )
    anchor = np.sort(rng.choice(anchors, size=min(wanted, len(anchors)), replace=False))
    shops = terminals.of_channel(cat.POS)
    distance = haversine_km(
        legit.lat[anchor, None],
        legit.lon[anchor, None],
        terminals.lat[None, shops],
        terminals.lon[None, shops],
    )
    abroad = terminals.country[None, shops] != terminals.country[legit.terminal[anchor], None]
    eligible = (distance >= config.min_distance_km) & abroad
    # A random score per eligible shop, best taken: a uniform choice for every anchor at once.
    score = np.where(eligible, rng.random(eligible.shape), -1.0)
    best = np.argmax(score, axis=1)
    keep = score[np.arange(len(anchor)), best] >= 0
    anchor, terminal_of_incident = anchor[keep], shops[best[keep]]

    n = len(anchor)
    size = rng.integers(config.transactions[0], config.transactions[1] + 1, n)
    incident = np.repeat(np.arange(n), size)
    rows = len(incident)
    first_gap = rng.uniform(*config.first_after_minutes, n)[incident]
    later_gap = rng.exponential(config.gap_minutes_mean, rows)
    gap = np.where(position_within(size) == 0, first_gap, later_gap)
    elapsed = cumsum_within(gap, size)
    time_us = legit.time_us[anchor][incident] + (elapsed * MICROS_PER_MINUTE).astype(np.int64)
    card = legit.card[anchor][incident]
    terminal = terminal_of_incident[incident]
    amount = usual_amount_eur(rng, world.cards, card, terminals, terminal)
    return fraud_rows(world, rng, cat.IMPOSSIBLE_TRAVEL, incident, card, terminal, time_us, amount)
