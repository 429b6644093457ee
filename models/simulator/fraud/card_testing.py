"""(c) Card testing: a string of tiny online payments within minutes, then one large one.

Fraudsters check that stolen card details work with small amounts at low-friction online
merchants (digital goods, charities, subscriptions), then cash out at an electronics or travel
site. Legit small online amounts are common (price points of digital goods), so one small amount
says little; the count of small ECOM payments on the card within the last hour does.
"""

from __future__ import annotations

import numpy as np

from models.simulator import catalogue as cat
from models.simulator.amounts import EUR_RATES
from models.simulator.fraud.common import (
    cumsum_within,
    fraud_days,
    fraud_rows,
    incident_count,
    popular_terminal,
    position_within,
    terminals_with_mcc,
)
from models.simulator.rng import stream
from models.simulator.rows import MICROS_PER_MINUTE, Rows, local_times_us
from models.simulator.world import UTC_OFFSETS, World

TESTING_MCCS = ("5815", "8398", "4899", "5999")  # digital goods, charities, subscriptions, misc
CASH_OUT_MCCS = ("5732", "4722", "5311")  # electronics, travel, marketplaces


def card_testing(world: World) -> Rows:
    config = world.config.fraud.card_testing
    rng = stream(world.config.seed, "fraud.card_testing")
    cards = world.cards
    days = fraud_days(world)
    n = incident_count(rng, config.incidents_per_1k_cards_per_day, len(cards), days)
    victim = rng.integers(0, len(cards), n)
    day = world.config.fraud.warmup_days + rng.integers(0, max(days, 1), n)
    first_us = local_times_us(
        rng, world.day_start_us(day), np.ones(n, dtype=bool), UTC_OFFSETS[cards.country[victim]]
    )
    probes = rng.integers(config.probes[0], config.probes[1] + 1, n)
    fraudster = rng.integers(0, 1 << 30, n)
    testing_sites = terminals_with_mcc(world, cat.ECOM, TESTING_MCCS)
    sites = testing_sites[rng.integers(0, len(testing_sites), (n, 2))]  # one or two sites per burst

    # Probes: the first at the start, then exponential gaps; the cash-out follows the last one.
    per_incident = probes + 1
    incident = np.repeat(np.arange(n), per_incident)
    rows = len(incident)
    position = position_within(per_incident)
    is_cash_out = position == probes[incident]
    gap_minutes = np.where(
        is_cash_out,
        rng.exponential(config.cash_out_delay_minutes_mean, rows),
        rng.exponential(config.probe_gap_minutes_mean, rows),
    )
    gap_minutes[position == 0] = 0.0
    elapsed = cumsum_within(gap_minutes * MICROS_PER_MINUTE, per_incident)
    time_us = first_us[incident] + elapsed.astype(np.int64)

    probe_site = sites[incident, rng.integers(0, 2, rows)]
    cash_out_site = popular_terminal(
        rng, world, terminals_with_mcc(world, cat.ECOM, CASH_OUT_MCCS), rows
    )
    terminal = np.where(is_cash_out, cash_out_site, probe_site)
    # Half the probes mimic price points (0.99, 1.99, ...), half are arbitrary small amounts.
    low, high = config.probe_amount
    price_point = np.floor(rng.uniform(low, high, rows)) + 0.99
    arbitrary = np.round(rng.uniform(low, high, rows), 2)
    probe_amount = np.where(rng.random(rows) < 0.5, np.minimum(price_point, high), arbitrary)
    amount = np.where(is_cash_out, rng.uniform(*config.cash_out_amount, rows), probe_amount)
    # Probes are in the merchant's currency already: undo the conversion local_cents applies.
    rates = EUR_RATES[world.terminals.country[terminal]]
    amount = np.where(is_cash_out, amount, amount / rates)
    return fraud_rows(
        world, rng, cat.CARD_TESTING, incident, victim[incident], terminal, time_us, amount,
        fraudster_device=fraudster[incident],
    )  # fmt: skip
