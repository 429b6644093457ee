"""The model's feature vector: names, order, version, and how it is assembled."""

from __future__ import annotations

import hashlib
import math

from models.features.card import CardFeatures
from models.features.facts import TxFacts
from models.features.merchant import MerchantFeatures

CONTEXT_FEATURES = (
    "amount",
    "hour_of_day",
    "day_of_week",
    "channel",
    "entry_mode",
    "card_present",
    "mcc",
)
FEATURE_NAMES: tuple[str, ...] = CONTEXT_FEATURES + CardFeatures._fields + MerchantFeatures._fields
CATEGORICAL_FEATURES: tuple[str, ...] = ("channel", "entry_mode")
CODE_FEATURES: tuple[str, ...] = (*CATEGORICAL_FEATURES, "mcc")
"""Features that are codes, whatever the model does with them: the data profile and the drift
monitor treat them as categories (shares, unseen codes), since a new merchant category code
landing in a decile bin of code numbers says nothing. The model still reads mcc as a number."""

# Any change to the names, their order or their definitions must change this version; the
# digest catches a renamed or reordered field, the prefix is bumped by hand for a new definition.
FEATURE_SET_VERSION = "fs1-" + hashlib.sha256(",".join(FEATURE_NAMES).encode()).hexdigest()[:12]

_DAY_MS = 86_400_000
_HOUR_MS = 3_600_000


def context_features(facts: TxFacts) -> tuple[float, ...]:
    """Features of the transaction alone. Times are UTC; 1970-01-01 was a Thursday (day 3)."""
    return (
        facts.amount_cents / 100,
        float(facts.event_ms // _HOUR_MS % 24),
        float((facts.event_ms // _DAY_MS + 3) % 7),
        float(facts.channel),
        math.nan if facts.entry_mode < 0 else float(facts.entry_mode),
        math.nan if facts.card_present < 0 else float(facts.card_present),
        float(facts.mcc),
    )


def feature_vector(
    facts: TxFacts, card: CardFeatures, merchant: MerchantFeatures
) -> tuple[float, ...]:
    """The full vector in FEATURE_NAMES order."""
    return context_features(facts) + card + merchant
