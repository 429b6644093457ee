"""What the stage emits for an input carrying a sealed online decision (see online_seal.py).

The decision goes out byte for byte as the caller was answered. Its scoring-log record was
written at request time, before the record had an offset: the stage fills in where the record
was read, marks it decided online, and — when the features it computes now for the record equal
the ones the decision was made on (no other producer's record of the card or merchant slipped
in between) — replaces the merchant view by the watermarks it summed, which offline
recomputation can rebuild exactly (the request's own partition was read with the overlay, whose
offsets were not known yet).
"""

from __future__ import annotations

import base64
import math
from typing import Any, NamedTuple

import orjson

from models.expectations import Violation
from models.features import FEATURE_NAMES
from stream.decision_path.merchant_view import Watermarks
from stream.decision_path.online_seal import Carried


class Emitted(NamedTuple):
    outcome: str
    fallback_reason: str | None
    model_version: str
    role: str
    arrival_to_decision_ms: float
    event_to_decision_ms: float
    violations: list[Violation]
    log: bytes


def emitted(
    carried: Carried,
    source: tuple[str, int, int, bytes, int],
    features: tuple[float, ...],
    merchant_view: Watermarks,
) -> Emitted:
    decision: dict[str, Any] = orjson.loads(carried.decision)
    log: dict[str, Any] = orjson.loads(carried.log)
    topic, partition, offset, key, timestamp_ms = source
    log["source"] = {
        "topic": topic,
        "partition": partition,
        "offset": offset,
        "key": base64.urlsafe_b64encode(key).decode(),
        "timestamp_ms": timestamp_ms,
    }
    log["decided_online"] = True
    logged = [log["features"].get(name) for name in FEATURE_NAMES]
    if all(_same(a, b) for a, b in zip(logged, features, strict=True)):
        log["merchant_view"] = [{"partition": p, "offset": o} for p, o in merchant_view]
    model = decision.get("model")
    timings = decision["timings"]
    return Emitted(
        decision["outcome"],
        decision["fallback_reason"],
        model["version"] if model else "none",
        decision["role"],
        timings["arrival_to_decision_ms"],
        timings["event_to_decision_ms"],
        [
            Violation(v["feature"], v["kind"], v["observed"], v["detail"])
            for v in log.get("violations", ())
        ],
        orjson.dumps(log, option=orjson.OPT_UTC_Z),
    )


def _same(logged: float | None, computed: float) -> bool:
    # The log writes a missing value (NaN) as null.
    return math.isnan(computed) if logged is None else logged == computed
