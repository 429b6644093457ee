"""One chaos run: own broker, two workers, paced load, SIGKILLs and a broker restart."""

from __future__ import annotations

import os
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from confluent_kafka import KafkaError, Message

from schemas import Decision
from stream.broker import BrokerConfig, KafkaBroker, free_ports
from stream.chaos.availability import Availability, DecisionSeen, InputSeen, measure
from stream.chaos.checks import Outcomes, outcomes, table_parity, wait_for_zero_lag
from stream.chaos.cpu import CpuSampler, median_before
from stream.chaos.timeline import RestartTimeline, restart_timeline
from stream.chaos.workers import WorkerProcess
from stream.kafka_clients import new_producer
from stream.load.pacing import produce_paced
from stream.replay import StateParity, read_topic
from stream.rolling import rolling_restart
from stream.settings import Settings, TopicNames
from stream.topic_scan import scan

Say = Callable[[str], None]


@dataclass(frozen=True)
class ChaosPlan:
    events: int = 20_000
    rate: int = 400  # events per second from the producer
    kills: int = 10
    broker_restart: bool = True
    seed: int = 7
    engine_fix: bool = True
    drain_timeout_s: float = 600.0
    # A rolling restart of both workers (SIGTERM, start, wait for /ready, next) instead of
    # kills, begun at `disrupt_at` of the load.
    roll: bool = False
    # Where in the load the kills fall, as fractions of its duration (random inside).
    disrupt_at: tuple[float, float] = (0.05, 0.95)


@dataclass
class ChaosLog:
    kills: list[tuple[float, str]] = field(default_factory=list)
    broker_restarts: list[float] = field(default_factory=list)
    produced: dict[tuple[int, int], str] = field(default_factory=dict)
    produce_errors: list[str] = field(default_factory=list)
    restarts: list[Restart] = field(default_factory=list)
    load_ended_ms: int = 0  # wall clock of the last input sent
    roll_ms: tuple[int, int] | None = None  # the first successor's start → the last /ready

    def disruptions_ms(self) -> list[tuple[int, int]]:
        """Kill (or a roll's first stop) → the restarted worker ready, merged when they meet."""
        merged: list[tuple[int, int]] = []
        for restart in sorted(self.restarts, key=lambda r: r.stopped_ms):
            if merged and restart.stopped_ms <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], restart.ready_ms))
            else:
                merged.append((restart.stopped_ms, restart.ready_ms))
        return merged


@dataclass(frozen=True)
class Restart:
    worker: str
    how: str  # "SIGKILL" or "rolling"
    stopped_ms: int  # wall clock, as Kafka timestamps
    ready_ms: int
    seconds_to_ready: float  # SIGKILL, or the SIGTERM after a warm start → /ready
    old_exited_ms: int | None = None  # rolling: when the old process had exited
    log_path: Path | None = None


@dataclass(frozen=True)
class ChaosResult:
    plan: ChaosPlan
    log: ChaosLog
    outcomes: Outcomes
    parity: StateParity
    lag: dict[str, int]
    seconds: float
    decided_per_second: float
    latency_ms: dict[str, float]
    availability: Availability
    timelines: list[RestartTimeline] = field(default_factory=list)
    # % of one core by role ("broker", "workers", "load": this process), by second of the load.
    cpu_percent_by_second: dict[int, dict[str, float]] = field(default_factory=dict)
    cpu_percent_before_disruption: dict[str, float] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return (
            not self.outcomes.without_outcome
            and self.outcomes.duplicates_after_dedupe == 0
            and self.outcomes.conflicting_duplicates == 0
            and self.parity.equal
            and not any(self.lag.values())
            and not self.log.produce_errors
        )


