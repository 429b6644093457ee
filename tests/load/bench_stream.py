"""Stream benchmark: the worker against three baselines, all on one broker in one run.

    python -m tests.load.bench_stream [--events 30000] [--rates 250,500,1000] [--seconds 10]

Prints sustained throughput of (a) a raw confluent-kafka consume→produce loop, (b) a Faust
skeleton (consume, one table update per event, emit one record), (c) a naive Faust scorer
(per event: validate, one-row predict_proba, await send) and the fraudstream worker; the
ratios between them; end-to-end latency (produce → decision readable) at fixed rates; and the
top entries of a py-spy profile of the worker. Every phase is bounded in count and time.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from confluent_kafka import Consumer, Producer

from stream.broker import BrokerConfig, KafkaBroker, free_ports
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

Events = list[tuple[bytes, bytes]]


@contextlib.contextmanager
def broker(work: Path) -> Iterator[str]:
    explicit = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if explicit:
        yield explicit
        return
    port, controller = free_ports(2)
    with KafkaBroker(
        BrokerConfig(work_dir=work / "kafka", port=port, controller_port=controller)
    ) as b:
        yield b.bootstrap


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


def worker_sustained(
    bootstrap: str, events: Events, work: Path, package: Path
) -> tuple[float, str]:
    setup = stream_setup(bootstrap, work / "var", package, "bench")
    worker = StreamWorker(setup.env, work / "worker", work / "worker.log")
    with worker.started(timeout=120):
        produce(bootstrap, setup.topic("transactions"), events)
        profile = start_profile(worker.pid, work / "profile.txt", seconds=10)
        rate = rate_while_draining(bootstrap, setup.topic("decisions"), len(events), timeout=900)
        report = finish_profile(profile, work / "profile.txt")
    return rate, report


def start_profile(pid: int | None, out: Path, seconds: int) -> subprocess.Popen[bytes] | None:
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if pid is None or not Path(spy).exists():
        return None
    return subprocess.Popen(
        [
            spy,
            "record",
            "-p",
            str(pid),
            "--subprocesses",  # the worker is a supervisor; the stages are its children
            "-d",
            str(seconds),
            "-r",
            "200",
            "-f",
            "raw",
            "-o",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def finish_profile(process: subprocess.Popen[bytes] | None, out: Path, top: int = 15) -> str:
    if process is None:
        return "(py-spy not installed: no profile)"
    process.wait(timeout=60)
    if not out.exists():
        return "(py-spy produced no profile; it may need ptrace permission)"
    own: dict[str, int] = {}
    total = 0
    for line in out.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frame = stack.split(";")[-1]
        own[frame] = own.get(frame, 0) + int(count)
        total += int(count)
    ranked = sorted(own.items(), key=lambda item: item[1], reverse=True)[:top]
    return "\n".join(f"  {100 * n / total:5.1f}%  {frame}" for frame, n in ranked)


def latency_at(
    bootstrap: str,
    rate: int,
    seconds: float,
    events: Events,
    work: Path,
    package: Path,
    budget_ms: float,
) -> dict[str, float]:
    """Produce at `rate`/s for `seconds`; latency = decision read − input produced (same clock)."""
    setup = stream_setup(
        bootstrap,
        work / f"var-{rate}",
        package,
        f"lat{rate}",
        FRAUD_LATENCY_BUDGET_MS=str(budget_ms),
    )
    worker = StreamWorker(setup.env, work / f"lat-{rate}", work / f"lat-{rate}.log")
    wanted = events[: int(rate * seconds)]
    sent_at: dict[bytes, float] = {}
    latencies: list[float] = []
    fallbacks = 0
    with worker.started(timeout=120):
        consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": setup.app_id + "-lat",
                "auto.offset.reset": "earliest",
            }
        )
        consumer.subscribe([setup.topic("decisions")])
        consumer.poll(1.0)
        producer = Producer(
            {"bootstrap.servers": bootstrap, "linger.ms": 1, "partitioner": "murmur2_random"}
        )

        def paced() -> None:
            start = time.monotonic()
            for i, (key, value) in enumerate(wanted):
                due = start + i / rate
                pause = due - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                transaction_id = value.split(b'"transaction_id":"', 1)[1].split(b'"', 1)[0]
                sent_at[transaction_id] = time.time()
                producer.produce(setup.topic("transactions"), value, key)
                producer.poll(0)
            producer.flush(30)

        thread = threading.Thread(target=paced)
        thread.start()
        deadline = time.monotonic() + seconds + 60
        while len(latencies) < len(wanted) and time.monotonic() < deadline:
            for message in consumer.consume(1000, timeout=0.2):
                if message.error() is not None or message.value() is None:
                    continue
                read = time.time()
                value = message.value()
                transaction_id = value.split(b'"transaction_id":"', 1)[1].split(b'"', 1)[0]
                if transaction_id in sent_at:
                    latencies.append((read - sent_at[transaction_id]) * 1000)
                    fallbacks += b'"fallback":true' in value
        thread.join(timeout=30)
        consumer.close()
    latencies.sort()

    def pct(q: float) -> float:
        return (
            latencies[min(len(latencies) - 1, int(q * len(latencies)))]
            if latencies
            else float("nan")
        )

    return {
        "n": len(latencies),
        "p50": pct(0.5),
        "p95": pct(0.95),
        "p99": pct(0.99),
        "fallbacks": fallbacks,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=30_000)
    parser.add_argument("--rates", default="250,500,1000")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--naive-events", type=int, default=3_000, help="the naive scorer is slow: fewer events"
    )
    parser.add_argument(
        "--budget-ms", type=float, default=50.0, help="latency budget of the latency runs' worker"
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="fraudstream-bench-"))
    try:
        with broker(work) as bootstrap:
            print(
                f"broker {bootstrap}; building the package and {args.events:,} events", flush=True
            )
            package = build_test_package(work / "package")
            events = simulated_events(seed=5, days=30)[: args.events]
            results = {
                "a raw confluent-kafka pipe": raw_pipe(bootstrap, events),
                "b Faust skeleton (1 table update + 1 output per event)": faust_baseline(
                    bootstrap, "skeleton", events, work, package
                ),
                "c naive Faust scorer (1-row predict, await send)": faust_baseline(
                    bootstrap, "naive", events[: args.naive_events], work, package
                ),
            }
            worker_rate, profile = worker_sustained(bootstrap, events, work, package)
            results["fraudstream worker (2 stages, scored)"] = worker_rate
            print(f"\nSustained throughput, {len(events):,} events, events/s:")
            for name, value in results.items():
                print(f"  {value:10,.0f}  {name}")
            skeleton = results["b Faust skeleton (1 table update + 1 output per event)"]
            naive = results["c naive Faust scorer (1-row predict, await send)"]
            print(f"  worker / skeleton = {worker_rate / skeleton:.2f}")
            print(f"  worker / naive    = {worker_rate / naive:.2f}")
            print(
                f"\nEnd-to-end latency, produce → decision readable (budget {args.budget_ms:g} ms):"
            )
            for rate in [int(r) for r in args.rates.split(",") if r]:
                stats = latency_at(
                    bootstrap, rate, args.seconds, events, work, package, args.budget_ms
                )
                print(
                    f"  {rate:6,}/s  n={stats['n']:,}  p50={stats['p50']:.1f} ms"
                    f"  p95={stats['p95']:.1f} ms  p99={stats['p99']:.1f} ms"
                    f"  fallbacks={stats['fallbacks']:,}",
                    flush=True,
                )
            print("\nWorker profile (py-spy, own time, top entries):")
            print(profile)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
