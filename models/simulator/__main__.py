"""python -m models.simulator [--config FILE] [--store DIR]: simulate and store, print the ids."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from models.datasets.store import DEFAULT_ROOT, DatasetStore
from models.simulator.config import SimulatorConfig
from models.simulator.generate import simulate
from models.simulator.persist import store_simulation


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m models.simulator", description=__doc__)
    parser.add_argument("--config", type=Path, help="a .json or .toml SimulatorConfig")
    parser.add_argument("--seed", type=int, help="overrides the config's seed")
    parser.add_argument("--small", action="store_true", help="the small test config")
    parser.add_argument("--store", type=Path, default=DEFAULT_ROOT, help="dataset store root")
    args = parser.parse_args(argv)
    if args.config is not None:
        config = SimulatorConfig.from_file(args.config)
    else:
        config = SimulatorConfig.small() if args.small else SimulatorConfig()
    if args.seed is not None:
        config = SimulatorConfig.model_validate({**config.model_dump(), "seed": args.seed})
    began = time.perf_counter()
    result = simulate(config)
    generated = time.perf_counter() - began
    transactions, labels = store_simulation(DatasetStore(args.store), result)
    summary = {
        "transactions_id": transactions.id,
        "labels_id": labels.id,
        "rows": transactions.rows,
        "fraud_rate": transactions.fraud_rate,
        "labels": labels.label_count,
        "parquet_bytes": transactions.size_bytes,
        "generation_seconds": round(generated, 2),
    }
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