def run_chaos(
    plan: ChaosPlan,
    work: Path,
    package: Path,
    signing_key: str,
    events: list[tuple[bytes, bytes]],
    say: Say = print,
) -> ChaosResult:
    rng = random.Random(plan.seed)
    topics = TopicNames()
    port, controller = free_ports(2)
    broker = KafkaBroker(
        BrokerConfig(work_dir=work / "kafka", port=port, controller_port=controller)
    )
    bootstrap = broker.start()
    say(f"broker {bootstrap} (pid {broker.pid})")
    app_id = f"chaos-{uuid.uuid4().hex[:8]}"
    env = {
        "FRAUD_KAFKA_BOOTSTRAP": bootstrap,
        "FRAUD_APP_ID": app_id,
        "FRAUD_VAR_DIR": str(work / "var"),
        "FRAUD_MODEL_PACKAGE": str(package),
        "FRAUD_SIGNING_KEY": signing_key,
        "FRAUD_ORDERED_RECOVERY": "true" if plan.engine_fix else "false",
        # The default latency budget: replays after a kill come too late for it, and must
        # still be answered with the decision they got the first time.
    }
    workers = [WorkerProcess(f"worker-{i}", env, work / "workers") for i in (1, 2)]
    log = ChaosLog()
    cpu: CpuSampler | None = None
    started = time.monotonic()
    try:
        for worker in workers:
            worker.start()
            say(f"{worker.name} ready (port {worker.port})")
        duration = len(events) / plan.rate
        producer = threading.Thread(
            target=_paced_produce, args=(bootstrap, topics.transactions, events, plan.rate, log)
        )
        producer.start()
        t0, t0_wall = time.monotonic(), time.time()
        cpu = CpuSampler(lambda: _processes(broker, workers), t0)
        cpu.start()
        _inflict(plan, rng, workers, broker, duration, t0, log, say)
        producer.join(timeout=duration + plan.drain_timeout_s)
        say(f"produced {len(log.produced):,} events; waiting for every outcome")
        _wait_for_decisions(bootstrap, topics, log, plan.drain_timeout_s)
        cpu.stop()
        settings = Settings(kafka_bootstrap=bootstrap, app_id=app_id)
        lag = wait_for_zero_lag(bootstrap, app_id, [topics.transactions], 120)
        seconds = time.monotonic() - t0
        result_outcomes = outcomes(bootstrap, topics, log.produced)
        parity = table_parity(bootstrap, settings)
        latency = _latency(bootstrap, topics)
        inputs, decisions = _seen(bootstrap, topics, log)
        measured = measure(inputs, decisions, log.disruptions_ms(), log.roll_ms)
        timelines = [
            restart_timeline(
                r.worker,
                r.stopped_ms,
                {"old_exited": r.old_exited_ms or r.stopped_ms, "ready": r.ready_ms},
                r.log_path,
                inputs,
                decisions,
                load_ended_ms=log.load_ended_ms,
            )
            for r in log.restarts
            if r.how == "rolling"
        ]
    finally:
        if cpu is not None:
            cpu.stop()
        for worker in workers:
            worker.stop()
        broker.stop()
    by_second = cpu.by_second()
    disrupted_s = [start / 1000 - t0_wall for start, _ in log.disruptions_ms()]
    if log.roll_ms is not None:
        disrupted_s.append(log.roll_ms[0] / 1000 - t0_wall)
    return ChaosResult(
        plan=plan,
        log=log,
        outcomes=result_outcomes,
        parity=parity,
        lag=lag,
        seconds=time.monotonic() - started,
        decided_per_second=result_outcomes.decided / seconds if seconds else 0.0,
        latency_ms=latency,
        availability=measured,
        timelines=timelines,
        cpu_percent_by_second=by_second,
        cpu_percent_before_disruption=median_before(
            by_second, int(min(disrupted_s, default=len(events) / plan.rate))
        ),
    )


def _processes(broker: KafkaBroker, workers: list[WorkerProcess]) -> dict[str, list[int]]:
    """The run's processes by role, for the CPU sampler (an exited one reads as gone)."""
    return {
        "broker": [] if broker.pid is None else [broker.pid],
        "workers": [pid for worker in workers for pid in worker.pids],
        "load": [os.getpid()],
    }


def _paced_produce(
    bootstrap: str, topic: str, events: list[tuple[bytes, bytes]], rate: int, log: ChaosLog
) -> None:
    producer = new_producer(
        bootstrap,
        {
            "partitioner": "murmur2_random",
            "enable.idempotence": True,
            "linger.ms": 5,
            # Rides out the broker restart instead of dropping records.
            "message.timeout.ms": 600_000,
        },
    )

    def delivered(error: KafkaError | None, message: Message) -> None:
        if error is not None:
            log.produce_errors.append(str(error))
            return
        value = message.value() or b""
        transaction_id = value.split(b'"transaction_id":"', 1)[1].split(b'"', 1)[0].decode()
        log.produced[(message.partition() or 0, message.offset() or 0)] = transaction_id

    def sent(i: int, _: object) -> None:
        if i == len(events) - 1:  # the load ends with its last send, before the flush
            log.load_ended_ms = _now_ms()

    if not events:
        log.load_ended_ms = _now_ms()
    # Not strict: every delivery and error is in the chaos log, which the checks account for.
    produce_paced(
        producer,
        topic,
        events,
        rate,
        on_sent=sent,
        on_delivery=delivered,
        flush_timeout_s=600,
        strict=False,
    )


