"""Independent random streams per purpose, all derived from the one seed.

Each part of the simulation draws from its own stream, so switching a shift on (or changing how
many probes a card-testing burst has) leaves every other part's draws, and so its output, as it was.
"""

from __future__ import annotations

import zlib

import numpy as np


def stream(seed: int, purpose: str) -> np.random.Generator:
    # crc32 is a fixed function of the name (unlike hash(), which is salted per process).
    return np.random.default_rng([seed, zlib.crc32(purpose.encode("utf-8"))])
