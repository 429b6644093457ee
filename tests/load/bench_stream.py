"""Stream benchmark: the worker beside three baselines, all on one broker, in one sitting.

    python -m tests.load.bench_stream [--runs 3] [--events 30000] [--rates 250,500,1000]

Each run measures, on the same broker:
- sustained throughput of (a) a raw confluent-kafka consume→produce loop, (b) a Faust skeleton
  (consume, one table update, one output per event), (c) a naive Faust scorer (per event:
  validate, one-row predict_proba, await send) and (d) the fraudstream worker draining a
  backlog, with the worker's and the broker's CPU per event;
- the worker's CPU with no traffic at all;
- at each fixed rate: produce → decision readable latency with the default latency budget,
  fallbacks, CPU per event, and where the milliseconds of one event's trip go (broker
  LogAppendTime on the benchmark's topics, the worker's milestones in the scoring log).
The summary gives the median of the runs and each run's figure. Every phase is bounded in
count and time. Run it with nothing else heavy on the machine: it shares the cores.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, Producer

from stream.broker import BrokerConfig, KafkaBroker, free_ports
from stream.broker.config import GcCollector
from stream.load.run import percentiles
from stream.settings import Settings
from tests.load.probes import (
    LOG_APPEND_TIME,
    CpuMeter,
    Events,
    TripCollector,
    in_thread,
    produce_paced,
)
from tests.support.clients import end_offsets, produce
from tests.support.faust_worker import FaustWorker
from tests.support.stream_setup import (
    SIGNING_KEY,
    build_test_package,
    simulated_events,
    stream_setup,
)
from tests.support.stream_worker import StreamWorker
from tests.support.topics import create_topics, unique_topic

SEGMENTS = (
    "produce -> broker",
    "broker -> agent",
    "validate + state + features",
    "micro-batch wait",
    "model call",
    "encode + send -> broker",
    "broker -> readable",
)


@contextlib.contextmanager
def broker(
    work: Path,
    optimising_jit: bool = False,
    gc_pause_target_ms: int = 20,
    gc_collector: GcCollector = "g1",
) -> Iterator[tuple[str, int | None]]:
    explicit = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if explicit:
        yield explicit, None
        return
    port, controller = free_ports(2)
    config = BrokerConfig(
        work_dir=work / "kafka",
        port=port,
        controller_port=controller,
        optimising_jit=optimising_jit,
        gc_pause_target_ms=gc_pause_target_ms,
        gc_collector=gc_collector,
    )
    with KafkaBroker(config) as b:
        yield b.bootstrap, b.pid


def rate_while_draining(bootstrap: str, topic: str, target: int, timeout: float) -> float:
    """Records/s written to `topic` between 10% and 90% of `target` (warm-up excluded)."""
    samples: list[tuple[float, int]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        count = sum(end_offsets(bootstrap, topic).values())
        samples.append((time.monotonic(), count))
        if count >= target:
            break
        time.sleep(0.25)
    low = next((s for s in samples if s[1] >= 0.1 * target), None)
    high = next((s for s in samples if s[1] >= 0.9 * target), None)
    if low is None or high is None or high[0] <= low[0]:
        raise RuntimeError(f"{topic}: only {samples[-1][1]} of {target} records in {timeout} s")
    return (high[1] - low[1]) / (high[0] - low[0])


def raw_pipe(bootstrap: str, events: Events) -> float:
    """(a) confluent-kafka consume → produce, one process: the pipe's limit."""
    source, sink = unique_topic("bench-raw-in"), unique_topic("bench-raw-out")
    create_topics(bootstrap, [source, sink])
    produce(bootstrap, source, events)
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": source, "auto.offset.reset": "earliest"}
    )
    producer = Producer(
        {"bootstrap.servers": bootstrap, "linger.ms": 5, "partitioner": "murmur2_random"}
    )
    consumer.subscribe([source])
    moved, started = 0, None
    deadline = time.monotonic() + 120
    while moved < len(events) and time.monotonic() < deadline:
        for message in consumer.consume(5000, timeout=0.5):
            if message.error() is None:
                started = started or time.monotonic()
                while True:
                    try:
                        producer.produce(sink, message.value(), message.key())
                        break
                    except BufferError:
                        producer.poll(0.01)
                moved += 1
        producer.poll(0)
    producer.flush(30)
    elapsed = time.monotonic() - (started or time.monotonic())
    consumer.close()
    return moved / elapsed if elapsed else 0.0