def _inflict(
    plan: ChaosPlan,
    rng: random.Random,
    workers: list[WorkerProcess],
    broker: KafkaBroker,
    duration: float,
    t0: float,
    log: ChaosLog,
    say: Say,
) -> None:
    """Kill one worker at a time at random moments (or roll both); restart the broker once."""
    restart_at = duration / 2 if plan.broker_restart else None
    low, high = plan.disrupt_at
    kill_times = sorted(rng.uniform(low, high) * duration for _ in range(plan.kills))
    if plan.roll:
        _sleep_until(t0 + low * duration)
        _roll(workers, t0, log, say)
    for kill_at in kill_times:
        if restart_at is not None and kill_at >= restart_at:
            _sleep_until(t0 + restart_at)
            _restart_broker(broker, t0, log, say)
            restart_at = None
        _sleep_until(t0 + kill_at)
        victim = rng.choice(workers)
        stopped_ms = _now_ms()
        victim.kill()
        log.kills.append((time.monotonic() - t0, victim.name))
        say(f"t={time.monotonic() - t0:6.1f}s SIGKILL {victim.name} (kill {len(log.kills)})")
        seconds = victim.start()  # the other worker runs on meanwhile; one kill at a time
        log.restarts.append(Restart(victim.name, "SIGKILL", stopped_ms, _now_ms(), seconds))
        say(f"t={time.monotonic() - t0:6.1f}s {victim.name} ready ({seconds:.1f} s)")
    if restart_at is not None:
        _sleep_until(t0 + restart_at)
        _restart_broker(broker, t0, log, say)


def _roll(workers: list[WorkerProcess], t0: float, log: ChaosLog, say: Say) -> None:
    """`stream.rolling`'s order (one at a time, each after the last is ready), timed."""
    began_ms = _now_ms()
    for worker in workers:
        rolling_restart([worker], say=lambda line: say(f"t={time.monotonic() - t0:6.1f}s {line}"))
        ready_ms = _now_ms()
        # Scoring of its partitions stops at the old process's SIGTERM, not at the new
        # process's start (it warms up while the old one still scores).
        stopped_ms = int(worker.stopped_at * 1000)
        log.restarts.append(
            Restart(
                worker.name,
                "rolling",
                stopped_ms,
                ready_ms,
                (ready_ms - stopped_ms) / 1000,
                old_exited_ms=int(worker.old_exited_at * 1000),
                log_path=worker.log_path,
            )
        )
    log.roll_ms = (began_ms, _now_ms())


def _now_ms() -> int:
    return int(time.time() * 1000)


def _restart_broker(broker: KafkaBroker, t0: float, log: ChaosLog, say: Say) -> None:
    say(f"t={time.monotonic() - t0:6.1f}s stopping the broker")
    broker.stop()
    time.sleep(5)
    broker.start()
    log.broker_restarts.append(time.monotonic() - t0)
    say(f"t={time.monotonic() - t0:6.1f}s broker back")


def _sleep_until(moment: float) -> None:
    pause = moment - time.monotonic()
    if pause > 0:
        time.sleep(pause)


def _wait_for_decisions(
    bootstrap: str, topics: TopicNames, log: ChaosLog, timeout_s: float
) -> None:
    deadline = time.monotonic() + timeout_s
    wanted = set(log.produced.values())
    while time.monotonic() < deadline:
        seen = {
            Decision.model_validate_json(r.value or b"").transaction_id
            for r in read_topic(bootstrap, topics.decisions)
        }
        if wanted <= seen:
            return
        time.sleep(2.0)


def _latency(bootstrap: str, topics: TopicNames) -> dict[str, float]:
    arrivals = np.array(
        [
            Decision.model_validate_json(r.value or b"").timings.arrival_to_decision_ms
            for r in read_topic(bootstrap, topics.decisions)
        ]
    )
    if arrivals.size == 0:
        return {}
    return {f"p{q}": float(np.percentile(arrivals, q)) for q in (50, 95, 99)}


def _seen(
    bootstrap: str, topics: TopicNames, log: ChaosLog
) -> tuple[list[InputSeen], list[DecisionSeen]]:
    inputs = [
        InputSeen(r.partition, r.timestamp_ms, log.produced.get((r.partition, r.offset), ""))
        for r in scan(bootstrap, topics.transactions, timeout_s=120)
    ]
    decisions = []
    for r in scan(bootstrap, topics.decisions, timeout_s=120):
        decision = Decision.model_validate_json(r.value or b"")
        decisions.append(DecisionSeen(decision.transaction_id, r.timestamp_ms, decision.fallback))
    return inputs, decisions


def simulated_load(events: int, seed: int) -> list[tuple[bytes, bytes]]:
    """Simulated transactions in event-time order, moved into the recent past."""
    from models.simulator import SimulatorConfig, iter_transaction_json, shift_to_now, simulate

    days = max(3, events // 6_000)
    table = simulate(SimulatorConfig(seed=seed, n_days=days)).transactions.slice(0, events)
    moved, _ = shift_to_now(table, now=datetime.now(UTC) - timedelta(days=2), speedup=60.0)
    return list(iter_transaction_json(moved))
