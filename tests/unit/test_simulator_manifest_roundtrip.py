"""A simulator config read back from a manifest (sorted JSON) regenerates the same data."""

from __future__ import annotations

import json

from models.datasets.parquet import canonical_parquet_bytes
from models.datasets.store import canonical_transactions
from models.simulator import SimulatorConfig, simulate


def _bytes(config: SimulatorConfig) -> bytes:
    return canonical_parquet_bytes(canonical_transactions(simulate(config).transactions))


def test_country_weight_order_does_not_change_the_data() -> None:
    small = SimulatorConfig.small(seed=3)
    reversed_order = small.model_copy(
        update={
            "card_countries": dict(reversed(list(small.card_countries.items()))),
            "merchant_countries": dict(reversed(list(small.merchant_countries.items()))),
        }
    )
    revalidated = SimulatorConfig.model_validate(reversed_order.model_dump())
    assert _bytes(revalidated) == _bytes(small)


def test_config_from_sorted_json_gives_identical_bytes() -> None:
    small = SimulatorConfig.small(seed=4)
    from_manifest = SimulatorConfig.model_validate(
        json.loads(json.dumps(small.model_dump(mode="json"), sort_keys=True))
    )
    assert _bytes(from_manifest) == _bytes(small)
