"""Which terminals a person can walk to: a compressed list per owner (card or city)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from models.simulator.geography import haversine_km

_CHUNK = 512  # owners per distance block: bounds memory at _CHUNK × n_terminals floats


@dataclass(frozen=True)
class Neighbourhoods:
    """Terminals near each owner, CSR-style: owner i's are indices[offsets[i]:offsets[i + 1]]."""

    offsets: npt.NDArray[np.int64]
    indices: npt.NDArray[np.int64]

    def counts(self) -> npt.NDArray[np.int64]:
        return np.diff(self.offsets)

    def pick(
        self, owners: npt.NDArray[np.int64], uniform: npt.NDArray[np.float64]
    ) -> npt.NDArray[np.int64]:
        """One terminal per row, uniformly among the owner's neighbours (-1 where there is none)."""
        counts = self.counts()[owners]
        slot = self.offsets[owners] + np.minimum((uniform * counts).astype(np.int64), counts - 1)
        chosen = np.full(len(owners), -1, dtype=np.int64)
        has_any = counts > 0
        chosen[has_any] = self.indices[slot[has_any]]
        return chosen


def neighbourhoods(
    owner_lat: npt.NDArray[np.float64],
    owner_lon: npt.NDArray[np.float64],
    terminal_ids: npt.NDArray[np.int64],
    terminal_lat: npt.NDArray[np.float64],
    terminal_lon: npt.NDArray[np.float64],
    radius_km: float,
    min_count: int,
    max_count: int,
    reach_km: float,
    at_least_one: bool,
) -> Neighbourhoods:
    """Terminals within `radius_km`, widened towards the `min_count` nearest where the area is
    sparse (but never past `reach_km`: nobody drives 300 km for groceries, and a farther shop
    would also fake impossible travel), and cut to the `max_count` nearest in a dense city
    (people keep to their own streets). With `at_least_one`, an owner with nothing in reach
    still gets the nearest terminal (everyone buys food somewhere); otherwise none."""
    n_owners, n_terminals = len(owner_lat), len(terminal_ids)
    if n_terminals == 0:
        return Neighbourhoods(np.zeros(n_owners + 1, dtype=np.int64), np.zeros(0, dtype=np.int64))
    low_k, high_k = min(min_count, n_terminals), min(max_count, n_terminals)
    rows: list[npt.NDArray[np.int64]] = []
    cols: list[npt.NDArray[np.int64]] = []
    for begin in range(0, n_owners, _CHUNK):
        end = min(begin + _CHUNK, n_owners)
        distance = haversine_km(
            owner_lat[begin:end, None],
            owner_lon[begin:end, None],
            terminal_lat[None, :],
            terminal_lon[None, :],
        )
        ranked = np.partition(distance, sorted({0, low_k - 1, high_k - 1}), axis=1)
        limit = np.minimum(
            np.clip(radius_km, ranked[:, low_k - 1], ranked[:, high_k - 1]), reach_km
        )
        if at_least_one:
            limit = np.maximum(limit, ranked[:, 0])
        row, col = np.nonzero(distance <= limit[:, None])
        rows.append(row + begin)
        cols.append(col)
    owner = np.concatenate(rows)
    offsets = np.zeros(n_owners + 1, dtype=np.int64)
    np.cumsum(np.bincount(owner, minlength=n_owners), out=offsets[1:])
    return Neighbourhoods(offsets, terminal_ids[np.concatenate(cols)])
