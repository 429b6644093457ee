"""Stress: twice the worker's measured capacity, then half of it. The worker keeps running,
the backlog built in the overload drains, every transaction is decided (late ones by the
fallback policy: that is the designed backpressure), its memory stays bounded, and once the
backlog is gone the model decides within the latency budget again."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from stream.load.run import run_load
from stream.load.traffic import simulated_traffic
from tests.support.http import get
from tests.support.load_runs import budget_worker, rss_mb
from tests.support.scale import current_scale

# The full form (FRAUD_TEST_SCALE=full) runs minutes of traffic: beyond the default 300 s.
pytestmark = [pytest.mark.integration, pytest.mark.stress, pytest.mark.timeout(1800)]

# Resident memory the worker may add under overload over what it holds once warm: queues and
# batches are bounded, so a backlog must not turn into memory.
MAX_RSS_GROWTH_MB = 300.0
RECOVERY_TRIES = 5
BACKLOG_RATE = 1e6  # "as fast as the producer goes": a backlog, to measure the drain rate


def test_twice_the_capacity_then_back(
    kafka_bootstrap: str, test_package: Path, tmp_path: Path
) -> None:
    scale = current_scale()
    worker, setup = budget_worker(kafka_bootstrap, test_package, tmp_path, "stress")
    topics = (setup.topic("transactions"), setup.topic("decisions"))
    with worker.started(timeout=120):
        assert worker.pid is not None
        pid = worker.pid
        warm = run_load(kafka_bootstrap, *topics, [(simulated_traffic(300), 100)])
        assert warm.missing == 0
        warm_rss = rss_mb(pid)

        backlog = run_load(
            kafka_bootstrap, *topics, [(simulated_traffic(scale.stress_backlog), BACKLOG_RATE)]
        )
        assert backlog.missing == 0
        capacity = backlog.decided_per_second
        over, back = 2 * capacity, capacity / 2
        records = simulated_traffic(int((over + back) * scale.stress_seconds))
        split = int(over * scale.stress_seconds)

        peak_rss = [warm_rss]
        stop = threading.Event()

        def watch_memory() -> None:
            while not stop.wait(0.5):
                peak_rss.append(rss_mb(pid))

        watcher = threading.Thread(target=watch_memory, daemon=True)
        watcher.start()
        try:
            report = run_load(
                kafka_bootstrap,
                *topics,
                [(records[:split], over), (records[split:], back)],
                drain_timeout_s=30 + 4 * scale.stress_seconds,
            )
        finally:
            stop.set()
            watcher.join(5)
        assert worker.running, worker.tail()
        assert get(f"{worker.base_url}/ready").status == 200
        # Back to normal: once the backlog is gone, the model decides within the budget again,
        # within a bounded settling time (3 s stretches of 100/s, at most RECOVERY_TRIES).
        tries = 0
        while True:
            tries += 1
            after = run_load(kafka_bootstrap, *topics, [(simulated_traffic(300), 100)])
            recovered = after.missing == 0 and after.fallback_share <= 0.02
            if recovered or tries == RECOVERY_TRIES:
                break
    print(
        f"stress ({scale.name}): capacity {capacity:,.0f}/s from a {backlog.sent:,} backlog; "
        f"RSS warm {warm_rss:,.0f} MB, peak {max(peak_rss):,.0f} MB",
        *report.lines(),
        sep="\n  ",
    )
    overload_end = report.phase_ends[0]
    peak_behind = max(s.behind for s in report.samples if s.t <= overload_end + 1)
    print(
        f"  backlog at most {peak_behind:,} during the overload; afterwards "
        f"{after.fallback_share:.1%} fallbacks in stretch {tries} of 3 s at 100/s"
    )

    assert report.missing == 0, report.lines()  # nothing lost, the backlog drained
    assert report.samples[-1].behind == 0
    assert max(peak_rss) - warm_rss <= MAX_RSS_GROWTH_MB, (warm_rss, max(peak_rss))
    assert after.missing == 0 and after.fallback_share <= 0.02, after.lines()
