"""Has a numeric feature's location moved? A window test and a slow-creep detector.

Both read the live values' mid-ranks on the training percentile sketch (models.profile.
mid_ranks): 0.5 on average for reference traffic, higher when values grow. The window mean of
the ranks is a Mann-Whitney-type statistic, free of the feature's units and tails (a handful of
huge amounts cannot move it much), and it sees a shift inside a decile bin that PSI misses.

Standardised location z = (mean rank − 0.5) / sqrt(v / n + τ²):
- v / n: sampling variance of a mean of n independent ranks (v = the reference's rank variance,
  1/12 for a continuous feature, less with ties);
- τ²: how far clean traffic's mean rank wanders from one stretch of time to the next beyond
  that (weekdays, bursts, slow card-history features), estimated from the training profile's
  own consecutive chunks (NannyML's idea of thresholds from reference chunks): the chunk means'
  variance minus their sampling part, never below 0. Without it, a large window would call
  ordinary day-to-day movement drift, since v / n shrinks with n and τ² does not.

Under no drift z is close to standard normal, but a z-score alone is no effect size: a feature
that is 0 in 97 % of rows has a tiny rank spread, so a shift of a tenth of a percentile already
gives z = 2, and live traffic is never exactly the training week (card-history features grow
slowly with the population's age). So both tests ask for a material shift as well: the mean rank
moved further than any reference chunk's mean rank moved from 0.5 by itself (NannyML's idea of
thresholds from the reference chunks' own variability), and by at least a minimum that shrinks
as the reference grows: 4.5 standard errors of the reference's own mean rank, sqrt(v / N) over
its N values (`location_min_reference_errors`), and never below `location_min_shift` (0.003,
about a 1 % change of a typical amount). Live traffic sits at a steady offset of about one such
error from percentiles estimated on a finite sample, and a week of training cannot show every
slow change of a population. For the simulation's 16,800-value training week, 4.5 errors are
0.010, the fixed minimum (one percentile) the tests were first calibrated with; at ten times
the traffic they are 0.003, where a fixed 0.01 held a 1 %-a-day creep back until day 9
(docs/drift.md).

- Window test: |z| ≥ 4 warns (two-sided p ≈ 6e-5: about one false warning in 160 windows of
  100 numeric features), ≥ 6 is critical, each only when |delta| ≥ twice the floor; a warning
  also needs the previous window to have moved materially the same way. Why twice the floor:
  the largest of 14 chunk excursions sits near two standard deviations of clean movement (the
  mean of the largest of 14 |normal| draws is ≈ 2.0), and one window with no history should
  be four of them away, as its z threshold says. Fraud bursts are why this matters: a
  card-testing day (38 frauds instead of ~10) moved `card_small_count_1h` exactly as far as the
  reference's own largest chunk. One-day fraud bursts are also why a warning needs two
  windows in a row (a critical |z| ≥ 6 alerts at once): on the evaluation seed (29) a day with
  62 frauds instead of ~5 moved `card_countries_24h` to z = 4.6 in clean traffic. This
  persistence rule was added after seeing that alarm, so seed 29's clean figure no longer tests
  it; the README's other clean seeds do.
- Creep: a shift too small for one window (a 1 %-a-day amount creep moves the mean rank by about
  0.003 a day) is added up by a two-sided CUSUM (Page 1954) of the excess over the floor in
  standard errors, less the classic allowance k = 0.5: S⁺ = max(0, S⁺ + (delta − floor) / se −
  k), S⁻ likewise for −delta; alarm while max(S⁺, S⁻) ≥ 8 (warning) or ≥ 12 (critical). A
  window at the floor plus half a standard error adds nothing, one at the floor plus 1.5 adds 1.
  h = 8 is Siegmund's ~9,500-window in-control run length for k = 0.5 on both sides together,
  before the floor makes it longer still. Without k (the floor alone), seed 7's clean simulated
  traffic alarmed on day 94 of live traffic: `card_count_7d` sat 1.2 floors below 0.5 for weeks
  (the simulated population ages; a week of training chunks cannot show a move over months),
  adding ~0.4 a day. With k such a slow, steady offset adds nothing; a 1 %-a-day creep
  outgrows it within days.
Hand-written because it is a dozen lines; river's PageHinkley works on raw values, with a
threshold in the feature's units that nothing here would calibrate, and would add a dependency.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from schemas.model_package import FeatureProfile


def between_chunk_variance(profile: FeatureProfile) -> float:
    """τ²: variance of the reference chunks' mean ranks beyond their sampling variance."""
    means = np.asarray(profile.chunk_rank_means, dtype=np.float64)
    rows = np.asarray(profile.chunk_rank_rows, dtype=np.float64)
    if means.size < 2 or profile.rank_variance is None or np.any(rows <= 0):
        return 0.0
    sampling = float(np.mean(profile.rank_variance / rows))
    return max(0.0, float(np.var(means, ddof=1)) - sampling)


@dataclass(frozen=True)
class LocationShift:
    delta: float
    """Mean live rank − 0.5: the shift in reference percentiles (0.01 = one percentile)."""
    standard_error: float
    """Of `delta` under no drift: sqrt(v / n + τ²)."""

    @property
    def z(self) -> float:
        return self.delta / self.standard_error


def reference_error(profile: FeatureProfile) -> float:
    """Standard error of the reference's own mean rank, sqrt(v / N) over its N values: how well
    the training sample pins its percentiles down (0 without a rank spread or chunk counts)."""
    values = sum(profile.chunk_rank_rows)
    if not profile.rank_variance or values <= 0:
        return 0.0
    return float(np.sqrt(profile.rank_variance / values))


def material_shift(profile: FeatureProfile, minimum: float, reference_errors: float) -> float:
    """The smallest |delta| the tests call drift: the largest excursion of a reference chunk's
    mean rank from 0.5 (clean traffic went that far by itself), never below `minimum` nor
    `reference_errors` standard errors of the reference's own mean rank."""
    excursions = [abs(mean - 0.5) for mean in profile.chunk_rank_means]
    return max([minimum, reference_errors * reference_error(profile), *excursions])


def location_shift(profile: FeatureProfile, rank_sum: float, n: int) -> LocationShift | None:
    """The window's location shift; None without a sketch, values or rank spread."""
    if n <= 0 or not profile.quantiles or not profile.rank_variance:
        return None
    spread = float(np.sqrt(profile.rank_variance / n + between_chunk_variance(profile)))
    return LocationShift(rank_sum / n - 0.5, spread)


CUSUM_ALLOWANCE = 0.5
"""k, in standard errors beyond the floor (see the module docstring)."""


@dataclass
class Cusum:
    """Two-sided CUSUM of location shifts beyond a materiality floor, in standard errors."""

    upper: float = field(default=0.0)
    lower: float = field(default=0.0)

    def update(self, shift: LocationShift, floor: float) -> float:
        """Add one window; returns the larger side."""
        excess_up = (shift.delta - floor) / shift.standard_error - CUSUM_ALLOWANCE
        excess_down = (-shift.delta - floor) / shift.standard_error - CUSUM_ALLOWANCE
        self.upper = max(0.0, self.upper + excess_up)
        self.lower = max(0.0, self.lower + excess_down)
        return max(self.upper, self.lower)


@dataclass
class LocationHistory:
    """What the location tests remember of one feature from window to window."""

    cusum: Cusum = field(default_factory=Cusum)
    material_sign: int = 0
    """+1 or −1 when the last judged window moved materially (≥ twice the floor) that way."""
