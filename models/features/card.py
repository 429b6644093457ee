"""Per-card state and features: exact sliding windows over the card's recent transactions.

The state is the card's transactions of the last 30 days (capped), sorted by event time, as
parallel arrays so that it encodes to and from bytes with a few memcpys and windows are
found by bisection. Replays are idempotent: a transaction already in the state is recognised
by its id digest and leaves the state unchanged, and since features only look at strictly
earlier event times, it gets the features it had the first time.

The state also keeps the decisions of the card's transactions that a restart could still
replay, as opaque records the stream writes (`with_decision`): a replayed transaction is
answered with the decision it got the first time instead of being decided again on a merchant
view, a clock and a latency budget that have moved on. Offline recomputation never fills them,
and state equality ignores them.
"""

from __future__ import annotations

import math
import struct
from array import array
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from typing import NamedTuple

from models.features.facts import TxFacts

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
CARD_HORIZON_MS = 30 * DAY_MS
MAX_CARD_ENTRIES = 256  # a card-testing burst must not grow one state record without bound
SMALL_CENTS = 500  # card-testing probes are typically under 5.00

# A replay comes from the uncommitted tail of a partition: a decision is kept while its
# transaction's input offset is at or above the partition's committed offset (seconds of
# traffic normally; a minute or more when restarts come faster than commits, as in a kill
# campaign whose replays reached past the last 8 decisions of busy cards and were decided
# again, some as budget fallbacks). The cap bounds one state record (~60 bytes a decision)
# where a card-testing burst meets commits that cannot advance.
MAX_KEPT_DECISIONS = 64

_HEADER = struct.Struct("<BH")
_DECISION_HEADER = struct.Struct("<QH")  # txid digest, payload length
_STATE_FORMAT = 2  # 1: without the decisions, still read


class CardFeatures(NamedTuple):
    card_count_1h: float
    card_count_24h: float
    card_count_7d: float
    card_count_30d: float
    card_mean_amount_7d: float
    card_mean_amount_30d: float
    card_amount_ratio_30d: float
    card_small_count_1h: float
    card_secs_since_last: float
    card_country_changed: float
    card_countries_24h: float


@dataclass(frozen=True, slots=True)
class CardState:
    """Entries sorted by event time; entry i is (txids[i], event_ms[i], amount_cents[i], ...)."""

    txids: array[int]  # 'Q' id digests
    event_ms: array[int]  # 'q'
    amount_cents: array[int]  # 'q'
    origin_offsets: array[int]  # 'q': source offset that first applied the entry
    countries: bytes  # 2 ASCII bytes per entry
    # (txid digest, payload length, payload) records, at most MAX_KEPT_DECISIONS
    decisions: bytes = field(default=b"", compare=False)

    @classmethod
    def empty(cls) -> CardState:
        return cls(array("Q"), array("q"), array("q"), array("q"), b"")

    def decision_for(self, txid_hash: int) -> bytes | None:
        """The decision recorded for this transaction, if it is among the last kept (each
        transaction has at most one: `with_decision` replaces an earlier record)."""
        for txid, payload in _decision_records(self.decisions):
            if txid == txid_hash:
                return payload
        return None

    def with_decision(
        self, txid_hash: int, payload: bytes, replayable_from: int | None = None
    ) -> CardState:
        """A copy with this transaction's decision recorded. The others are kept while their
        transactions may be replayed: input offset at or above `replayable_from` (the
        partition's committed offset; all when it is not known), and in the state's window;
        past MAX_KEPT_DECISIONS the lowest offsets go first."""
        kept = []
        for txid, record in _decision_records(self.decisions):
            if txid == txid_hash:
                continue
            offset = self._origin_offset(txid)
            if offset is None or (replayable_from is not None and offset < replayable_from):
                continue
            kept.append((offset, txid, record))
        kept.sort(key=lambda entry: entry[0])
        records = [
            _DECISION_HEADER.pack(txid, len(record)) + record
            for _, txid, record in kept[-(MAX_KEPT_DECISIONS - 1) :]
        ]
        records.append(_DECISION_HEADER.pack(txid_hash, len(payload)) + payload)
        return CardState(
            self.txids,
            self.event_ms,
            self.amount_cents,
            self.origin_offsets,
            self.countries,
            b"".join(records),
        )

    def _origin_offset(self, txid_hash: int) -> int | None:
        try:
            return self.origin_offsets[self.txids.index(txid_hash)]
        except ValueError:  # out of the window: it cannot be replayed into this state
            return None

    def __len__(self) -> int:
        return len(self.txids)

    def encode(self) -> bytes:
        return b"".join(
            (
                _HEADER.pack(_STATE_FORMAT, len(self.txids)),
                self.txids.tobytes(),
                self.event_ms.tobytes(),
                self.amount_cents.tobytes(),
                self.origin_offsets.tobytes(),
                self.countries,
                self.decisions,
            )
        )

    @classmethod
    def decode(cls, blob: bytes) -> CardState:
        version, n = _HEADER.unpack_from(blob)
        if version not in (1, _STATE_FORMAT):
            raise ValueError(f"card state format {version} is not {_STATE_FORMAT}")
        view = memoryview(blob)[_HEADER.size :]
        columns: list[array[int]] = []
        for typecode in ("Q", "q", "q", "q"):
            column = array(typecode)
            column.frombytes(view[: 8 * n])
            columns.append(column)
            view = view[8 * n :]
        txids, times, amounts, offsets = columns
        return cls(txids, times, amounts, offsets, bytes(view[: 2 * n]), bytes(view[2 * n :]))


