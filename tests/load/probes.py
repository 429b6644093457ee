"""What the stream benchmark measures with: process CPU, paced traffic, and one event's trip.

Every figure comes from the same clock on one machine: `time.time()` in this process, the
broker's LogAppendTime on the topics the benchmark creates, and the worker's own milestones
in the scoring log (milliseconds from the input record's timestamp).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import orjson
from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition

from stream.chaos.cpu import cpu_seconds
from stream.load.pacing import Record
from stream.load.pacing import produce_paced as paced
from stream.load.readback import transaction_id_of
from stream.prompt_reading import take_available

Events = list[tuple[bytes, bytes]]
# Broker-stamped timestamps: what "arrived at the broker" means in the breakdown.
LOG_APPEND_TIME = {"message.timestamp.type": "LogAppendTime"}


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (all its threads); it must still run."""
    used = cpu_seconds(pid)
    if used is None:
        raise ProcessLookupError(pid)
    return used


class CpuMeter:
    """CPU seconds of a set of processes between `start` and `stop`."""

    def __init__(self, pids: dict[str, int]) -> None:
        self._pids = pids
        self._started: dict[str, float] = {}
        self._wall = 0.0
        self.seconds: dict[str, float] = {}
        self.wall_seconds = 0.0

    def start(self) -> None:
        self._started = {name: process_cpu_seconds(pid) for name, pid in self._pids.items()}
        self._wall = time.monotonic()

    def stop(self) -> None:
        self.seconds = {
            name: process_cpu_seconds(pid) - self._started[name] for name, pid in self._pids.items()
        }
        self.wall_seconds = time.monotonic() - self._wall

    def per_event_us(self, events: int) -> dict[str, float]:
        return {name: 1e6 * cpu / max(events, 1) for name, cpu in self.seconds.items()}

    def share_of_core(self) -> dict[str, float]:
        return {name: cpu / max(self.wall_seconds, 1e-9) for name, cpu in self.seconds.items()}


def produce_paced(
    bootstrap: str, topic: str, events: Events, rate: float, sent_at: dict[bytes, float]
) -> None:
    """Produce `events` at `rate`/s, each flushed at once (linger 0): the time it was sent is
    the time the payment system handed it over."""
    producer = Producer(
        {"bootstrap.servers": bootstrap, "linger.ms": 0, "partitioner": "murmur2_random"}
    )

    def stamp(_: int, record: Record) -> None:
        sent_at[transaction_id_of(record[1])] = time.time()

    paced(producer, topic, events, rate, on_sent=stamp, flush_timeout_s=30)


@dataclass
class Trip:
    """One decided event: what this process saw and what the worker logged."""

    sent: float  # s, this process, just before produce()
    read: float = 0.0  # s, this process, decision record received
    input_broker_ms: float = 0.0  # input record's LogAppendTime
    decision_broker_ms: float = 0.0  # decision record's LogAppendTime
    fallback: bool = False
    milestones: dict[str, float] = field(default_factory=dict)

    def segments(self) -> dict[str, float]:
        """Milliseconds spent in each hop, in the order the event travels."""
        m = self.milestones
        arrival = self.input_broker_ms
        return {
            "produce -> broker": arrival - self.sent * 1000,
            "broker -> agent": m["received"],
            "validate + state + features": m["enriched"] - m["received"],
            "micro-batch wait": m["batch_started"] - m["enriched"],
            "model call": m["scored"] - m["batch_started"],
            "encode + send -> broker": self.decision_broker_ms - (arrival + m["scored"]),
            "broker -> readable": self.read * 1000 - self.decision_broker_ms,
        }


class TripCollector:
    """Reads decisions and scoring logs as they are written and joins them to their send time."""

    def __init__(self, bootstrap: str, decisions: str, scoring_log: str) -> None:
        self._consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": f"bench-trips-{time.time_ns()}",
                "enable.auto.commit": False,
                "fetch.wait.max.ms": 10,
            }
        )
        self._decisions, self._logs = decisions, scoring_log
        parts = [
            TopicPartition(topic, p, OFFSET_BEGINNING)
            for topic in (decisions, scoring_log)
            for p in self._consumer.list_topics(topic, timeout=10).topics[topic].partitions
        ]
        self._consumer.assign(parts)
        # Start fetching before the traffic does: the first poll resolves the offsets and
        # connects, which would otherwise add its round trips to the first records read.
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            self._consumer.poll(0.1)
        self.trips: dict[bytes, Trip] = {}
        self.milestones: dict[bytes, dict[str, float]] = {}

    def collect(self, sent_at: dict[bytes, float], wanted: int, until: float) -> None:
        while time.monotonic() < until:
            done = sum(1 for trip in self.trips.values() if trip.read and trip.milestones)
            if done >= wanted:
                return
            for message in take_available(self._consumer, 1000, 0.1):
                if message.error() is not None or message.value() is None:
                    continue
                now = time.time()
                value = message.value()
                key = transaction_id_of(value)
                if key not in sent_at:
                    continue
                trip = self.trips.setdefault(key, Trip(sent_at[key]))
                if message.topic() == self._decisions:
                    if not trip.read:  # the first copy is the one a consumer acts on
                        trip.read = now
                        trip.decision_broker_ms = float(message.timestamp()[1])
                        trip.fallback = b'"fallback":true' in value
                else:
                    record = orjson.loads(value)
                    trip.input_broker_ms = float(record["source"]["timestamp_ms"])
                    trip.milestones = record["milestones"]
        self._consumer.close()

    def complete(self) -> list[Trip]:
        return [t for t in self.trips.values() if t.read and t.milestones]


def in_thread(target: Callable[[], None]) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread
