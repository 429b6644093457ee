"""Takeover benchmark: how long a restarted worker's partitions wait, restart after restart.

    python -m tests.load.bench_takeover [--restarts 8] [--rate 300] [--every 8]
                                        [--successor-source DIR ...]

One broker, one worker (the shipped 50 ms latency budget) under a steady paced load; every
`--every` seconds a warm handover as `fraudstream chaos` does it (the successor boots beside
the old process; once it waits for the data dir, the old one gets SIGTERM). Per restart, from
the scoring log: the longest stretch without a decision around the SIGTERM, and the fallbacks
among the events sent from 0.2 s before it to 2 s after it. With `--successor-source`,
successors run from those source trees in turn (each started in its tree's directory), so two
versions of the stop and the takeover are compared in one sitting on the same broker and load;
each restart is shown with the sources of the process stopped and of its successor.
Bounded: restarts × every seconds of load, then the read-back. Run it with nothing else heavy
on the machine.
"""

from __future__ import annotations

import argparse
import itertools
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import orjson

from stream.chaos.timeline import read_log_steps
from stream.chaos.workers import WorkerProcess
from tests.load.bench_stream import broker
from tests.load.probes import in_thread, produce_paced
from tests.support.clients import read_to_end
from tests.support.stream_setup import build_test_package, simulated_events, stream_setup

WINDOW_BEFORE_S = 0.2
WINDOW_AFTER_S = 2.0
# The worker log's steps shown per restart (stream.chaos.timeline), in ms after the SIGTERM.
SHOWN_STEPS = ("old_loop_closed", "new_starting", "assigned", "worker_ready")
# Then, from the scoring log: the successor's first record taken by its agent, and decided.
FIRST_STEPS = ("first_received", "first_decided")


@dataclass
class Restart:
    source: str  # the successor's
    old_source: str  # the process it replaced
    sigterm: float  # wall clock


@dataclass
class Logged:
    source_ms: float  # the input record's timestamp
    decided: float  # wall clock
    fallback: bool
    received: float  # wall clock: the worker's agent took the record


def scoring_log(bootstrap: str, topic: str) -> list[Logged]:
    logged = []
    for record in read_to_end(bootstrap, topic):
        if record.value is None:
            continue
        entry = orjson.loads(record.value)
        decided = datetime.fromisoformat(entry["decided_at"].replace("Z", "+00:00"))
        source_ms = entry["source"]["timestamp_ms"]
        received = (source_ms + entry["milestones"]["received"]) / 1000
        logged.append(Logged(source_ms, decided.timestamp(), bool(entry["fallback"]), received))
    return logged


def per_restart(restart: Restart, logged: list[Logged], log: Path) -> dict[str, float]:
    """The longest stretch without a decision around the SIGTERM (the old process's last
    decision to the new one's first), and the fallbacks of the events sent around it."""
    start, end = restart.sigterm - WINDOW_BEFORE_S, restart.sigterm + WINDOW_AFTER_S
    decided = sorted(e.decided for e in logged if start <= e.decided < end)
    gaps = [later - earlier for earlier, later in itertools.pairwise(decided)]
    window = [e for e in logged if start <= e.source_ms / 1000 < end]
    stopped_ms = int(restart.sigterm * 1000)
    steps = read_log_steps(log, stopped_ms)
    ready_s = steps.get("worker_ready", float("nan")) / 1000
    # The successor's first record: the first taken by the agent after "Worker ready".
    taken = [e for e in logged if ready_s <= e.received < end]
    first = min(taken, key=lambda e: e.received, default=None)
    return {
        **{step: steps.get(step, float("nan")) - stopped_ms for step in SHOWN_STEPS},
        "first_received": float("nan") if first is None else first.received * 1000 - stopped_ms,
        "first_decided": float("nan") if first is None else first.decided * 1000 - stopped_ms,
        "pause_ms": max(gaps, default=float("nan")) * 1000,
        "fallbacks": sum(e.fallback for e in window),
        "events": len(window),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--restarts", type=int, default=8)
    parser.add_argument("--rate", type=float, default=300.0)
    parser.add_argument("--every", type=float, default=8.0, help="seconds between restarts")
    parser.add_argument(
        "--successor-source",
        action="append",
        default=[],
        help="a source tree successors run from, in turn (default: this one)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work dir (logs, data)")
    args = parser.parse_args()
    sources = args.successor_source or [str(Path(__file__).resolve().parents[2])]
    work = Path(tempfile.mkdtemp(prefix="fraudstream-bench-takeover-"))
    try:
        with broker(work) as (bootstrap, _):
            package = build_test_package(work / "package")
            seconds = args.restarts * args.every + 10
            events = simulated_events(seed=5, days=30)[: int(args.rate * seconds)]
            setup = stream_setup(
                bootstrap, work / "var", package, "takeover", FRAUD_LATENCY_BUDGET_MS=50
            )
            worker = WorkerProcess("worker-1", setup.env, work)
            worker.source_dir = Path(sources[0])
            worker.start()
            sent: dict[bytes, float] = {}
            load = in_thread(
                lambda: produce_paced(
                    bootstrap, setup.topic("transactions"), events, args.rate, sent
                )
            )
            restarts = []
            old_source = sources[0]
            try:
                time.sleep(5)
                for number in range(args.restarts):
                    source = sources[number % len(sources)]
                    worker.source_dir = Path(source)
                    began = time.monotonic()
                    worker.restart()
                    restarts.append(Restart(source, old_source, worker.stopped_at))
                    old_source = source
                    worker.wait_ready(120)
                    time.sleep(max(0.0, args.every - (time.monotonic() - began)))
            finally:
                load.join(seconds + 60)
                time.sleep(3)
                worker.stop()
            logged = scoring_log(bootstrap, setup.topic("scoring_log"))
        report(restarts, logged, worker.log_path)
    finally:
        if args.keep:
            print(f"work dir kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def report(restarts: list[Restart], logged: list[Logged], log: Path) -> None:
    columns = ("pause_ms", "fallbacks", *SHOWN_STEPS, *FIRST_STEPS)
    print(
        "per restart, ms after the SIGTERM: "
        + ", ".join(SHOWN_STEPS)
        + " (worker log), "
        + ", ".join(FIRST_STEPS)
        + " (scoring log)"
    )
    rows: dict[tuple[str, str], list[dict[str, float]]] = {}
    for number, restart in enumerate(restarts, 1):
        row = per_restart(restart, logged, log)
        rows.setdefault((restart.old_source, restart.source), []).append(row)
        steps = " ".join(f"{row[step]:5.0f}" for step in (*SHOWN_STEPS, *FIRST_STEPS))
        print(
            f"{number:>3} {restart.old_source} → {restart.source}: longest pause "
            f"{row['pause_ms']:4.0f} ms, fallbacks {row['fallbacks']:>4.0f}/{row['events']:<4.0f}"
            f" steps {steps}"
        )
    for (old, new), mine in rows.items():
        medians = ", ".join(f"{c} {statistics.median(r[c] for r in mine):.0f}" for c in columns)
        print(f"median of {len(mine)}, {old} → {new}: {medians}")
    print(
        f"whole run: {sum(e.fallback for e in logged)} fallbacks of {len(logged)} decisions",
        flush=True,
    )


if __name__ == "__main__":
    main()
