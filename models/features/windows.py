"""The span of the feature windows, and what an out-of-order (late) event does to them.

The stream bounds event times by these spans (`stream.settings`: max_event_age_s defaults to the
longest window, max_future_skew_s may not exceed the shortest), so the policy below holds for
every event that reaches the state.

Late-event policy (an event whose event time is before the newest one the state has seen):
- Card state keeps the card's entries of the last 30 days before its newest entry, sorted by
  event time. A late event is inserted in event-time order; one older than that horizon is
  dropped at once, exactly as it would have expired had it arrived in order. The final state
  does not depend on arrival order, and replays stay idempotent (the id digest is found).
- Merchant partials keep 5-minute buckets for the hour and hourly buckets for the 7 days before
  their newest bucket. A late event adds to its own bucket, or to none when that bucket already
  left the horizon (again what in-order arrival and expiry would give); sums are exact integers,
  so the final state does not depend on arrival order either.
- A late event's own features come from the history the state still holds: entries strictly
  earlier in event time, minus any that expired because newer events had arrived. So a late
  event may see a shorter history than it would have in order; it never changes what other
  events see beyond adding itself where it belongs.
- A future event (within the clock-skew allowance) moves the horizons forward by up to that
  allowance: until the clock catches up, other events' merchant 1-hour windows may miss up to
  that much of their oldest buckets. This is why the allowance is capped by the shortest window.
"""

from __future__ import annotations

from models.features.card import CARD_HORIZON_MS
from models.features.merchant import COARSE_BUCKETS, FINE_BUCKETS, FIVE_MIN_MS, HOUR_MS

LONGEST_WINDOW_MS = max(CARD_HORIZON_MS, COARSE_BUCKETS * HOUR_MS)
"""30 days (the card windows): an older event can count in no window of a current one."""

SHORTEST_WINDOW_MS = min(FINE_BUCKETS * FIVE_MIN_MS, HOUR_MS)
"""1 hour (the card and merchant 1-hour windows)."""
