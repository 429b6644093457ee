"""The actors: merchants with their terminals, and cards with their holders' habits.

Everything is columnar (one numpy array per attribute, indexed by terminal or card number), so
generating transactions is array indexing, not a loop over people.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from models.simulator import catalogue as cat
from models.simulator.config import SimulatorConfig
from models.simulator.geography import COUNTRIES, CityTable, city_table, scatter_around
from models.simulator.neighbours import Neighbourhoods, neighbourhoods
from models.simulator.rng import stream

COUNTRY_CODES: tuple[str, ...] = tuple(COUNTRIES)
"""Country numbering used inside the simulation (index → ISO code)."""
CITIES: CityTable = city_table(COUNTRY_CODES)

ECOM_FAVOURITES = 12
MOTO_FAVOURITES = 4
MAX_DEVICES_PER_CARD = 3


def country_index(code: str) -> int:
    return COUNTRY_CODES.index(code)


def mcc_vocabulary(extra: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Every MCC the simulation can emit, in a fixed order (index → code)."""
    codes = [category.mcc for categories in cat.CATEGORIES.values() for category in categories]
    return tuple(dict.fromkeys([*codes, *extra]))


@dataclass(frozen=True)
class Terminals:
    """One row per terminal; merchant attributes are repeated on each of its terminals."""

    merchant: npt.NDArray[np.int64]
    number_in_merchant: npt.NDArray[np.int64]
    channel: npt.NDArray[np.int64]
    country: npt.NDArray[np.int64]
    lat: npt.NDArray[np.float64]
    lon: npt.NDArray[np.float64]
    mcc: npt.NDArray[np.int64]  # index into mcc_vocabulary()
    category_factor: npt.NDArray[np.float64]  # 0 marks digital goods (priced from price points)
    merchant_factor: npt.NDArray[np.float64]
    popularity: npt.NDArray[np.float64]  # online merchants: relative chance of being a favourite

    def __len__(self) -> int:
        return len(self.merchant)

    def of_channel(self, channel: int) -> npt.NDArray[np.int64]:
        return np.flatnonzero(self.channel == channel)

    def extended(self, other: Terminals) -> Terminals:
        """Both tables as one (`other`'s rows numbered after this one's)."""
        return Terminals(
            **{
                name: np.concatenate([getattr(self, name), getattr(other, name)])
                for name in self.__dataclass_fields__
            }
        )


def popularity_weights(rng: np.random.Generator, n: int) -> npt.NDArray[np.float64]:
    """A power law over a random ranking: a few online shops get much of the traffic, but no
    single one dwarfs the rest (an unbounded Zipf draw can)."""
    rank = rng.permutation(n) + 1
    return np.asarray(rank**-0.8, dtype=np.float64)


