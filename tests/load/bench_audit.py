"""Benchmark of the audit's per-record path (no broker): read the ids, match, keep the state.

    python -m tests.load.bench_audit [--events 100000] [--rounds 5]

Not a test: it prints figures and asserts nothing. Each round feeds the same inputs and their
decisions (each decision 100 inputs behind its input, as when the worker trails the producer)
through the audit's readers and tracker, and through a baseline: json.loads of both records and
a dict of transaction ids (the least any matcher in Python does). Memory per outcome-index
entry and per waiting input is measured with tracemalloc, id strings included.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import tracemalloc
import uuid

from schemas import decision_id_for, examples
from schemas.codec import encode_record
from stream.audit.matching import decision_ids, transaction_id_of
from stream.audit.tracking import OutcomeTracker, TrackerConfig

LAG = 100


def records(n: int) -> tuple[list[bytes], list[bytes]]:
    tx = json.loads(encode_record(examples.transaction()))
    decision = json.loads(encode_record(examples.decision()))
    inputs, decisions = [], []
    for i in range(n):
        tx["transaction_id"] = decision["transaction_id"] = f"tx-{i:09d}"
        decision["decision_id"] = decision_id_for(tx["transaction_id"])
        inputs.append(json.dumps(tx).encode())
        decisions.append(json.dumps(decision).encode())
    return inputs, decisions


def tracker(window_max_inputs: int = 50_000) -> OutcomeTracker:
    return OutcomeTracker(TrackerConfig("bench", 60_000, 2, 10_000, window_max_inputs, 10_000_000))


def audit_path(inputs: list[bytes], decisions: list[bytes]) -> float:
    t = tracker()
    start = time.perf_counter()
    for i, raw in enumerate(inputs):
        t.add_input(i % 4, i, i, transaction_id_of(raw, 65_536), now_ms=i // 10)
        if i >= LAG:
            ids = decision_ids(decisions[i - LAG])
            assert ids is not None
            t.add_decision(ids.transaction_id, ids.decision_id, i - LAG)
    return time.perf_counter() - start


def baseline(inputs: list[bytes], decisions: list[bytes]) -> float:
    waiting: dict[str, int] = {}
    start = time.perf_counter()
    for i, raw in enumerate(inputs):
        waiting[json.loads(raw)["transaction_id"]] = i
        if i >= LAG:
            waiting.pop(json.loads(decisions[i - LAG])["transaction_id"], None)
    return time.perf_counter() - start


def bytes_per(n: int) -> tuple[float, float]:
    ids = [(f"tx-{i:09d}", str(uuid.uuid4())) for i in range(n)]
    tracemalloc.start()
    t = tracker()
    before, _ = tracemalloc.get_traced_memory()
    for i, (transaction_id, decision_id) in enumerate(ids):
        t.add_decision(transaction_id, decision_id, i)
    index, _ = tracemalloc.get_traced_memory()
    waiting = tracker(window_max_inputs=10 * n)
    mark, _ = tracemalloc.get_traced_memory()
    for i, (transaction_id, _) in enumerate(ids):
        waiting.add_input(i % 4, i, i, transaction_id, now_ms=0)
    pending, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # The id strings were made before tracing: count them as the index would hold them.
    id_bytes = sum(len(a) + len(b) + 2 * 49 for a, b in ids) / n
    return (index - before) / n + id_bytes, (pending - mark) / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    inputs, decisions = records(args.events)
    ours, floor = [], []
    for _ in range(args.rounds):
        ours.append(audit_path(inputs, decisions))
        floor.append(baseline(inputs, decisions))
    per_ours = statistics.median(ours) / args.events * 1e6
    per_floor = statistics.median(floor) / args.events * 1e6
    print(f"{args.events:,} inputs + decisions, median of {args.rounds} rounds, per pair:")
    print(f"  audit path (ids, match, windows, grace heap): {per_ours:6.2f} µs")
    print(f"  baseline (json.loads both + dict):             {per_floor:6.2f} µs")
    print(f"  ratio: {per_ours / per_floor:.2f}x; {1e6 / per_ours:,.0f} pairs/s on one core")
    index, pending = bytes_per(args.events)
    print(f"memory: {index:.0f} B per outcome-index entry, {pending:.0f} B per waiting input")


if __name__ == "__main__":
    main()
