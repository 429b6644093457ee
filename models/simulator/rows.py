"""Transactions while they are being generated: parallel numpy arrays, codes instead of strings."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np
import numpy.typing as npt

from models.simulator import catalogue as cat

MICROS_PER_MINUTE = 60_000_000
MICROS_PER_HOUR = 60 * MICROS_PER_MINUTE
MICROS_PER_DAY = 24 * MICROS_PER_HOUR
NO_HASH = -1


@dataclass(frozen=True)
class Rows:
    card: npt.NDArray[np.int64]
    terminal: npt.NDArray[np.int64]
    channel: npt.NDArray[np.int64]
    time_us: npt.NDArray[np.int64]  # UTC microseconds since the Unix epoch
    cents: npt.NDArray[np.int64]  # in the merchant country's currency
    mcc: npt.NDArray[np.int64]  # per row, so a shift can re-categorise a merchant from a day on
    entry_mode: npt.NDArray[np.int64]
    device: npt.NDArray[np.int64]  # index into the device hash pool, NO_HASH if none
    ip: npt.NDArray[np.int64]  # index into the IP hash pool, NO_HASH if none
    lat: npt.NDArray[np.float64]  # NaN where the cardholder's location is unknown (not present)
    lon: npt.NDArray[np.float64]
    scenario: npt.NDArray[np.int64]  # catalogue.LEGIT or a scenario index
    incident: npt.NDArray[np.int64]  # numbering within the scenario, -1 for legit

    def __len__(self) -> int:
        return len(self.card)

    def changed(self, **columns: npt.NDArray[np.generic]) -> Rows:
        return replace(self, **columns)  # type: ignore[arg-type]


def concat(parts: list[Rows]) -> Rows:
    return Rows(
        **{
            field.name: np.concatenate([getattr(part, field.name) for part in parts])
            for field in fields(Rows)
        }
    )


def card_present(channel: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    return np.isin(channel, cat.CARD_PRESENT_CHANNELS)


def entry_modes(
    rng: np.random.Generator,
    channel: npt.NDArray[np.int64],
    amount_eur: npt.NDArray[np.float64],
) -> npt.NDArray[np.int64]:
    """How the card was read, given the channel (and the contactless ceiling for shops)."""
    n = len(channel)
    draw, tap = rng.random(n), rng.random(n)
    mode = np.full(n, cat.CHIP, dtype=np.int64)
    pos = channel == cat.POS
    mode[pos & (tap < 0.65) & (amount_eur <= cat.CONTACTLESS_LIMIT_EUR)] = cat.CONTACTLESS
    mode[pos & (draw < 0.03)] = cat.MAGSTRIPE  # old terminals, chip fallback
    mode[pos & (draw >= 0.03) & (draw < 0.04)] = cat.MANUAL  # key-entered at the till
    mode[(channel == cat.ATM) & (draw < 0.02)] = cat.MAGSTRIPE
    ecom = channel == cat.ECOM
    mode[ecom] = np.where(draw[ecom] < 0.25, cat.CREDENTIAL_ON_FILE, cat.ENTRY_ECOM)
    mode[channel == cat.MOTO] = cat.MANUAL
    return mode


def local_times_us(
    rng: np.random.Generator,
    day_start_us: npt.NDArray[np.int64],
    online: npt.NDArray[np.bool_],
    utc_offset_hours: npt.NDArray[np.int64],
) -> npt.NDArray[np.int64]:
    """A time on each given (UTC-midnight) day, following the local daily rhythm, to the
    millisecond; online purchases follow the evening-heavy profile."""
    n = len(day_start_us)
    u = rng.random(n)
    hour = np.where(
        online,
        np.searchsorted(np.cumsum(cat.ONLINE_HOUR_PROFILE), u, side="right"),
        np.searchsorted(np.cumsum(cat.STORE_HOUR_PROFILE), u, side="right"),
    )
    hour = np.minimum(hour, 23)
    millis = rng.integers(0, 3_600_000, n)
    local = hour * MICROS_PER_HOUR + millis * 1000
    return day_start_us + local - utc_offset_hours * MICROS_PER_HOUR