def _merchant_categories(
    rng: np.random.Generator, channel: npt.NDArray[np.int64], mccs: tuple[str, ...]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    mcc = np.zeros(len(channel), dtype=np.int64)
    factor = np.zeros(len(channel))
    for code, categories in cat.CATEGORIES.items():
        rows = np.flatnonzero(channel == code)
        weights = np.array([category.weight for category in categories])
        choice = rng.choice(len(categories), size=len(rows), p=weights / weights.sum())
        mcc[rows] = np.array([mccs.index(category.mcc) for category in categories])[choice]
        factor[rows] = np.array([category.amount_factor for category in categories])[choice]
    return mcc, factor


def generate_terminals(config: SimulatorConfig) -> Terminals:
    rng = stream(config.seed, "merchants")
    n = config.n_merchants
    channel = rng.choice(4, size=n, p=cat.MERCHANT_CHANNEL_WEIGHTS)
    channel[:4] = np.arange(4)  # every channel has at least one merchant, even in a tiny config
    codes = list(config.merchant_countries)
    weights = np.array([config.merchant_countries[code] for code in codes])
    country = np.array([country_index(code) for code in codes])[
        rng.choice(len(codes), size=n, p=weights / weights.sum())
    ]
    city = _city_in_country(rng, country)
    lat, lon = scatter_around(rng, CITIES.lat[city], CITIES.lon[city], config.city_spread_km)
    mcc, category_factor = _merchant_categories(rng, channel, mcc_vocabulary())
    merchant_factor = rng.lognormal(-0.06, 0.35, n)  # mean ≈ 1: some shops are dearer than others
    popularity = popularity_weights(rng, n)
    # Shops have one or more tills; online and mail-order merchants one gateway terminal.
    extra_terminals = np.where(np.isin(channel, cat.CARD_PRESENT_CHANNELS), rng.poisson(0.5, n), 0)
    merchant = np.repeat(np.arange(n), 1 + extra_terminals)
    first_of_merchant = np.cumsum(1 + extra_terminals) - (1 + extra_terminals)
    number = np.arange(len(merchant)) - first_of_merchant[merchant] + 1
    return Terminals(
        merchant=merchant,
        number_in_merchant=number,
        channel=channel[merchant],
        country=country[merchant],
        lat=lat[merchant],
        lon=lon[merchant],
        mcc=mcc[merchant],
        category_factor=category_factor[merchant],
        merchant_factor=merchant_factor[merchant],
        popularity=popularity[merchant],
    )


def _city_in_country(
    rng: np.random.Generator, country: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    city = np.zeros(len(country), dtype=np.int64)
    for index in np.unique(country):
        rows = np.flatnonzero(country == index)
        options = CITIES.of_country(int(index))
        weights = CITIES.weight_in_country[options]
        city[rows] = options[rng.choice(len(options), size=len(rows), p=weights / weights.sum())]
    return city


@dataclass(frozen=True)
class Cards:
    """One row per card (one card per customer)."""

    country: npt.NDArray[np.int64]
    lat: npt.NDArray[np.float64]
    lon: npt.NDArray[np.float64]
    tx_per_day: npt.NDArray[np.float64]
    mean_amount_eur: npt.NDArray[np.float64]
    amount_sigma: npt.NDArray[np.float64]
    channel_cdf: npt.NDArray[np.float64]  # (n, 4) cumulative channel mix
    n_devices: npt.NDArray[np.int64]
    ecom_favourites: npt.NDArray[np.int64]  # (n, ECOM_FAVOURITES) terminal indices
    moto_favourites: npt.NDArray[np.int64]  # (n, MOTO_FAVOURITES) terminal indices
    trip_city: npt.NDArray[np.int64]  # -1: no trip
    trip_first_day: npt.NDArray[np.int64]
    trip_end_day: npt.NDArray[np.int64]  # exclusive
    pos_near: Neighbourhoods
    atm_near: Neighbourhoods

    def __len__(self) -> int:
        return len(self.country)

    def log_amount_mu(self) -> npt.NDArray[np.float64]:
        """Log-normal location giving each card its mean amount."""
        return np.log(self.mean_amount_eur) - self.amount_sigma**2 / 2


def generate_cards(config: SimulatorConfig, terminals: Terminals) -> Cards:
    rng = stream(config.seed, "cards")
    n = config.n_cards
    codes = list(config.card_countries)
    weights = np.array([config.card_countries[code] for code in codes])
    country = np.array([country_index(code) for code in codes])[
        rng.choice(len(codes), size=n, p=weights / weights.sum())
    ]
    city = _city_in_country(rng, country)
    lat, lon = scatter_around(rng, CITIES.lat[city], CITIES.lon[city], config.city_spread_km)
    mix = rng.dirichlet(cat.CARD_CHANNEL_MEAN * cat.CARD_CHANNEL_CONCENTRATION, n)
    trip_city, trip_first, trip_end = _trips(config, rng, country)
    return Cards(
        country=country,
        lat=lat,
        lon=lon,
        tx_per_day=rng.uniform(*config.tx_per_day, n),
        mean_amount_eur=rng.uniform(*config.mean_amount_eur, n),
        amount_sigma=rng.uniform(*config.amount_sigma, n),
        channel_cdf=np.cumsum(mix, axis=1),
        n_devices=rng.integers(1, MAX_DEVICES_PER_CARD + 1, n),
        ecom_favourites=_favourites(rng, terminals, cat.ECOM, n, ECOM_FAVOURITES),
        moto_favourites=_favourites(rng, terminals, cat.MOTO, n, MOTO_FAVOURITES),
        trip_city=trip_city,
        trip_first_day=trip_first,
        trip_end_day=trip_end,
        pos_near=_near(config, lat, lon, terminals, cat.POS),
        atm_near=_near(config, lat, lon, terminals, cat.ATM),
    )


def _favourites(
    rng: np.random.Generator, terminals: Terminals, channel: int, n_cards: int, per_card: int
) -> npt.NDArray[np.int64]:
    """Each card's usual online shops, drawn by popularity (repeats make a shop more usual)."""
    options = terminals.of_channel(channel)
    weights = terminals.popularity[options]
    picks = rng.choice(len(options), size=(n_cards, per_card), p=weights / weights.sum())
    return options[picks]


def _near(
    config: SimulatorConfig,
    lat: npt.NDArray[np.float64],
    lon: npt.NDArray[np.float64],
    terminals: Terminals,
    channel: int,
) -> Neighbourhoods:
    options = terminals.of_channel(channel)
    return neighbourhoods(
        lat,
        lon,
        options,
        terminals.lat[options],
        terminals.lon[options],
        config.nearby_radius_km,
        config.nearby_min_terminals,
        config.nearby_max_terminals,
        config.nearby_reach_km,
        at_least_one=channel == cat.POS,
    )


def city_neighbourhoods(
    config: SimulatorConfig, terminals: Terminals, channel: int
) -> Neighbourhoods:
    """Terminals a visitor uses around each city centre (where a trip takes the cardholder)."""
    return _near(config, CITIES.lat, CITIES.lon, terminals, channel)


def _trips(
    config: SimulatorConfig, rng: np.random.Generator, home: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """At most one trip abroad per card, to a city of another trading country."""
    n = len(home)
    travels = rng.random(n) < config.trip_share
    trading = np.isin(CITIES.country, [country_index(code) for code in config.merchant_countries])
    # Score every trading foreign city at random and take the best: a vectorised uniform choice.
    score = rng.random((n, len(CITIES.country)))
    score[:, ~trading] = -1.0
    score[CITIES.country[None, :] == home[:, None]] = -1.0
    city = np.argmax(score, axis=1)
    travels &= score[np.arange(n), city] >= 0
    length = rng.integers(config.trip_days[0], config.trip_days[1] + 1, n)
    first = rng.integers(0, max(config.n_days - 1, 1), n)
    return np.where(travels, city, -1), first, np.where(travels, first + length, first)
