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
from typing import Any

import orjson

from models.expectations import Violation
from stream.decision_path.decided import DecidedEvent
from stream.decision_path.online_seal import CarriedAt


def emitted(applied: CarriedAt, source: tuple[str, int, int, bytes, int]) -> DecidedEvent:
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
    return DecidedEvent(
        key=key,
        outcome=decision["outcome"],
        fallback_reason=decision["fallback_reason"],
        model_version=model["version"] if model else "none",
        role=decision["role"],
        arrival_to_decision_ms=timings["arrival_to_decision_ms"],
        event_to_decision_ms=timings["event_to_decision_ms"],
        violations=[
            Violation(v["feature"], v["kind"], v["observed"], v["detail"])
            for v in log.get("violations", ())
        ],
        # Byte for byte what the caller was answered with.
        decision=carried.decision,
        log=orjson.dumps(log, option=orjson.OPT_UTC_Z),
        record=carried.record,
    )