def faust_baseline(bootstrap: str, kind: str, events: Events, work: Path, package: Path) -> float:
    source, sink = unique_topic(f"bench-{kind}-in"), unique_topic(f"bench-{kind}-out")
    create_topics(bootstrap, [source, sink])
    env = {
        "BENCH_KIND": kind,
        "BENCH_BOOTSTRAP": bootstrap,
        "BENCH_INPUT": source,
        "BENCH_OUTPUT": sink,
        "BENCH_APP_ID": unique_topic(kind).replace(".", "-"),
        "BENCH_PACKAGE": str(package),
        "BENCH_SIGNING_KEY": SIGNING_KEY,
    }
    app = FaustWorker("tests.load.baseline_apps", work / kind, work / f"{kind}.log", env=env)
    with app.started(timeout=120):
        produce(bootstrap, source, events)
        return rate_while_draining(bootstrap, sink, len(events), timeout=600)


def _worker(bootstrap: str, work: Path, package: Path, label: str) -> tuple[StreamWorker, Any]:
    """A worker on topics whose records the broker stamps (LogAppendTime), default settings
    but for the test signing key."""
    setup = stream_setup(
        bootstrap,
        work / f"var-{label}",
        package,
        label,
        FRAUD_LATENCY_BUDGET_MS=str(Settings().latency_budget_ms),
    )
    create_topics(
        bootstrap,
        [setup.topic(name) for name in ("transactions", "decisions", "scoring_log")],
        config=LOG_APPEND_TIME,
    )
    return StreamWorker(setup.env, work / label, work / f"{label}.log"), setup


def worker_full_load(
    bootstrap: str, broker_pid: int | None, events: Events, work: Path, package: Path
) -> dict[str, Any]:
    """(d) the worker draining a backlog; then its CPU with no traffic."""
    worker, setup = _worker(bootstrap, work, package, "full")
    with worker.started(timeout=120):
        assert worker.pid is not None
        pids = {"worker": worker.pid, **({"broker": broker_pid} if broker_pid else {})}
        produce(bootstrap, setup.topic("transactions"), events)
        meter = CpuMeter(pids)
        meter.start()
        rate = rate_while_draining(bootstrap, setup.topic("decisions"), len(events), 900)
        meter.stop()
        decided = sum(end_offsets(bootstrap, setup.topic("decisions")).values())
        time.sleep(5)  # commits, then quiet
        idle = CpuMeter({"worker": worker.pid})
        idle.start()
        time.sleep(20)
        idle.stop()
    return {
        "rate": rate,
        "cpu_us": meter.per_event_us(decided),
        "idle_core_share": idle.share_of_core()["worker"],
    }


def worker_paced(
    bootstrap: str,
    broker_pid: int | None,
    rate: int,
    seconds: float,
    events: Events,
    work: Path,
    package: Path,
) -> dict[str, Any]:
    """Produce at `rate`/s for `seconds`; each event's trip, fallbacks and CPU per event."""
    worker, setup = _worker(bootstrap, work, package, f"rate{rate}")
    wanted = events[: int(rate * seconds)]
    sent_at: dict[bytes, float] = {}
    with worker.started(timeout=120):
        assert worker.pid is not None
        pids = {"worker": worker.pid, **({"broker": broker_pid} if broker_pid else {})}
        collector = TripCollector(bootstrap, setup.topic("decisions"), setup.topic("scoring_log"))
        time.sleep(2)
        meter = CpuMeter(pids)
        meter.start()
        producer = in_thread(
            lambda: produce_paced(bootstrap, setup.topic("transactions"), wanted, rate, sent_at)
        )
        collector.collect(sent_at, len(wanted), until=time.monotonic() + seconds + 60)
        meter.stop()
        producer.join(30)
    trips = collector.complete()
    totals = [t.read * 1000 - t.sent * 1000 for t in trips]
    segments = {name: [t.segments()[name] for t in trips] for name in SEGMENTS}
    return {
        "n": len(trips),
        "expected": len(wanted),
        "latency": percentiles(totals, (50, 95, 99)),
        "fallbacks": sum(t.fallback for t in trips),
        "cpu_us": meter.per_event_us(len(wanted)),
        "segments": {name: percentiles(values, (50, 99)) for name, values in segments.items()},
    }


def one_run(
    bootstrap: str,
    broker_pid: int | None,
    args: argparse.Namespace,
    events: Events,
    work: Path,
    package: Path,
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "raw": raw_pipe(bootstrap, events),
        "skeleton": faust_baseline(bootstrap, "skeleton", events, work, package),
        "naive": faust_baseline(bootstrap, "naive", events[: args.naive_events], work, package),
        "worker": worker_full_load(bootstrap, broker_pid, events, work, package),
        "rates": {},
    }
    for rate in args.rates:
        result["rates"][rate] = worker_paced(
            bootstrap, broker_pid, rate, args.seconds, events, work, package
        )
    return result


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _runs_text(values: list[float], fmt: str) -> str:
    return ", ".join(format(v, fmt) for v in values)


