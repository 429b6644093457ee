"""What the stage emits for an input carrying a sealed online decision (see online_seal.py).

The decision goes out byte for byte as the caller was answered. Its scoring-log record was
written at request time, before the record had an offset: the stage fills in where the record
was read and marks it decided online. The request read the merchant's partial of its own
partition with the overlay (online transactions whose offsets were not known yet); when the
stage's partial before the record has the same window totals (no other producer's record of
the merchant slipped in between), the stage logs that partial's watermark for the partition, so
offline recomputation rebuilds exactly what the decision summed. Otherwise the log keeps the
watermark the request read from the table, without the overlay.
"""

from __future__ import annotations

import base64
from typing import Any, NamedTuple

import orjson

from models.expectations import Violation
from stream.decision_path.online_seal import CarriedAt


class Emitted(NamedTuple):
    outcome: str
    fallback_reason: str | None
    model_version: str
    role: str
    arrival_to_decision_ms: float
    event_to_decision_ms: float
    violations: list[Violation]
    log: bytes


def emitted(applied: CarriedAt, source: tuple[str, int, int, bytes, int]) -> Emitted:
    carried = applied.carried
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
    if applied.own_watermark is not None:
        seen = [s for s in log["merchant_view"] if s["partition"] != partition]
        if applied.own_watermark >= 0:
            seen.append({"partition": partition, "offset": applied.own_watermark})
        log["merchant_view"] = sorted(seen, key=lambda s: int(s["partition"]))
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
