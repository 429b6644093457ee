"""How well scoring went on through a run's kills and restarts, from the topics' timestamps.

Times are Kafka record timestamps (the producers' create times, one machine's clock): an
input's is when the load producer sent it, a decision's when the worker sent it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np


@dataclass(frozen=True, slots=True)
class InputSeen:
    partition: int
    timestamp_ms: int
    transaction_id: str


@dataclass(frozen=True, slots=True)
class DecisionSeen:
    transaction_id: str
    timestamp_ms: int
    fallback: bool


@dataclass(frozen=True)
class Availability:
    decided: int  # distinct transactions; each counted by its first decision
    fallbacks: int  # first decisions made by the fallback policy
    longest_gap_s: dict[int, float]  # per input partition: longest time without a decision
    disrupted_s: float  # time inside the disruption windows
    decisions_per_s_disrupted: float | None  # decision records sent inside them
    latency_ms_disrupted: dict[str, float]  # produce → first decision, inputs sent inside them
    fallbacks_disrupted: int = 0  # first decisions that fell back, of inputs sent inside them
    decided_disrupted: int = 0
    # Seconds since the first input was sent → fallbacks among the inputs sent in that second
    # (seconds without one left out): whether fallbacks cluster at the disruptions or not.
    fallbacks_by_second: dict[int, int] = field(default_factory=dict)
    # The same for the extra decision records of inputs decided more than once, and by input
    # partition: which restart decided a stretch twice.
    duplicates_by_second: dict[int, int] = field(default_factory=dict)
    duplicates_by_partition: dict[int, int] = field(default_factory=dict)
    # A rolling restart's whole stretch, from the first successor's start (its boot competes
    # for CPU) to the last restarted worker's /ready: inputs sent inside it.
    decided_rolling: int = 0
    fallbacks_rolling: int = 0
    latency_ms_rolling: dict[str, float] = field(default_factory=dict)

    @property
    def fallback_share(self) -> float:
        return self.fallbacks / self.decided if self.decided else 0.0

    @property
    def longest_gap_any_s(self) -> float:
        return max(self.longest_gap_s.values(), default=0.0)


def measure(
    inputs: Sequence[InputSeen],
    decisions: Sequence[DecisionSeen],
    windows_ms: Sequence[tuple[int, int]],
    roll_ms: tuple[int, int] | None = None,
) -> Availability:
    """`windows_ms`: the disruptions (kill → restarted worker ready; a roll's SIGTERMs → the
    restarted worker ready); `roll_ms`: a rolling restart's whole stretch."""
    first: dict[str, DecisionSeen] = {}
    for decision in sorted(decisions, key=lambda d: d.timestamp_ms):
        first.setdefault(decision.transaction_id, decision)
    partition_of = {seen.transaction_id: seen.partition for seen in inputs}
    copies = Counter(d.transaction_id for d in decisions)
    decided_at: dict[int, list[int]] = {}
    for decision in decisions:
        partition = partition_of.get(decision.transaction_id)
        if partition is not None:
            decided_at.setdefault(partition, []).append(decision.timestamp_ms)
    inside = [
        d for d in decisions if any(start <= d.timestamp_ms <= end for start, end in windows_ms)
    ]
    disrupted_ms = sum(end - start for start, end in windows_ms)
    sent_inside = _sent_within(inputs, first, windows_ms)
    sent_rolling = _sent_within(inputs, first, [] if roll_ms is None else [roll_ms])
    return Availability(
        decided=len(first),
        fallbacks=sum(1 for d in first.values() if d.fallback),
        longest_gap_s={p: _longest_gap_ms(times) / 1000 for p, times in decided_at.items()},
        disrupted_s=disrupted_ms / 1000,
        decisions_per_s_disrupted=len(inside) / (disrupted_ms / 1000) if disrupted_ms else None,
        latency_ms_disrupted=_trip_percentiles(sent_inside),
        fallbacks_disrupted=sum(1 for _, d in sent_inside if d.fallback),
        decided_disrupted=len(sent_inside),
        fallbacks_by_second=_fallbacks_by_second(inputs, first),
        duplicates_by_second=_by_second(inputs, copies),
        duplicates_by_partition=_by_partition(inputs, copies),
        decided_rolling=len(sent_rolling),
        fallbacks_rolling=sum(1 for _, d in sent_rolling if d.fallback),
        latency_ms_rolling=_trip_percentiles(sent_rolling),
    )


def _sent_within(
    inputs: Sequence[InputSeen],
    first: dict[str, DecisionSeen],
    windows_ms: Sequence[tuple[int, int]],
) -> list[tuple[InputSeen, DecisionSeen]]:
    """Inputs sent inside any of the windows, with their first decision."""
    return [
        (seen, first[seen.transaction_id])
        for seen in inputs
        if seen.transaction_id in first
        and any(start <= seen.timestamp_ms <= end for start, end in windows_ms)
    ]


def _trip_percentiles(sent: list[tuple[InputSeen, DecisionSeen]]) -> dict[str, float]:
    """p50 and p99 of produce → first decision, in ms."""
    if not sent:
        return {}
    trips = [d.timestamp_ms - seen.timestamp_ms for seen, d in sent]
    return {f"p{q}": float(np.percentile(trips, q)) for q in (50, 99)}


def _fallbacks_by_second(
    inputs: Sequence[InputSeen], first: dict[str, DecisionSeen]
) -> dict[int, int]:
    return _count_inputs(
        inputs,
        _second_of_load(inputs),
        lambda seen: int(seen.transaction_id in first and first[seen.transaction_id].fallback),
    )


def _by_second(inputs: Sequence[InputSeen], copies: Counter[str]) -> dict[int, int]:
    """Seconds since the first input was sent → extra decision copies of the inputs sent then."""
    return _count_inputs(inputs, _second_of_load(inputs), _extra_copies(copies))


def _by_partition(inputs: Sequence[InputSeen], copies: Counter[str]) -> dict[int, int]:
    return _count_inputs(inputs, lambda seen: seen.partition, _extra_copies(copies))


def _second_of_load(inputs: Sequence[InputSeen]) -> Callable[[InputSeen], int]:
    start_ms = min((seen.timestamp_ms for seen in inputs), default=0)
    return lambda seen: (seen.timestamp_ms - start_ms) // 1000


def _extra_copies(copies: Counter[str]) -> Callable[[InputSeen], int]:
    return lambda seen: max(copies[seen.transaction_id] - 1, 0)


def _count_inputs(
    inputs: Sequence[InputSeen],
    key: Callable[[InputSeen], int],
    weight: Callable[[InputSeen], int],
) -> dict[int, int]:
    """Σ weight per key over the inputs, keys without any left out, in key order."""
    counts: Counter[int] = Counter()
    for seen in inputs:
        counted = weight(seen)
        if counted:
            counts[key(seen)] += counted
    return dict(sorted(counts.items()))


def _longest_gap_ms(times: list[int]) -> int:
    """Between consecutive decisions of one partition, from its first to its last: the load is
    steady, so a long gap is a stretch when the partition's inputs waited undecided."""
    ordered = sorted(times)
    return max((b - a for a, b in pairwise(ordered)), default=0)
