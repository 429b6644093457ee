"""Per-merchant state and features: bucketed windows plus replay watermarks.

A merchant can see thousands of transactions a day, so unlike a card its state keeps counts
and amount sums per time bucket: 5-minute buckets for the last hour, hourly buckets for the
last 7 days. A window covers the buckets up to and including the event's own bucket.

The stream keeps one such state per merchant and input partition (a *partial*: the merchant's
transactions of the cards in that partition), written by the partition's owner alone, and
sums the partials at read time (`merchant_view_features`): counts and amounts add up, so the
sum of the partials equals one state over all the transactions. A partial applies a
transaction only when its origin (input partition, offset) is past the watermark it keeps per
origin partition, so a replayed one leaves it unchanged; the watermark also says exactly which
transactions a partial holds.
"""

from __future__ import annotations

import math
import struct
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from models.features.facts import TxFacts

FIVE_MIN_MS = 300_000
HOUR_MS = 3_600_000
FINE_BUCKETS = 12  # 5-minute buckets in the 1-hour window
COARSE_BUCKETS = 168  # hourly buckets in the 7-day window

_HEADER = struct.Struct("<BHHH")
_STATE_FORMAT = 1


class MerchantFeatures(NamedTuple):
    merchant_count_1h: float
    merchant_count_24h: float
    merchant_count_7d: float
    merchant_mean_amount_7d: float
    merchant_amount_ratio_7d: float
    merchant_hourly_rate_ratio: float


@dataclass(frozen=True, slots=True)
class MerchantState:
    fine_index: array[int]  # 'q' bucket number (event_ms // 5 min), ascending
    fine_count: array[int]  # 'q'
    coarse_index: array[int]  # 'q' bucket number (event_ms // 1 h), ascending
    coarse_count: array[int]  # 'q'
    coarse_sum: array[int]  # 'q' amount in cents
    origin_partitions: array[int]  # 'q'
    origin_watermarks: array[int]  # 'q' last applied offset per origin partition

    @classmethod
    def empty(cls) -> MerchantState:
        return cls(*(array("q") for _ in range(7)))

    def encode(self) -> bytes:
        header = _HEADER.pack(
            _STATE_FORMAT, len(self.fine_index), len(self.coarse_index), len(self.origin_partitions)
        )
        return header + b"".join(column.tobytes() for column in self._columns())

    @classmethod
    def decode(cls, blob: bytes) -> MerchantState:
        version, n_fine, n_coarse, n_origins = _HEADER.unpack_from(blob)
        if version != _STATE_FORMAT:
            raise ValueError(f"merchant state format {version} is not {_STATE_FORMAT}")
        lengths = (n_fine, n_fine, n_coarse, n_coarse, n_coarse, n_origins, n_origins)
        view = memoryview(blob)[_HEADER.size :]
        columns = []
        for n in lengths:
            column = array("q")
            column.frombytes(view[: 8 * n])
            columns.append(column)
            view = view[8 * n :]
        return cls(*columns)

    def _columns(self) -> tuple[array[int], ...]:
        return (
            self.fine_index,
            self.fine_count,
            self.coarse_index,
            self.coarse_count,
            self.coarse_sum,
            self.origin_partitions,
            self.origin_watermarks,
        )

    @staticmethod
    def watermark_in(blob: bytes) -> int:
        """The highest watermark in an encoded state, without decoding it (-1 if none).

        A partial has a single origin partition, so this is its watermark.
        """
        n_origins = _HEADER.unpack_from(blob)[3]
        if not n_origins:
            return -1
        return max(array("q", blob[len(blob) - 8 * n_origins :]))

    def watermark(self, origin_partition: int) -> int:
        """The last applied offset from that origin partition, -1 if none."""
        for i, partition in enumerate(self.origin_partitions):
            if partition == origin_partition:
                return self.origin_watermarks[i]
        return -1


class MerchantStep(NamedTuple):
    state: MerchantState
    features: MerchantFeatures
    applied: bool  # False when the transaction was already applied (a resend)


def merchant_step(
    state: MerchantState, facts: TxFacts, origin_partition: int, origin_offset: int
) -> MerchantStep:
    """Features of `facts` from the merchant's history, and the state with `facts` applied."""
    features = merchant_view_features((state,), facts)
    if origin_offset <= state.watermark(origin_partition):
        return MerchantStep(state, features, False)
    return MerchantStep(_apply(state, facts, origin_partition, origin_offset), features, True)


def apply_to_partial(
    partial: MerchantState, facts: TxFacts, origin_partition: int, origin_offset: int
) -> MerchantState | None:
    """The partial with `facts` applied, or None when it already holds that transaction."""
    if origin_offset <= partial.watermark(origin_partition):
        return None
    return _apply(partial, facts, origin_partition, origin_offset)


