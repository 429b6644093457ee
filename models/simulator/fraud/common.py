"""Pieces shared by the fraud scenarios."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from models.simulator import catalogue as cat
from models.simulator.amounts import local_cents
from models.simulator.population import mcc_vocabulary
from models.simulator.rows import NO_HASH, Rows, entry_modes
from models.simulator.world import World


def incident_count(
    rng: np.random.Generator, rate_per_1k_per_day: float, population: int, days: int
) -> int:
    return int(rng.poisson(rate_per_1k_per_day * population / 1000 * max(days, 0)))


def fraud_days(world: World) -> int:
    """Days on which an incident may start: after the warm-up, not on the very last day."""
    return max(world.config.n_days - world.config.fraud.warmup_days - 1, 0)


def fraud_rows(
    world: World,
    rng: np.random.Generator,
    scenario: int,
    incident: npt.NDArray[np.int64],
    card: npt.NDArray[np.int64],
    terminal: npt.NDArray[np.int64],
    time_us: npt.NDArray[np.int64],
    amount_eur: npt.NDArray[np.float64],
    fraudster_device: npt.NDArray[np.int64] | None = None,
) -> Rows:
    """Fraud rows shaped exactly like legit ones (same fields, same code paths for entry mode
    and location), so that only behaviour over time gives them away.

    `fraudster_device` (one draw per row, usually per incident) gives online rows the fraud ring's
    device and IP instead of the cardholder's."""
    terminals = world.terminals
    channel = terminals.channel[terminal]
    country = terminals.country[terminal]
    present = np.isin(channel, cat.CARD_PRESENT_CHANNELS)
    ecom = channel == cat.ECOM
    own_device, own_ip = world.card_devices(rng, card)
    if fraudster_device is None:
        device, ip = own_device, own_ip
    else:
        device, ip = world.fraud_device(fraudster_device), world.fraud_ip(fraudster_device)
    n = len(card)
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
        scenario=np.full(n, scenario, dtype=np.int64),
        incident=incident,
    )


def popular_terminal(
    rng: np.random.Generator, world: World, options: npt.NDArray[np.int64], size: int
) -> npt.NDArray[np.int64]:
    """Online shops weighted by popularity: fraudsters go where goods resell."""
    weights = world.terminals.popularity[options]
    return options[rng.choice(len(options), size=size, p=weights / weights.sum())]


def terminals_with_mcc(world: World, channel: int, mccs: tuple[str, ...]) -> npt.NDArray[np.int64]:
    """Terminals of `channel` in the given categories, or all of that channel if none exist."""
    vocabulary = mcc_vocabulary()
    wanted = [vocabulary.index(code) for code in mccs if code in vocabulary]
    terminals = world.terminals
    chosen = np.flatnonzero((terminals.channel == channel) & np.isin(terminals.mcc, wanted))
    return chosen if len(chosen) else terminals.of_channel(channel)


def cumsum_within(
    values: npt.NDArray[np.float64], group_sizes: npt.NDArray[np.int64]
) -> npt.NDArray[np.float64]:
    """Running sums restarting at each group (groups are consecutive runs of rows)."""
    total = np.cumsum(values)
    group_start = np.cumsum(group_sizes) - group_sizes
    before = np.concatenate([[0.0], total])[group_start]
    return np.asarray(total - np.repeat(before, group_sizes), dtype=np.float64)


def position_within(group_sizes: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """0, 1, 2, ... inside each group of consecutive rows."""
    starts = np.cumsum(group_sizes) - group_sizes
    return np.arange(int(group_sizes.sum())) - np.repeat(starts, group_sizes)