def report(runs: list[dict[str, Any]], args: argparse.Namespace) -> None:
    budget = Settings().latency_budget_ms
    print(f"\n=== Summary: median of {len(runs)} run(s) (each run's figure in brackets) ===")

    def line(label: str, values: list[float], fmt: str, goal: str = "", met: bool | None = None):
        verdict = "" if met is None else ("  met" if met else "  NOT MET")
        print(
            f"  {label:46s} {format(median(values), fmt):>10}  [{_runs_text(values, fmt)}]"
            f"{'  goal ' + goal if goal else ''}{verdict}"
        )

    raw = [r["raw"] for r in runs]
    skeleton = [r["skeleton"] for r in runs]
    naive = [r["naive"] for r in runs]
    worker = [r["worker"]["rate"] for r in runs]
    ratio = [w / s for w, s in zip(worker, skeleton, strict=True)]
    print("Sustained throughput, events/s:")
    line("raw confluent-kafka pipe", raw, ",.0f")
    line("Faust skeleton (1 table update + 1 output)", skeleton, ",.0f")
    line("naive Faust scorer (1-row predict, await send)", naive, ",.0f")
    line("fraudstream worker (scored)", worker, ",.0f", ">= 5,000", median(worker) >= 5000)
    line("worker / skeleton", ratio, ".2f", ">= 1.0", median(ratio) >= 1.0)
    print("CPU per scored event, µs (worker process; broker beside it):")
    line(
        "worker at full load",
        [r["worker"]["cpu_us"]["worker"] for r in runs],
        ",.0f",
        "<= 150",
        median([r["worker"]["cpu_us"]["worker"] for r in runs]) <= 150,
    )
    if "broker" in runs[0]["worker"]["cpu_us"]:
        line("broker at full load", [r["worker"]["cpu_us"]["broker"] for r in runs], ",.0f")
    for rate in args.rates:
        line(f"worker at {rate:,}/s", [r["rates"][rate]["cpu_us"]["worker"] for r in runs], ",.0f")
    idle = [100 * r["worker"]["idle_core_share"] for r in runs]
    line("idle worker, % of a core (20 s, no traffic)", idle, ".1f", "< 2", median(idle) < 2)
    print(f"Produce → decision readable, ms (default budget {budget:g} ms):")
    goals = {250: (10.0, 50.0), 500: (None, 50.0), 1000: (None, 100.0)}
    for rate in args.rates:
        stats = [r["rates"][rate] for r in runs]
        p50 = [s["latency"]["p50"] for s in stats]
        p99 = [s["latency"]["p99"] for s in stats]
        share = [100 * s["fallbacks"] / max(s["n"], 1) for s in stats]
        lost = [s["expected"] - s["n"] for s in stats]
        goal50, goal99 = goals.get(rate, (None, None))
        line(
            f"{rate:,}/s p50",
            p50,
            ".1f",
            "" if goal50 is None else f"<= {goal50:g}",
            None if goal50 is None else median(p50) <= goal50,
        )
        line(
            f"{rate:,}/s p99",
            p99,
            ".1f",
            "" if goal99 is None else f"<= {goal99:g}",
            None if goal99 is None else median(p99) <= goal99,
        )
        line(
            f"{rate:,}/s fallbacks, %",
            share,
            ".2f",
            "< 0.5" if rate == 250 else "",
            median(share) < 0.5 if rate == 250 else None,
        )
        if any(lost):
            line(f"{rate:,}/s decisions not read within the window", lost, ".0f")
    print("Where one event's milliseconds go (median run; p50 / p99 of each hop):")
    middle = sorted(range(len(runs)), key=lambda i: runs[i]["worker"]["rate"])[len(runs) // 2]
    for rate in args.rates:
        segments = runs[middle]["rates"][rate]["segments"]
        print(f"  at {rate:,}/s:")
        for name in SEGMENTS:
            s = segments[name]
            print(f"    {name:30s} p50 {s['p50']:7.2f}   p99 {s['p99']:7.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--events", type=int, default=30_000)
    parser.add_argument("--rates", default="250,500,1000")
    parser.add_argument("--seconds", type=float, default=20.0, help="of paced traffic per rate")
    parser.add_argument(
        "--naive-events", type=int, default=3_000, help="the naive scorer is slow: fewer events"
    )
    args = parser.parse_args()
    args.rates = [int(r) for r in args.rates.split(",") if r]
    work = Path(tempfile.mkdtemp(prefix="fraudstream-bench-"))
    try:
        with broker(work) as (bootstrap, broker_pid):
            print(
                f"broker {bootstrap}; building the package and {args.events:,} events", flush=True
            )
            package = build_test_package(work / "package")
            events = simulated_events(seed=5, days=30)[: args.events]
            runs = []
            for number in range(1, args.runs + 1):
                started = time.monotonic()
                runs.append(
                    one_run(bootstrap, broker_pid, args, events, work / f"run{number}", package)
                )
                print(
                    f"run {number} of {args.runs} done in {time.monotonic() - started:.0f} s",
                    flush=True,
                )
            report(runs, args)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
