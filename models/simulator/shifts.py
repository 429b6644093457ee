"""Controlled distribution shifts for drift tests: each changes one aspect from a day on.

Every shift draws from its own random stream, one draw per row whether the row is affected or
not, so switching one shift on leaves every other column of every row as in the unshifted run:
- amount_scale: every amount (fraud included) times the factor; nothing else changes.
- amount_creep_per_day: the same, by a factor compounding each day from the shift's day on.
- ecom_share: that share of genuine POS payments become online ones at the same merchant, time and
  amount; the fields that follow from the channel follow (entry mode, card present, device/IP
  hashes, no customer location). MCC, merchant, country and amount stay.
- new_country: that share of genuine online payments made in the new country's currency go to
  new merchants of that country (which did not trade before), in the same MCC; amounts and
  currency stay, so only merchant/terminal ids and the country change.
- mcc: that share of merchants trade under another MCC (all their rows, fraud included).
Fraud rows keep their scenario's shape except under amount_scale and mcc, which act on everything.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from models.simulator import catalogue as cat
from models.simulator.amounts import MAX_CENTS
from models.simulator.config import MccShift, NewCountryShift, ShiftConfig
from models.simulator.geography import COUNTRIES
from models.simulator.population import (
    COUNTRY_CODES,
    Terminals,
    country_index,
    mcc_vocabulary,
    popularity_weights,
)
from models.simulator.rng import stream
from models.simulator.rows import Rows, entry_modes
from models.simulator.world import World

MERCHANTS_PER_CATEGORY = 3
CURRENCY_OF = np.array([COUNTRIES[code].currency for code in COUNTRY_CODES])


def apply_shift(world: World, rows: Rows, shift: ShiftConfig) -> tuple[World, Rows]:
    """The shifted rows, and the world grown by any merchants the shift brings in."""
    after = world.day_of(rows.time_us) >= shift.start_day
    if shift.mcc is not None:
        rows = _mcc(world, rows, after, shift.mcc)
    if shift.amount_scale is not None:
        scaled = np.rint(rows.cents * shift.amount_scale).astype(np.int64)
        rows = rows.changed(cents=np.where(after, np.clip(scaled, 1, MAX_CENTS), rows.cents))
    if shift.amount_creep_per_day is not None:
        days = np.maximum(world.day_of(rows.time_us) - shift.start_day + 1, 0)
        crept = np.rint(rows.cents * (1 + shift.amount_creep_per_day) ** days).astype(np.int64)
        rows = rows.changed(cents=np.where(after, np.clip(crept, 1, MAX_CENTS), rows.cents))
    if shift.new_country is not None:
        world, rows = _new_country(world, rows, after, shift.new_country)
    if shift.ecom_share is not None:
        rows = _more_online(world, rows, after, shift.ecom_share)
    return world, rows


def _mcc(world: World, rows: Rows, after: npt.NDArray[np.bool_], shift: MccShift) -> Rows:
    rng = stream(world.config.seed, "shift.mcc")
    merchants = int(world.terminals.merchant.max()) + 1
    moved = rng.random(merchants) < shift.merchant_share
    code = mcc_vocabulary((shift.mcc,)).index(shift.mcc)
    affected = after & moved[world.terminals.merchant[rows.terminal]]
    return rows.changed(mcc=np.where(affected, code, rows.mcc))


def _more_online(world: World, rows: Rows, after: npt.NDArray[np.bool_], share: float) -> Rows:
    rng = stream(world.config.seed, "shift.ecom_share")
    n = len(rows)
    convert = after & (rows.scenario < 0) & (rows.channel == cat.POS) & (rng.random(n) < share)
    device, ip = world.card_devices(rng, rows.card)
    channel = np.where(convert, cat.ECOM, rows.channel)
    online_mode = entry_modes(rng, np.full(n, cat.ECOM), np.zeros(n))
    return rows.changed(
        channel=channel,
        entry_mode=np.where(convert, online_mode, rows.entry_mode),
        device=np.where(convert, device, rows.device),
        ip=np.where(convert, ip, rows.ip),
        lat=np.where(convert, np.nan, rows.lat),
        lon=np.where(convert, np.nan, rows.lon),
    )


def _new_country(
    world: World, rows: Rows, after: npt.NDArray[np.bool_], shift: NewCountryShift
) -> tuple[World, Rows]:
    rng = stream(world.config.seed, "shift.new_country")
    n = len(rows)
    old = world.terminals
    country = country_index(shift.country)
    # Only payments already in the new country's currency move, so amounts and currency stay.
    same_currency = CURRENCY_OF[old.country[rows.terminal]] == CURRENCY_OF[country]
    move = after & (rows.scenario < 0) & (rows.channel == cat.ECOM) & same_currency
    move &= rng.random(n) < shift.share
    pick = rng.integers(0, MERCHANTS_PER_CATEGORY, n)
    added = _merchants_in(world, rng, country)
    # New merchant k serves MCC index k // MERCHANTS_PER_CATEGORY: keep the row's MCC.
    replacement = len(old) + old.mcc[rows.terminal] * MERCHANTS_PER_CATEGORY + pick
    terminal = np.where(move, replacement, rows.terminal)
    grown = World(
        config=world.config,
        terminals=old.extended(added),
        cards=world.cards,
        city_pos=world.city_pos,
        city_atm=world.city_atm,
        start_us=world.start_us,
    )
    return grown, rows.changed(terminal=terminal)


def _merchants_in(world: World, rng: np.random.Generator, country: int) -> Terminals:
    """Online merchants of the new country, MERCHANTS_PER_CATEGORY for every MCC index."""
    vocabulary_size = len(mcc_vocabulary())
    count = vocabulary_size * MERCHANTS_PER_CATEGORY
    first_merchant = int(world.terminals.merchant.max()) + 1
    return Terminals(
        merchant=first_merchant + np.arange(count),
        number_in_merchant=np.ones(count, dtype=np.int64),
        channel=np.full(count, cat.ECOM),
        country=np.full(count, country),
        lat=np.zeros(count),
        lon=np.zeros(count),
        mcc=np.repeat(np.arange(vocabulary_size), MERCHANTS_PER_CATEGORY),
        category_factor=np.ones(count),
        merchant_factor=np.ones(count),
        popularity=popularity_weights(rng, count),
    )
