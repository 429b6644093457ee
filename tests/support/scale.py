"""How big the smoke, load, stress and acceptance suites run: FRAUD_TEST_SCALE.

`bounded` (default, what `make test` runs): seconds of traffic, a few minutes for all suites.
`full` (`make load FRAUD_TEST_SCALE=full`, ...): minutes of traffic, for a release check.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    name: str
    load_rate: float  # events/s the load suite sustains
    load_seconds: float
    stress_backlog: int  # events the capacity measurement drains
    stress_seconds: float  # of each stress phase (2x capacity, then half of it)


BOUNDED = Scale("bounded", load_rate=100, load_seconds=15, stress_backlog=2_000, stress_seconds=5)
FULL = Scale("full", load_rate=250, load_seconds=180, stress_backlog=15_000, stress_seconds=30)


def current_scale() -> Scale:
    chosen = os.environ.get("FRAUD_TEST_SCALE", "bounded")
    scales = {scale.name: scale for scale in (BOUNDED, FULL)}
    if chosen not in scales:
        raise ValueError(f"FRAUD_TEST_SCALE={chosen!r}: use one of {', '.join(scales)}")
    return scales[chosen]
