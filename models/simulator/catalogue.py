"""Fixed vocabularies and the shapes of everyday spending (codes are array indices here).

Figures are plausible orders of magnitude for European card spending, not measurements.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from schemas.transaction import Channel, EntryMode

CHANNELS: tuple[str, ...] = (Channel.POS, Channel.ECOM, Channel.ATM, Channel.MOTO)
POS, ECOM, ATM, MOTO = range(4)
CARD_PRESENT_CHANNELS = (POS, ATM)

ENTRY_MODES: tuple[str, ...] = (
    EntryMode.CHIP,
    EntryMode.CONTACTLESS,
    EntryMode.MAGSTRIPE,
    EntryMode.MANUAL,
    EntryMode.CREDENTIAL_ON_FILE,
    EntryMode.ECOM,
)
CHIP, CONTACTLESS, MAGSTRIPE, MANUAL, CREDENTIAL_ON_FILE, ENTRY_ECOM = range(6)

CONTACTLESS_LIMIT_EUR = 50.0
"""Above this a card-present payment needs the chip (the usual European contactless ceiling)."""

SCENARIOS: tuple[str, ...] = (
    "compromised_terminal",
    "inflated_amounts",
    "card_testing",
    "impossible_travel",
)
COMPROMISED_TERMINAL, INFLATED_AMOUNTS, CARD_TESTING, IMPOSSIBLE_TRAVEL = range(4)
LEGIT = -1


@dataclass(frozen=True)
class Category:
    mcc: str
    weight: float
    amount_factor: float
    """Typical basket relative to the card's own mean amount."""


CATEGORIES: dict[int, tuple[Category, ...]] = {
    POS: (
        Category("5411", 0.30, 1.0),  # grocery
        Category("5812", 0.13, 1.1),  # restaurants
        Category("5814", 0.10, 0.35),  # fast food
        Category("5541", 0.10, 1.2),  # fuel
        Category("5912", 0.07, 0.6),  # pharmacy
        Category("5311", 0.06, 1.6),  # department stores
        Category("5651", 0.07, 1.8),  # clothing
        Category("5999", 0.06, 1.0),  # miscellaneous retail
        Category("4121", 0.04, 0.7),  # taxis
        Category("5942", 0.04, 0.7),  # books
        Category("7011", 0.03, 3.0),  # hotels
    ),
    ECOM: (
        Category("5311", 0.25, 1.2),  # marketplaces
        Category("5815", 0.15, 0.0),  # digital goods: priced from DIGITAL_PRICE_POINTS instead
        Category("5732", 0.12, 3.0),  # electronics
        Category("4722", 0.08, 4.0),  # travel
        Category("5651", 0.15, 1.5),  # clothing
        Category("5942", 0.08, 0.6),  # books
        Category("4899", 0.07, 0.4),  # streaming and subscriptions
        Category("8398", 0.03, 0.8),  # charities
        Category("5999", 0.07, 1.0),  # miscellaneous
    ),
    ATM: (Category("6011", 1.0, 2.0),),
    MOTO: (
        Category("5964", 0.4, 1.5),  # catalogue merchants
        Category("4722", 0.3, 3.5),  # travel agents
        Category("5969", 0.3, 1.2),  # direct marketing
    ),
}

DIGITAL_GOODS_MCC = "5815"
DIGITAL_PRICE_POINTS_CENTS = np.array([99, 199, 299, 499, 999, 1499], dtype=np.int64)
DIGITAL_PRICE_WEIGHTS = np.array([0.3, 0.25, 0.15, 0.15, 0.1, 0.05])
"""Small legit online amounts are common; card testing must not be catchable by amount alone."""

ATM_STEP_CENTS = 1000
"""Cash comes in notes: ATM amounts are multiples of 10 (and at least 20)."""

MERCHANT_CHANNEL_WEIGHTS = np.array([0.72, 0.20, 0.06, 0.02])
CARD_CHANNEL_MEAN = np.array([0.72, 0.20, 0.06, 0.02])
CARD_CHANNEL_CONCENTRATION = 20.0
"""Dirichlet concentration of each card's channel mix around the mean (some shop online more)."""

# Relative activity per local hour. Shops sleep at night; online shopping peaks in the evening.
_STORE_HOURS = [0.2, 0.1, 0.05, 0.05, 0.05, 0.1, 0.4, 1.0, 2.0, 3.0, 4.0, 5.0,
                6.0, 5.0, 4.5, 4.5, 5.0, 6.0, 6.5, 5.5, 3.5, 2.0, 1.0, 0.5]  # fmt: skip
_ONLINE_HOURS = [1.0, 0.6, 0.3, 0.2, 0.2, 0.3, 0.6, 1.2, 2.0, 2.5, 3.0, 3.2,
                 3.5, 3.5, 3.3, 3.3, 3.5, 3.8, 4.2, 4.8, 5.5, 5.5, 4.5, 2.5]  # fmt: skip


def _normalised(weights: list[float]) -> npt.NDArray[np.float64]:
    array = np.asarray(weights, dtype=np.float64)
    return np.asarray(array / array.sum(), dtype=np.float64)


STORE_HOUR_PROFILE = _normalised(_STORE_HOURS)
ONLINE_HOUR_PROFILE = _normalised(_ONLINE_HOURS)

WEEKDAY_FACTORS = np.array([0.95, 0.95, 1.0, 1.0, 1.1, 1.2, 0.8])
"""Monday..Sunday: Friday and Saturday are busiest, Sunday quietest (shops closed)."""
