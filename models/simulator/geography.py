"""Where cards live and merchants trade: a few countries, their main cities, currency, clock.

Coordinates are approximate city centres. Customers and merchants scatter around the cities, so
density (and so the number of terminals within reach) follows population roughly, not a grid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

EARTH_RADIUS_KM = 6371.0


@dataclass(frozen=True)
class City:
    name: str
    lat: float
    lon: float
    weight: float


@dataclass(frozen=True)
class Country:
    code: str
    currency: str
    eur_rate: float
    """Units of `currency` per euro: amounts are drawn in euros, then converted."""
    utc_offset_hours: int
    """Standard-time offset: daily rhythms are local, event times are UTC (DST ignored)."""
    cities: tuple[City, ...]


COUNTRIES: dict[str, Country] = {
    country.code: country
    for country in (
        Country(
            "FR",
            "EUR",
            1.0,
            1,
            (
                City("Paris", 48.857, 2.352, 0.36),
                City("Lyon", 45.764, 4.836, 0.12),
                City("Marseille", 43.296, 5.370, 0.11),
                City("Toulouse", 43.605, 1.444, 0.10),
                City("Lille", 50.629, 3.057, 0.10),
                City("Bordeaux", 44.838, -0.579, 0.10),
                City("Nantes", 47.218, -1.554, 0.11),
            ),
        ),
        Country(
            "BE",
            "EUR",
            1.0,
            1,
            (City("Brussels", 50.850, 4.352, 0.6), City("Antwerp", 51.219, 4.402, 0.4)),
        ),
        Country(
            "DE",
            "EUR",
            1.0,
            1,
            (
                City("Berlin", 52.520, 13.405, 0.4),
                City("Munich", 48.137, 11.575, 0.3),
                City("Frankfurt", 50.110, 8.682, 0.3),
            ),
        ),
        Country(
            "ES",
            "EUR",
            1.0,
            1,
            (City("Madrid", 40.417, -3.704, 0.55), City("Barcelona", 41.385, 2.173, 0.45)),
        ),
        Country(
            "IT",
            "EUR",
            1.0,
            1,
            (City("Rome", 41.903, 12.496, 0.5), City("Milan", 45.464, 9.190, 0.5)),
        ),
        Country(
            "GB",
            "GBP",
            0.85,
            0,
            (City("London", 51.507, -0.128, 0.7), City("Manchester", 53.481, -2.243, 0.3)),
        ),
        Country(
            "CH",
            "CHF",
            0.95,
            1,
            (City("Geneva", 46.204, 6.143, 0.5), City("Zurich", 47.377, 8.541, 0.5)),
        ),
        Country(
            "PT",
            "EUR",
            1.0,
            0,
            (City("Lisbon", 38.722, -9.139, 0.6), City("Porto", 41.158, -8.629, 0.4)),
        ),
    )
}


@dataclass(frozen=True)
class CityTable:
    """The cities of the chosen countries, flattened into arrays indexed by city number."""

    country_codes: tuple[str, ...]
    country: npt.NDArray[np.int64]  # index into country_codes
    lat: npt.NDArray[np.float64]
    lon: npt.NDArray[np.float64]
    weight_in_country: npt.NDArray[np.float64]

    def of_country(self, country_index: int) -> npt.NDArray[np.int64]:
        return np.flatnonzero(self.country == country_index)


def city_table(country_codes: tuple[str, ...]) -> CityTable:
    rows = [
        (index, city) for index, code in enumerate(country_codes) for city in COUNTRIES[code].cities
    ]
    return CityTable(
        country_codes=country_codes,
        country=np.array([index for index, _ in rows], dtype=np.int64),
        lat=np.array([city.lat for _, city in rows]),
        lon=np.array([city.lon for _, city in rows]),
        weight_in_country=np.array([city.weight for _, city in rows]),
    )


def haversine_km(
    lat1: npt.ArrayLike, lon1: npt.ArrayLike, lat2: npt.ArrayLike, lon2: npt.ArrayLike
) -> npt.NDArray[np.float64]:
    """Great-circle distance; broadcasts like numpy."""
    phi1, phi2 = np.radians(lat1), np.radians(lat2)
    half_dphi = (phi2 - phi1) / 2
    half_dlambda = np.radians(np.subtract(lon2, lon1)) / 2
    a = np.sin(half_dphi) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(half_dlambda) ** 2
    return np.asarray(2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0))))


KM_PER_DEGREE_LAT = 110.57


def scatter_around(
    rng: np.random.Generator,
    lat: npt.NDArray[np.float64],
    lon: npt.NDArray[np.float64],
    sigma_km: float,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Points normally spread around the given centres (flat-earth step: a city is small)."""
    dlat = rng.normal(0.0, sigma_km, len(lat)) / KM_PER_DEGREE_LAT
    dlon = rng.normal(0.0, sigma_km, len(lon)) / (KM_PER_DEGREE_LAT * np.cos(np.radians(lat)))
    return np.round(lat + dlat, 4), np.round(lon + dlon, 4)
