"""How much a card spends at a merchant, in the merchant's currency, to the cent."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from models.simulator import catalogue as cat
from models.simulator.geography import COUNTRIES
from models.simulator.population import COUNTRY_CODES, Cards, Terminals
from schemas.transaction import MAX_AMOUNT

MAX_CENTS = int(MAX_AMOUNT * 100)
EUR_RATES = np.array([COUNTRIES[code].eur_rate for code in COUNTRY_CODES])


def usual_amount_eur(
    rng: np.random.Generator,
    cards: Cards,
    card: npt.NDArray[np.int64],
    terminals: Terminals,
    terminal: npt.NDArray[np.int64],
) -> npt.NDArray[np.float64]:
    """The card's habitual spend shaped by what and where it buys (log-normal per card)."""
    base = np.exp(rng.normal(cards.log_amount_mu()[card], cards.amount_sigma[card]))
    category = terminals.category_factor[terminal]
    amount = base * np.where(category > 0, category, 1.0) * terminals.merchant_factor[terminal]
    digital = category == 0
    price = rng.choice(cat.DIGITAL_PRICE_POINTS_CENTS, size=len(card), p=cat.DIGITAL_PRICE_WEIGHTS)
    return np.where(digital, price / 100.0, amount)


def local_cents(
    amount_eur: npt.NDArray[np.float64],
    country: npt.NDArray[np.int64],
    channel: npt.NDArray[np.int64],
) -> npt.NDArray[np.int64]:
    """Converted to the merchant country's currency and rounded; cash in whole notes."""
    cents = np.rint(amount_eur * EUR_RATES[country] * 100).astype(np.int64)
    atm = channel == cat.ATM
    notes = np.maximum(np.rint(cents / cat.ATM_STEP_CENTS), 2) * cat.ATM_STEP_CENTS
    cents = np.where(atm, notes.astype(np.int64), cents)
    return np.asarray(np.clip(cents, 1, MAX_CENTS), dtype=np.int64)


def to_eur(cents: npt.NDArray[np.int64], country: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    return np.asarray(cents / 100.0 / EUR_RATES[country], dtype=np.float64)
