"""Simulated transactions for load: as many as asked for, with ids no earlier run used."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime, timedelta

from models.simulator import SimulatorConfig, iter_transaction_json, shift_to_now, simulate
from stream.load.pacing import Record

# SimulatorConfig.small(): 200 cards over 20 days make about 7,000 transactions.
_ROWS_PER_SMALL_CARD = 35.0


def simulated_traffic(count: int, seed: int = 11, run_tag: str | None = None) -> list[Record]:
    """`count` keyed transaction JSON records in event-time order, ending in the recent past.

    Transaction ids carry `run_tag` (default: the time) so a second run on the same topics is
    new traffic to the worker, not replays of the first one's ids.
    """
    if count <= 0:
        return []
    cards = max(200, math.ceil(1.2 * count / _ROWS_PER_SMALL_CARD))
    transactions = simulate(SimulatorConfig.small(seed=seed, n_cards=cards)).transactions
    while transactions.num_rows < count:  # the simulator's volume is random: ask for more
        cards *= 2
        transactions = simulate(SimulatorConfig.small(seed=seed, n_cards=cards)).transactions
    # Twenty simulated days in about eight hours before now: every event time is plausible
    # to the worker's event-time bounds, and per-card histories keep their order.
    start = datetime.now(UTC) - timedelta(days=2)
    moved, _ = shift_to_now(transactions.slice(0, count), now=start, speedup=60.0)
    tag = (run_tag or f"L{time.time_ns() // 1_000_000:x}").encode()
    return [
        (key, value.replace(b'"transaction_id":"', b'"transaction_id":"' + tag + b"-", 1))
        for key, value in iter_transaction_json(moved)
    ]