def _decision_records(blob: bytes) -> list[tuple[int, bytes]]:
    records = []
    at = 0
    while at < len(blob):
        txid, size = _DECISION_HEADER.unpack_from(blob, at)
        at += _DECISION_HEADER.size
        records.append((txid, blob[at : at + size]))
        at += size
    return records


class CardStep(NamedTuple):
    state: CardState
    features: CardFeatures
    duplicate: bool
    origin_offset: int  # the offset that first applied this transaction


def card_step(state: CardState, facts: TxFacts, origin_offset: int) -> CardStep:
    """Features of `facts` from the card's history, and the state with `facts` applied."""
    features = _features(state, facts)
    try:
        position = state.txids.index(facts.txid_hash)
    except ValueError:
        return CardStep(_insert(state, facts, origin_offset), features, False, origin_offset)
    return CardStep(state, features, True, state.origin_offsets[position])


def _features(state: CardState, facts: TxFacts) -> CardFeatures:
    """History = the card's entries strictly earlier in event time than this transaction.

    Defined by event time rather than arrival order, so a replayed transaction gets exactly the
    features it had the first time, and ties (same millisecond) never see each other.
    """
    now, times, amounts = facts.event_ms, state.event_ms, state.amount_cents
    end = bisect_left(times, now)
    start_1h = bisect_right(times, now - HOUR_MS, 0, end)
    start_24h = bisect_right(times, now - DAY_MS, 0, start_1h)
    start_7d = bisect_right(times, now - 7 * DAY_MS, 0, start_24h)
    start_30d = bisect_right(times, now - CARD_HORIZON_MS, 0, start_7d)
    count_7d, count_30d = end - start_7d, end - start_30d
    sum_7d = sum(amounts[start_7d:end])
    sum_30d = sum_7d + sum(amounts[start_30d:start_7d])
    mean_7d = sum_7d / count_7d / 100 if count_7d else math.nan
    mean_30d = sum_30d / count_30d / 100 if count_30d else math.nan
    countries = state.countries
    countries_24h = {countries[2 * i : 2 * i + 2] for i in range(start_24h, end)}
    countries_24h.add(facts.country)
    if end:
        secs_since_last = (now - times[end - 1]) / 1000
        country_changed = float(countries[2 * end - 2 : 2 * end] != facts.country)
    else:
        secs_since_last = country_changed = math.nan
    # Positional construction: keyword arguments cost twice as much on this hot path.
    return CardFeatures(
        float(end - start_1h),
        float(end - start_24h),
        float(count_7d),
        float(count_30d),
        mean_7d,
        mean_30d,
        facts.amount_cents / 100 / mean_30d if count_30d else math.nan,
        float(sum(1 for i in range(start_1h, end) if amounts[i] < SMALL_CENTS)),
        secs_since_last,
        country_changed,
        float(len(countries_24h)),
    )


def _insert(state: CardState, facts: TxFacts, origin_offset: int) -> CardState:
    """A copy of the state with the entry inserted in event-time order, expired ones dropped."""
    at = bisect_right(state.event_ms, facts.event_ms)
    txids, times = array("Q", state.txids), array("q", state.event_ms)
    amounts, offsets = array("q", state.amount_cents), array("q", state.origin_offsets)
    txids.insert(at, facts.txid_hash)
    times.insert(at, facts.event_ms)
    amounts.insert(at, facts.amount_cents)
    offsets.insert(at, origin_offset)
    countries = state.countries[: 2 * at] + facts.country + state.countries[2 * at :]
    keep_from = max(bisect_right(times, times[-1] - CARD_HORIZON_MS), len(times) - MAX_CARD_ENTRIES)
    if keep_from > 0:
        for column in (txids, times, amounts, offsets):
            del column[:keep_from]
        countries = countries[2 * keep_from :]
    return CardState(txids, times, amounts, offsets, countries, state.decisions)
