"""What a shadow costs: CPU µs per event of the decision stage with the champion alone and with
a shadow beside it, in one process and one sitting, rounds alternating.

    python -m tests.load.bench_shadow [--events 7000] [--rounds 5] [--batch 64]

(The small simulated world has about 7,000 events: more are not asked for by default.)

In-process and broker-free: decode, enrich, decide and encode through `DecisionStage`, outputs
collected in memory, so the figure is the stage's own CPU (process_time), not Faust's or
Kafka's. Both packages are built with the configured tree count (config/training.toml). Rounds
alternate (champion, champion + shadow, ...) so that drift of a shared machine hits both; the
median of the rounds is printed beside each round's figure. Every loop is bounded.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from models.scoring import open_package
from models.training.config import TrainingConfig
from stream.decision_path.deciding import Champion, LivePlan
from stream.settings import Settings
from tests.support.model_builds import TEST_KEY, TRAINING_TOML, build_small, small_world
from tests.support.stage_doubles import in_memory_stage
from tests.support.stream_setup import simulated_events

SETTINGS = Settings()


def _round(plan: LivePlan, events: list[tuple[bytes, bytes]], batch: int) -> float:
    """CPU µs per event of one pass over the events, on fresh state."""
    stage = in_memory_stage(plan, budget_ms=3_600_000.0, worker_id="bench-shadow").stage
    arrival_ms = int(time.time() * 1000)
    started = time.process_time()
    for offset, (key, value) in enumerate(events):
        stage.take(value, key, offset % 4, offset, arrival_ms)
        if (offset + 1) % batch == 0:
            stage.flush()
    stage.flush()
    return (time.process_time() - started) * 1e6 / len(events)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=7_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args()
    trees = TrainingConfig.from_file(TRAINING_TOML).model.max_iter
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        world = small_world(root / "world")
        champion = Champion(
            open_package(build_small(world, root / "a", "1.0.0", trees=trees), TEST_KEY)
        )
        shadow = Champion(
            open_package(build_small(world, root / "b", "2.0.0", trees=trees), TEST_KEY)
        )
        events = simulated_events(seed=11, limit=args.events)
        plans = {
            "champion": LivePlan(1, champion),
            "champion+shadow": LivePlan(2, champion, shadows=(shadow,)),
        }
        _round(plans["champion"], events[:2000], args.batch)  # warm-up: imports, caches
        figures: dict[str, list[float]] = {name: [] for name in plans}
        for _ in range(args.rounds):
            for name, plan in plans.items():
                figures[name].append(_round(plan, events, args.batch))
    print(
        f"{len(events)} events, batches of {args.batch}, {trees} trees, "
        f"predictor {champion.scorer.predictor.kind}, {args.rounds} rounds"
    )
    for name, values in figures.items():
        rounds = ", ".join(f"{v:.1f}" for v in values)
        print(f"{name:16} median {statistics.median(values):7.1f} µs/event  ({rounds})")
    alone, both = (statistics.median(figures[name]) for name in plans)
    print(f"shadow costs {both - alone:+.1f} µs/event ({both / alone:.3f} x champion alone)")


if __name__ == "__main__":
    main()
