"""JSON of the worker's own output records, written directly on the hot path.

Building pydantic objects and dumping them cost ~110-150 µs per event here (two records, a
dozen nested models); writing the same JSON from plain values costs a fraction of that. The
contracts stay the pydantic models in `schemas/`: the unit tests check that what this module
writes validates and equals the model-built record, field for field.
Every string written unescaped is an identifier or code the contract restricts to
[A-Za-z0-9._:@/+-] (validated input) or a constant; anything free-form goes through json.dumps.
"""

from __future__ import annotations

import base64
import functools
import json
import math
from collections.abc import Sequence
from datetime import datetime

from models.expectations import Violation
from schemas import ModelRef, Transaction

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def timestamp(moment: datetime) -> str:
    """ISO 8601 like pydantic writes it: microseconds, `Z` for UTC."""
    text = moment.isoformat(timespec="microseconds")
    return text[:-6] + "Z" if text.endswith("+00:00") else text


# One `decided_at` per batch, written twice per event (decision and scoring log): format it once.
_batch_timestamp = functools.lru_cache(maxsize=2)(timestamp)


def number(value: float | None) -> str:
    """A JSON number, or null for missing / not finite (the contract reads null as missing)."""
    if value is None or not math.isfinite(value):
        return "null"
    return repr(float(value))


def _ref(model: ModelRef | None) -> str:
    if model is None:
        return "null"
    return (
        f'{{"name":"{model.name}","version":"{model.version}",'
        f'"content_hash":"{model.content_hash}"}}'
    )


def _timings(event_ms: float, arrival_ms: float, scoring_us: float) -> str:
    return (
        f'{{"event_to_decision_ms":{number(event_ms)},'
        f'"arrival_to_decision_ms":{number(arrival_ms)},"scoring_us":{number(scoring_us)}}}'
    )


def _fallback(reason: str | None) -> str:
    return "null" if reason is None else f'"{reason}"'


def decision_json(
    *,
    decision_id: str,
    transaction: Transaction,
    outcome: str,
    score: float | None,
    reason_codes: Sequence[str],
    model: ModelRef | None,
    role: str,
    feature_set_version: str,
    fallback_reason: str | None,
    decided_at: datetime,
    timings: tuple[float, float, float],
) -> bytes:
    return (
        f'{{"schema_version":1,"decision_id":"{decision_id}",'
        f'"transaction_id":"{transaction.transaction_id}","card_id":"{transaction.card_id}",'
        f'"merchant_id":"{transaction.merchant_id}","outcome":"{outcome}","score":{number(score)},'
        f'"reason_codes":{_dumps(list(reason_codes))},"model":{_ref(model)},"role":"{role}",'
        f'"feature_set_version":"{feature_set_version}",'
        f'"fallback":{"false" if fallback_reason is None else "true"},'
        f'"fallback_reason":{_fallback(fallback_reason)},'
        f'"event_time":"{timestamp(transaction.event_time)}",'
        f'"decided_at":"{_batch_timestamp(decided_at)}","timings":{_timings(*timings)}}}'
    ).encode()


def scoring_log_json(
    *,
    decision_id: str,
    transaction: Transaction,
    transaction_json: str,
    raw_sha256: str,
    source: tuple[str, int, int, bytes | None, int | None],
    feature_set_version: str,
    features: dict[str, float],
    output: tuple[str, ModelRef, float | None, str | None, float | None, str | None] | None,
    deciding_role: str,
    outcome: str,
    reason_codes: Sequence[str],
    violations: Sequence[Violation],
    fallback_reason: str | None,
    decided_at: datetime,
    timings: tuple[float, float, float],
) -> bytes:
    topic, partition, offset, key, timestamp_ms = source
    key_json = "null" if key is None else f'"{base64.urlsafe_b64encode(key).decode()}"'
    # Features are finite or NaN (missing); `v != v` is the cheapest NaN test.
    feature_json = ",".join(
        [f'"{name}":null' if v != v else f'"{name}":{v!r}' for name, v in features.items()]
    )
    outputs = "[]"
    if output is not None:
        role, model, score, model_outcome, latency_us, error = output
        outcome_json = "null" if model_outcome is None else f'"{model_outcome}"'
        error_json = "null" if error is None else _dumps(error)
        outputs = (
            f'[{{"role":"{role}","model":{_ref(model)},"score":{number(score)},'
            f'"outcome":{outcome_json},"latency_us":{number(latency_us)},"error":{error_json}}}]'
        )
    violation_json = ",".join(
        f'{{"feature":"{v.feature}","kind":"{v.kind}","observed":{number(v.observed)},'
        f'"detail":{_dumps(v.detail[:300])}}}'
        for v in violations
    )
    return (
        f'{{"schema_version":1,"decision_id":"{decision_id}",'
        f'"transaction_id":"{transaction.transaction_id}","card_id":"{transaction.card_id}",'
        f'"merchant_id":"{transaction.merchant_id}","transaction":{transaction_json},'
        f'"raw_sha256":"{raw_sha256}","source":{{"topic":{_dumps(topic)},'
        f'"partition":{partition},"offset":{offset},"key":{key_json},'
        f'"timestamp_ms":{"null" if timestamp_ms is None else timestamp_ms}}},'
        f'"feature_set_version":"{feature_set_version}","features":{{{feature_json}}},'
        f'"outputs":{outputs},"deciding_role":"{deciding_role}","outcome":"{outcome}",'
        f'"reason_codes":{_dumps(list(reason_codes))},"violations":[{violation_json}],'
        f'"fallback":{"false" if fallback_reason is None else "true"},'
        f'"fallback_reason":{_fallback(fallback_reason)},'
        f'"decided_at":"{_batch_timestamp(decided_at)}","timings":{_timings(*timings)}}}'
    ).encode()
