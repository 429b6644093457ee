"""Features defined once, shared by offline training and the online stream.

Each entity has a pure step function ``(state, event) -> (new state, features)``: the stream
keeps the state in RocksDB tables, the offline pipeline keeps it in a dict while replaying
history in order. Both call the same code, so the two feature vectors are equal bit for bit.
"""

from models.features.card import CardFeatures, CardState, card_step
from models.features.facts import TxFacts, facts_from_transaction
from models.features.merchant import (
    MerchantFeatures,
    MerchantState,
    WindowSums,
    apply_to_partial,
    merchant_step,
    merchant_view_features,
    window_sums,
)
from models.features.vector import (
    CATEGORICAL_FEATURES,
    CODE_FEATURES,
    FEATURE_NAMES,
    FEATURE_SET_VERSION,
    feature_vector,
)

__all__ = [
    "CATEGORICAL_FEATURES",
    "CODE_FEATURES",
    "FEATURE_NAMES",
    "FEATURE_SET_VERSION",
    "CardFeatures",
    "CardState",
    "MerchantFeatures",
    "MerchantState",
    "TxFacts",
    "WindowSums",
    "apply_to_partial",
    "card_step",
    "facts_from_transaction",
    "feature_vector",
    "merchant_step",
    "merchant_view_features",
    "window_sums",
]
