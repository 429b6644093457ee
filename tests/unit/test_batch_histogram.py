"""A batch-observed histogram exports exactly what prometheus_client's own would."""

from __future__ import annotations

import random

import pytest
from prometheus_client import CollectorRegistry, Histogram, generate_latest

from stream.decision_path.batch_histogram import BatchHistogram

BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 1.0)


@pytest.mark.parametrize("batch", [1, 3, 15, 16, 200])
def test_same_exposition_as_a_prometheus_histogram(batch: int) -> None:
    rng = random.Random(batch)
    values = [
        rng.choice([0.0, 0.001, 0.005, 2.0]) if i % 5 == 0 else rng.expovariate(30)
        for i in range(600)
    ]
    ours, theirs = CollectorRegistry(), CollectorRegistry()
    mine = BatchHistogram("fraud_t_seconds", "doc", BUCKETS, ["since"], registry=ours)
    reference = Histogram("fraud_t_seconds", "doc", ["since"], buckets=BUCKETS, registry=theirs)
    for start in range(0, len(values), batch):
        chunk = values[start : start + batch]
        mine.observe_many(chunk, "arrival")
        for value in chunk:
            reference.labels("arrival").observe(value)

    def samples(registry: CollectorRegistry) -> dict[str, float]:
        lines = generate_latest(registry).decode().splitlines()
        found = {}
        for line in lines:
            if line.startswith("fraud_t_seconds_") and "_created" not in line:
                name, value = line.rsplit(" ", 1)
                found[name] = float(value)
        return found

    expected = samples(theirs)
    got = samples(ours)
    assert got.keys() == expected.keys()
    for name, value in expected.items():
        assert got[name] == pytest.approx(value), name


def test_nothing_observed_exports_no_series() -> None:
    registry = CollectorRegistry()
    histogram = BatchHistogram("fraud_u_seconds", "doc", BUCKETS, registry=registry)
    histogram.observe_many([])
    assert "fraud_u_seconds_bucket" not in generate_latest(registry).decode()
