"""Online scoring API benchmark: POST /v1/score beside the same server's no-op endpoint.

    python -m tests.load.bench_api [--runs 3] [--rates 250,500] [--seconds 10]
                                   [--warmup-seconds 0] [--broker-jit quick|optimising]

One broker, one worker (default latency budget), FRAUD_API_NOOP_ENDPOINT on. Each run, at each
fixed rate, vegeta (an open-model, constant-rate HTTP load generator: requests leave on
schedule whether or not earlier ones were answered, so a slow answer cannot hide the ones
queued behind it) sends distinct fresh transactions to /v1/score, then the same number of
bodies to /v1/noop, the two back to back in the same run. Prints p50/p95/p99 per run and the
median of the runs. Needs vegeta on PATH or in .cache/bin:
`GOBIN=$PWD/.cache/bin go install github.com/tsenart/vegeta/v12@v12.13.0`.
Run it with nothing else heavy on the machine: it shares the cores.

`--warmup-seconds S` first sends S seconds of /v1/score at the lowest rate, unmeasured.
`--broker-jit optimising` starts the broker with the JVM's default compilers (C1 then C2, as a
production broker runs) instead of the quick compiler only; C2 compiles during the first
minute or more of traffic, so pair it with a warm-up of 60 s or more, and compare against
`quick` with the same warm-up.
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.load.bench_stream import broker
from tests.support.stream_setup import build_test_package, simulated_events, stream_setup
from tests.support.stream_worker import StreamWorker

REPO = Path(__file__).resolve().parents[2]


def vegeta() -> str:
    found = shutil.which("vegeta") or str(REPO / ".cache" / "bin" / "vegeta")
    if not Path(found).exists():
        raise SystemExit(f"vegeta not found; install it:\n{__doc__}")
    return found


def fresh_bodies(events: list[tuple[bytes, bytes]], count: int, tag: str) -> list[bytes]:
    """`count` transactions with new ids and event times of now (within the budget's window)."""
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    bodies = []
    for index in range(count):
        transaction = json.loads(events[index % len(events)][1])
        transaction["transaction_id"] = f"bench-{tag}-{index}"
        transaction["event_time"] = now
        bodies.append(json.dumps(transaction).encode())
    return bodies


def attack(url: str, bodies: list[bytes], rate: int, work: Path, name: str) -> dict[str, Any]:
    targets = work / f"{name}.targets"
    with targets.open("w") as out:
        for body in bodies:
            target = {
                "method": "POST",
                "url": url,
                "body": base64.b64encode(body).decode(),
                "header": {"Content-Type": ["application/json"]},
            }
            out.write(json.dumps(target) + "\n")
    seconds = len(bodies) / rate
    results = work / f"{name}.bin"
    with results.open("wb") as out:
        subprocess.run(
            [
                vegeta(),
                "attack",
                "-format=json",
                f"-targets={targets}",
                f"-rate={rate}/s",
                f"-duration={seconds:.3f}s",
                "-timeout=5s",
                "-max-workers=256",
            ],
            stdout=out,
            check=True,
            timeout=seconds + 60,
        )
    report = subprocess.run(
        [vegeta(), "report", "-type=json", str(results)],
        capture_output=True,
        check=True,
        timeout=60,
    )
    summary = json.loads(report.stdout)
    latencies = summary["latencies"]
    return {
        "p50": latencies["50th"] / 1e6,
        "p95": latencies["95th"] / 1e6,
        "p99": latencies["99th"] / 1e6,
        "max": latencies["max"] / 1e6,
        "requests": summary["requests"],
        "success": summary["success"],
        "codes": summary["status_codes"],
        "rate": summary["rate"],
    }


def one_run(
    worker: StreamWorker, events: list[tuple[bytes, bytes]], args: argparse.Namespace, run: int
) -> dict[tuple[int, str], dict[str, Any]]:
    figures = {}
    for rate in args.rates:
        count = int(rate * args.seconds)
        bodies = fresh_bodies(events, count, f"r{run}-{rate}")
        work = Path(tempfile.mkdtemp(prefix="fraudstream-bench-api-"))
        try:
            for endpoint in ("score", "noop"):
                figures[(rate, endpoint)] = attack(
                    f"{worker.base_url}/v1/{endpoint}", bodies, rate, work, endpoint
                )
                shown = figures[(rate, endpoint)]
                print(
                    f"run {run} {rate}/s /v1/{endpoint}: p50 {shown['p50']:.2f} ms, "
                    f"p95 {shown['p95']:.2f} ms, p99 {shown['p99']:.2f} ms, "
                    f"max {shown['max']:.1f} ms, success {shown['success']:.3f}, "
                    f"codes {shown['codes']}",
                    flush=True,
                )
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return figures


def warm_up(
    worker: StreamWorker, events: list[tuple[bytes, bytes]], args: argparse.Namespace
) -> None:
    rate = min(args.rates)
    bodies = fresh_bodies(events, int(rate * args.warmup_seconds), "warmup")
    work = Path(tempfile.mkdtemp(prefix="fraudstream-bench-api-"))
    try:
        shown = attack(f"{worker.base_url}/v1/score", bodies, rate, work, "warmup")
        print(
            f"warm-up {args.warmup_seconds:g} s at {rate}/s: p99 {shown['p99']:.2f} ms "
            f"(not counted)",
            flush=True,
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


GC_PAUSE = re.compile(r"Pause .* (\d+(?:\.\d+)?)ms$")


def gc_pauses_ms(gc_log: Path, skip_lines: int) -> list[float]:
    """The broker's collection pauses logged after its first `skip_lines` lines."""
    if not gc_log.exists():
        return []
    lines = gc_log.read_text().splitlines()[skip_lines:]
    return [float(m.group(1)) for line in lines if (m := GC_PAUSE.search(line))]


def report(runs: list[dict[tuple[int, str], dict[str, Any]]], args: argparse.Namespace) -> None:
    print(
        f"\nmedian of {len(runs)} runs (ms), {args.seconds:g} s per rate and endpoint, "
        f"broker JIT {args.broker_jit}, GC {args.broker_gc} "
        f"(G1 pause goal {args.broker_gc_pause_ms} ms), "
        f"warm-up {args.warmup_seconds:g} s:"
    )
    print(f"{'rate':>6} {'endpoint':>10} {'p50':>8} {'p95':>8} {'p99':>8}  each run's p99")
    for rate in args.rates:
        for endpoint in ("score", "noop"):
            cells = [run[(rate, endpoint)] for run in runs]
            p = {q: statistics.median(c[q] for c in cells) for q in ("p50", "p95", "p99")}
            each = ", ".join(f"{c['p99']:.2f}" for c in cells)
            print(
                f"{rate:>6} {'/v1/' + endpoint:>10} {p['p50']:8.2f} {p['p95']:8.2f} "
                f"{p['p99']:8.2f}  [{each}]"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rates", default="250,500")
    parser.add_argument("--seconds", type=float, default=10.0, help="of requests per rate")
    parser.add_argument("--warmup-seconds", type=float, default=0.0)
    parser.add_argument("--broker-jit", choices=("quick", "optimising"), default="quick")
    parser.add_argument(
        "--broker-gc-pause-ms", type=int, default=20, help="the broker's G1 pause-time goal"
    )
    parser.add_argument("--broker-gc", choices=("g1", "zgc", "shenandoah"), default="g1")
    args = parser.parse_args()
    args.rates = [int(r) for r in args.rates.split(",") if r]
    vegeta()
    work = Path(tempfile.mkdtemp(prefix="fraudstream-bench-api-"))
    try:
        with broker(
            work,
            optimising_jit=args.broker_jit == "optimising",
            gc_pause_target_ms=args.broker_gc_pause_ms,
            gc_collector=args.broker_gc,
        ) as (bootstrap, _):
            package = build_test_package(work / "package")
            events = simulated_events(seed=5, limit=5_000)
            setup = stream_setup(
                bootstrap,
                work / "var",
                package,
                "bench-api",
                FRAUD_LATENCY_BUDGET_MS=50,
                FRAUD_API_NOOP_ENDPOINT="true",
            )
            worker = StreamWorker(setup.env, work / "data", work / "worker.log")
            with worker.started(timeout=180):
                if args.warmup_seconds > 0:
                    warm_up(worker, events, args)
                gc_log = work / "kafka" / "logs" / "gc.log"
                gc_lines = len(gc_log.read_text().splitlines()) if gc_log.exists() else 0
                runs = []
                for number in range(1, args.runs + 1):
                    started = time.monotonic()
                    runs.append(one_run(worker, events, args, number))
                    print(f"run {number} done in {time.monotonic() - started:.0f} s", flush=True)
                pauses = gc_pauses_ms(gc_log, gc_lines)
            report(runs, args)
            if pauses:
                print(
                    f"broker GC pauses during the runs: {len(pauses)}, "
                    f"median {statistics.median(pauses):.1f} ms, max {max(pauses):.1f} ms, "
                    f"total {sum(pauses):.0f} ms"
                )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
