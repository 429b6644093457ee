"""One load run: paced simulated traffic in, decisions read back, a throughput/latency report."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from stream.kafka_clients import new_producer
from stream.load.pacing import Record, produce_paced
from stream.load.readback import DecisionReader, Readback, transaction_id_of

QUANTILES = (50.0, 95.0, 99.0, 99.9)
# One stretch of traffic: these records at this rate. A run is one or more, back to back
# (the stress suite: twice the capacity, then half of it).
Phase = tuple[Sequence[Record], float]


@dataclass(frozen=True)
class Sample:
    """Where the run stood `t` seconds after the first send; `behind` is sent, not yet read
    back as decided: the consumer lag plus what is in flight."""

    t: float
    sent: int
    decided: int

    @property
    def behind(self) -> int:
        return self.sent - self.decided


@dataclass(frozen=True)
class LoadReport:
    rates: tuple[float, ...]  # asked for, per second, by phase
    sent: int
    send_seconds: float
    decided: int
    duplicates: int
    fallbacks: int
    decide_seconds: float  # first send to last decision read
    latency_ms: dict[str, float]  # produce -> decision read, by percentile name
    samples: list[Sample] = field(default_factory=list)
    phase_ends: list[float] = field(default_factory=list)  # t of each phase's last send

    @property
    def sent_per_second(self) -> float:
        return self.sent / self.send_seconds if self.send_seconds else 0.0

    @property
    def decided_per_second(self) -> float:
        return self.decided / self.decide_seconds if self.decide_seconds else 0.0

    @property
    def missing(self) -> int:
        return self.sent - self.decided

    @property
    def fallback_share(self) -> float:
        return self.fallbacks / self.decided if self.decided else 0.0

    def lines(self) -> list[str]:
        latency = ", ".join(f"{name} {value:,.1f}" for name, value in self.latency_ms.items())
        asked = " then ".join(f"{rate:,.0f}/s" for rate in self.rates)
        return [
            f"sent      {self.sent:,} at {self.sent_per_second:,.0f}/s "
            f"(asked {asked}) in {self.send_seconds:.1f} s",
            f"decided   {self.decided:,} ({self.missing:,} missing, {self.duplicates:,} "
            f"read twice) at {self.decided_per_second:,.0f}/s",
            f"fallbacks {self.fallbacks:,} ({self.fallback_share:.2%})",
            f"produce → decision read, ms: {latency}",
        ]


def percentiles(values: list[float], qs: tuple[float, ...] = QUANTILES) -> dict[str, float]:
    """{"p50": ..., ...} for each of `qs`; NaN when there are no values."""
    if not values:
        return {f"p{q:g}": float("nan") for q in qs}
    array = np.asarray(values)
    return {f"p{q:g}": float(np.percentile(array, q)) for q in qs}


def run_load(
    bootstrap: str,
    transactions_topic: str,
    decisions_topic: str,
    phases: Sequence[Phase],
    *,
    drain_timeout_s: float = 120.0,
    on_progress: Callable[[int, int], None] | None = None,
) -> LoadReport:
    """Send each phase's records at its rate, then wait (up to `drain_timeout_s` after the last
    send) until each has a decision. `on_progress(sent, decided)` is called while it runs."""
    readback = Readback()
    reader = DecisionReader(bootstrap, decisions_topic, readback)
    producer = new_producer(bootstrap, {"partitioner": "murmur2_random", "linger.ms": 1})
    samples: list[Sample] = []
    phase_ends: list[float] = []
    started = time.time()
    before = 0  # sent in earlier phases

    def stamp(_: int, record: Record) -> None:
        readback.sent_at[transaction_id_of(record[1])] = time.time()

    def progress(sent_in_phase: int) -> None:
        sent, decided = before + sent_in_phase, reader.decided()
        samples.append(Sample(time.time() - started, sent, decided))
        if on_progress is not None:
            on_progress(sent, decided)

    try:
        for records, rate in phases:
            # Within a phase progress() counts its records on top of `before`.
            before += produce_paced(
                producer, transactions_topic, records, rate, on_sent=stamp, progress=progress
            )
            phase_ends.append(time.time() - started)
        send_seconds = time.time() - started
        deadline = time.monotonic() + drain_timeout_s
        while reader.decided() < before and time.monotonic() < deadline:
            progress(0)
            time.sleep(0.1)
        progress(0)
    finally:
        reader.stop()
    last_read = max(readback.read_at.values(), default=started)
    return LoadReport(
        rates=tuple(rate for _, rate in phases),
        sent=before,
        send_seconds=send_seconds,
        decided=len(readback.read_at),
        duplicates=readback.duplicates,
        fallbacks=readback.fallbacks,
        decide_seconds=last_read - started,
        latency_ms=percentiles(readback.latencies_ms()),
        samples=samples,
        phase_ends=phase_ends,
    )