class WindowSums(NamedTuple):
    """Integer window totals of one state; the totals of several states add up."""

    count_1h: int
    count_24h: int
    count_7d: int
    amount_7d: int  # cents


def window_sums(state: MerchantState, facts: TxFacts) -> WindowSums:
    fine, coarse = state.fine_index, state.coarse_index
    fine_now = facts.event_ms // FIVE_MIN_MS
    coarse_now = facts.event_ms // HOUR_MS
    count_1h = sum(
        state.fine_count[
            bisect_left(fine, fine_now - FINE_BUCKETS + 1) : bisect_right(fine, fine_now)
        ]
    )
    end = bisect_right(coarse, coarse_now)
    start_24h = bisect_left(coarse, coarse_now - 23, 0, end)
    start_7d = bisect_left(coarse, coarse_now - COARSE_BUCKETS + 1, 0, start_24h)
    counts, sums = state.coarse_count, state.coarse_sum
    count_24h = sum(counts[start_24h:end])
    count_7d = count_24h + sum(counts[start_7d:start_24h])
    return WindowSums(count_1h, count_24h, count_7d, sum(sums[start_7d:end]))


def merchant_view_features(states: Iterable[MerchantState], facts: TxFacts) -> MerchantFeatures:
    """Features of `facts` from the sum of `states` (one merchant's partials, or one state).

    Integer totals are added before any division, so the result does not depend on how the
    merchant's transactions are split between the states.
    """
    count_1h = count_24h = count_7d = sum_7d = 0
    for state in states:
        sums = window_sums(state, facts)
        count_1h += sums.count_1h
        count_24h += sums.count_24h
        count_7d += sums.count_7d
        sum_7d += sums.amount_7d
    return features_from_sums(count_1h, count_24h, count_7d, sum_7d, facts)


def features_from_sums(
    count_1h: int, count_24h: int, count_7d: int, sum_7d: int, facts: TxFacts
) -> MerchantFeatures:
    mean_7d = sum_7d / count_7d / 100 if count_7d else math.nan
    # Positional construction: keyword arguments cost twice as much on this hot path.
    return MerchantFeatures(
        float(count_1h),
        float(count_24h),
        float(count_7d),
        mean_7d,
        facts.amount_cents / 100 / mean_7d if count_7d else math.nan,
        # Smoothed so a new or quiet merchant gives a finite ratio.
        (count_1h + 1) / (count_7d / COARSE_BUCKETS + 1),
    )


def _add_to_bucket(
    index: array[int], columns: tuple[array[int], ...], bucket: int, amounts: tuple[int, ...]
) -> None:
    """Add `amounts` to the bucket's columns, inserting the bucket in ascending order."""
    position = bisect_right(index, bucket)
    if position > 0 and index[position - 1] == bucket:
        for column, amount in zip(columns, amounts, strict=True):
            column[position - 1] += amount
        return
    index.insert(position, bucket)
    for column, amount in zip(columns, amounts, strict=True):
        column.insert(position, amount)


def _expire(index: array[int], columns: tuple[array[int], ...], oldest_kept: int) -> None:
    drop = bisect_left(index, oldest_kept)
    if drop:
        del index[:drop]
        for column in columns:
            del column[:drop]


def _apply(
    state: MerchantState, facts: TxFacts, origin_partition: int, origin_offset: int
) -> MerchantState:
    fine_index, fine_count = array("q", state.fine_index), array("q", state.fine_count)
    coarse_index = array("q", state.coarse_index)
    coarse_count, coarse_sum = array("q", state.coarse_count), array("q", state.coarse_sum)
    fine_now = facts.event_ms // FIVE_MIN_MS
    coarse_now = facts.event_ms // HOUR_MS
    newest_fine = max(fine_now, fine_index[-1]) if fine_index else fine_now
    newest_coarse = max(coarse_now, coarse_index[-1]) if coarse_index else coarse_now
    # A transaction older than a window's horizon no longer counts in that window.
    if fine_now > newest_fine - FINE_BUCKETS:
        _add_to_bucket(fine_index, (fine_count,), fine_now, (1,))
    if coarse_now > newest_coarse - COARSE_BUCKETS:
        _add_to_bucket(
            coarse_index, (coarse_count, coarse_sum), coarse_now, (1, facts.amount_cents)
        )
    _expire(fine_index, (fine_count,), newest_fine - FINE_BUCKETS + 1)
    _expire(coarse_index, (coarse_count, coarse_sum), newest_coarse - COARSE_BUCKETS + 1)
    partitions, watermarks = (
        array("q", state.origin_partitions),
        array("q", state.origin_watermarks),
    )
    try:
        slot = partitions.index(origin_partition)
        watermarks[slot] = origin_offset
    except ValueError:
        partitions.append(origin_partition)
        watermarks.append(origin_offset)
    return MerchantState(
        fine_index, fine_count, coarse_index, coarse_count, coarse_sum, partitions, watermarks
    )
