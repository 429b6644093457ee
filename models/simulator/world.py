"""Everything fixed before the first transaction: population, neighbourhoods, hash pools."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from models.simulator import catalogue as cat
from models.simulator.config import SimulatorConfig
from models.simulator.geography import COUNTRIES
from models.simulator.neighbours import Neighbourhoods
from models.simulator.population import (
    COUNTRY_CODES,
    MAX_DEVICES_PER_CARD,
    Cards,
    Terminals,
    city_neighbourhoods,
    generate_cards,
    generate_terminals,
)
from models.simulator.rows import MICROS_PER_DAY

MOBILE_IPS = 500
"""Carrier NAT addresses shared by many cardholders on mobile data."""
FRAUD_DEVICES = 300
FRAUD_IPS = 400
"""Fraud rings reuse their devices and exit addresses across victims."""

UTC_OFFSETS = np.array([COUNTRIES[code].utc_offset_hours for code in COUNTRY_CODES])


@dataclass(frozen=True)
class World:
    config: SimulatorConfig
    terminals: Terminals
    cards: Cards
    city_pos: Neighbourhoods
    city_atm: Neighbourhoods
    start_us: int

    @property
    def n_devices(self) -> int:
        return len(self.cards) * MAX_DEVICES_PER_CARD + FRAUD_DEVICES

    @property
    def n_ips(self) -> int:
        return len(self.cards) + MOBILE_IPS + FRAUD_IPS

    def fraud_device(self, draw: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """A fraud ring's device, from a non-negative random draw."""
        return len(self.cards) * MAX_DEVICES_PER_CARD + draw % FRAUD_DEVICES

    def fraud_ip(self, draw: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """A fraud ring's address, from the same draw as its device but other digits of it, so
        a device does not always come with the same address."""
        return len(self.cards) + MOBILE_IPS + (draw // FRAUD_DEVICES) % FRAUD_IPS

    def day_start_us(self, day: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        return self.start_us + day * MICROS_PER_DAY

    def day_of(self, time_us: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        return (time_us - self.start_us) // MICROS_PER_DAY

    def card_devices(
        self, rng: np.random.Generator, card: npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """The cardholder's own device (mostly the first) and IP (mostly home, else mobile)."""
        n = len(card)
        main, other = rng.random(n), rng.random(n)
        slot = np.where(main < 0.7, 0, (other * self.cards.n_devices[card]).astype(np.int64))
        device = card * MAX_DEVICES_PER_CARD + slot
        home, mobile = rng.random(n), rng.integers(0, MOBILE_IPS, n)
        ip = np.where(home < 0.75, card, len(self.cards) + mobile)
        return device, ip


def build_world(config: SimulatorConfig) -> World:
    terminals = generate_terminals(config)
    return World(
        config=config,
        terminals=terminals,
        cards=generate_cards(config, terminals),
        city_pos=city_neighbourhoods(config, terminals, cat.POS),
        city_atm=city_neighbourhoods(config, terminals, cat.ATM),
        start_us=int(config.start.timestamp()) * 1_000_000,
    )
