"""Genuine spending: every card, every day, a Poisson number of purchases near home."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from models.simulator import catalogue as cat
from models.simulator.amounts import local_cents, usual_amount_eur
from models.simulator.rng import stream
from models.simulator.rows import NO_HASH, Rows, entry_modes, local_times_us
from models.simulator.world import UTC_OFFSETS, World


def generate_legit(world: World) -> Rows:
    config, cards, terminals = world.config, world.cards, world.terminals
    rng = stream(config.seed, "legit")
    n_cards, n_days = len(cards), config.n_days
    weekday = (config.start.weekday() + np.arange(n_days)) % 7
    expected = cards.tx_per_day[:, None] * cat.WEEKDAY_FACTORS[weekday][None, :]
    counts = rng.poisson(expected).ravel()  # card-major: all of card 0's days, then card 1's...
    card = np.repeat(np.repeat(np.arange(n_cards), n_days), counts)
    day = np.repeat(np.tile(np.arange(n_days), n_cards), counts)
    n = len(card)

    channel = (rng.random(n)[:, None] > cards.channel_cdf[card][:, :3]).sum(axis=1)
    abroad = (
        (cards.trip_city[card] >= 0)
        & (day >= cards.trip_first_day[card])
        & (day < cards.trip_end_day[card])
    )
    terminal = _terminals(world, rng, card, channel, abroad)
    # A tiny population may lack an ATM nearby; such rows fall back to a local shop.
    missing = terminal < 0
    channel[missing] = cat.POS
    terminal[missing] = cards.pos_near.pick(card[missing], rng.random(int(missing.sum())))

    time_us = local_times_us(
        rng, world.day_start_us(day), channel == cat.ECOM, UTC_OFFSETS[cards.country[card]]
    )
    amount_eur = usual_amount_eur(rng, cards, card, terminals, terminal)
    country = terminals.country[terminal]
    present = np.isin(channel, cat.CARD_PRESENT_CHANNELS)
    device, ip = world.card_devices(rng, card)
    ecom = channel == cat.ECOM
    return Rows(
        card=card,
        terminal=terminal,
        channel=channel,
        time_us=time_us,
        cents=local_cents(amount_eur, country, channel),
        mcc=terminals.mcc[terminal],
        entry_mode=entry_modes(rng, channel, amount_eur),
        device=np.where(ecom, device, NO_HASH),
        ip=np.where(ecom, ip, NO_HASH),
        lat=np.where(present, terminals.lat[terminal], np.nan),
        lon=np.where(present, terminals.lon[terminal], np.nan),
        scenario=np.full(n, cat.LEGIT, dtype=np.int64),
        incident=np.full(n, -1, dtype=np.int64),
    )


def _terminals(
    world: World,
    rng: np.random.Generator,
    card: npt.NDArray[np.int64],
    channel: npt.NDArray[np.int64],
    abroad: npt.NDArray[np.bool_],
) -> npt.NDArray[np.int64]:
    """Shops and cash machines near where the holder is that day; online, the usual sites."""
    cards = world.cards
    n = len(card)
    uniform = rng.random(n)
    terminal = np.full(n, -1, dtype=np.int64)
    for code, at_home, on_trip in (
        (cat.POS, cards.pos_near, world.city_pos),
        (cat.ATM, cards.atm_near, world.city_atm),
    ):
        home_rows = np.flatnonzero((channel == code) & ~abroad)
        trip_rows = np.flatnonzero((channel == code) & abroad)
        terminal[home_rows] = at_home.pick(card[home_rows], uniform[home_rows])
        terminal[trip_rows] = on_trip.pick(cards.trip_city[card[trip_rows]], uniform[trip_rows])
    for code, favourites in ((cat.ECOM, cards.ecom_favourites), (cat.MOTO, cards.moto_favourites)):
        rows = np.flatnonzero(channel == code)
        slot = (uniform[rows] * favourites.shape[1]).astype(np.int64)
        terminal[rows] = favourites[card[rows], slot]
    return terminal
