"""Distances between a live window and the training profile, on the profile's own bins.

The profile keeps no raw training values, only shares per bin (numeric: ten bins cut at the
training deciles; categorical: one bin per category), so every statistic here compares two
discrete distributions over the same bins. What each one is, exactly:

- PSI (population stability index) = Σ (a_i − e_i) · ln(a_i / e_i), a = live share, e =
  reference share. Every share is first raised to at least `SHARE_FLOOR` (1e-4, no
  renormalisation), so an empty bin on either side adds a large but finite term instead of
  infinity: a bin holding 10% in training and nothing live adds 0.1 · ln(0.1 / 1e-4) ≈ 0.69.
  Each term is ≥ 0, so PSI ≥ 0, and PSI = 0 exactly when the shares are equal.
- Total variation (TV) = ½ Σ |a_i − e_i|: the share of traffic that would have to change bin for
  the two to agree; in [0, 1], needs no floor.
- Binned KS = max_i |A(edge_i) − E(edge_i)| over the inner edges, A and E the cumulative shares:
  the Kolmogorov-Smirnov distance where the reference CDF is known. The exact two-sample KS takes
  the supremum over every x, so this is a lower bound of it (equal when the largest gap falls on
  an edge). No Wasserstein distance is computed: it needs the values inside the bins.
- Cohen's w = sqrt(Σ (a_i − e_i)² / e_i) over the categories training saw (live shares
  renormalised over them), i.e. sqrt(χ² / n) of a goodness-of-fit test of the live counts against
  the reference shares: an effect size that does not grow with n, unlike χ² and its p-value.
  (A two-sample Cramér's V would shrink towards 0 as the training set grows, so it is not used.)
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Shares = npt.NDArray[np.float64]

SHARE_FLOOR = 1e-4
"""Smallest share PSI works with; see the module docstring."""


def shares_of(counts: npt.ArrayLike) -> Shares:
    """Counts → shares (all zeros when there is nothing to count)."""
    array = np.asarray(counts, dtype=np.float64)
    total = array.sum()
    return array / total if total > 0 else np.zeros_like(array)


def _pair(live: npt.ArrayLike, reference: npt.ArrayLike) -> tuple[Shares, Shares]:
    a = np.asarray(live, dtype=np.float64)
    e = np.asarray(reference, dtype=np.float64)
    if a.shape != e.shape or a.ndim != 1:
        raise ValueError(f"shares must be two vectors of one length; got {a.shape}, {e.shape}")
    return a, e


def psi(live: npt.ArrayLike, reference: npt.ArrayLike, floor: float = SHARE_FLOOR) -> float:
    a, e = _pair(live, reference)
    a = np.maximum(a, floor)
    e = np.maximum(e, floor)
    return float(np.sum((a - e) * np.log(a / e)))


def total_variation(live: npt.ArrayLike, reference: npt.ArrayLike) -> float:
    a, e = _pair(live, reference)
    return float(min(1.0, 0.5 * np.abs(a - e).sum()))


def binned_ks(live: npt.ArrayLike, reference: npt.ArrayLike) -> float:
    """Largest CDF gap at the inner edges (0.0 with a single bin)."""
    a, e = _pair(live, reference)
    gaps = np.abs(np.cumsum(a)[:-1] - np.cumsum(e)[:-1])
    return float(min(1.0, gaps.max())) if gaps.size else 0.0


def cohens_w(live_counts: npt.ArrayLike, reference: npt.ArrayLike) -> float | None:
    """Over the categories with a reference share > 0; None when no live value falls in one."""
    counts, e = _pair(live_counts, reference)
    seen = e > 0
    if counts[seen].sum() <= 0:
        return None
    a = shares_of(counts[seen])
    expected = e[seen] / e[seen].sum()
    return float(np.sqrt(np.sum((a - expected) ** 2 / expected)))
