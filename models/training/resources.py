"""Resource needs measured at build time: size, memory once loaded, scoring latency."""

from __future__ import annotations

import io
import time
import tracemalloc

import joblib
import numpy as np
import numpy.typing as npt

from models.predictor import Predictor

BATCH_SIZES = (1, 64, 512)


def loaded_memory_bytes(model_bytes: bytes) -> int:
    """Python heap grown by unpickling the model (numpy arrays included)."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        model = joblib.load(io.BytesIO(model_bytes))
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    del model
    return max(after - before, 0)


def one_row_latency_us(
    predictor: Predictor, rows: npt.NDArray[np.float64], calls: int = 200
) -> tuple[float, float]:
    """p50 and p99 of single-row calls, µs."""
    samples = []
    for i in range(calls):
        row = rows[i % len(rows) : i % len(rows) + 1]
        start = time.perf_counter()
        predictor.fraud_probability(row)
        samples.append((time.perf_counter() - start) * 1e6)
    return float(np.percentile(samples, 50)), float(np.percentile(samples, 99))


def batch_latency_us(
    predictor: Predictor, rows: npt.NDArray[np.float64], repeats: int = 20
) -> dict[str, float]:
    """µs per event, median over repeats, per batch size."""
    out = {}
    for size in BATCH_SIZES:
        batch = np.ascontiguousarray(np.resize(rows, (size, rows.shape[1])))
        predictor.fraud_probability(batch)
        timings = []
        for _ in range(repeats):
            start = time.perf_counter()
            predictor.fraud_probability(batch)
            timings.append((time.perf_counter() - start) * 1e6 / size)
        out[str(size)] = float(np.median(timings))
    return out
