"""Publishing and reading the plan on `fraud.model-control.v1` (compacted, one key).

Each plan record carries a seal header: HMAC-SHA256 of its value under the registry key (the
package-signing key). A worker applies only sealed plans, so write access to the topic alone
cannot redirect traffic to another package.
"""

from __future__ import annotations

import hashlib
import hmac

from pydantic import ValidationError

from schemas import ModelControl
from stream.kafka_clients import new_producer
from stream.settings import Settings
from stream.topic_scan import UnknownTopicError, scan

PLAN_KEY = b"plan"
SEAL_HEADER = "fraud-plan-seal"


def seal(value: bytes, key: bytes) -> str:
    return hmac.new(key, value, hashlib.sha256).hexdigest()


def publish_plan(settings: Settings, plan: ModelControl, key: bytes) -> None:
    value = plan.model_dump_json().encode()
    producer = new_producer(
        settings.kafka_bootstrap, {"acks": "all", "enable.idempotence": True}, settings.kafka
    )
    errors: list[str] = []
    producer.produce(
        settings.topics.model_control,
        key=PLAN_KEY,
        value=value,
        headers=[(SEAL_HEADER, seal(value, key).encode())],
        on_delivery=lambda error, _: errors.append(str(error)) if error else None,
    )
    if producer.flush(30) or errors:
        raise RuntimeError(f"plan {plan.plan_version} not delivered: {errors or 'timeout'}")


class PlanRejected(Exception):
    """A record on the control topic that is not a sealed, valid plan."""


def decode_plan(value: bytes | None, headers: dict[str, bytes], key: bytes) -> ModelControl:
    if value is None:
        raise PlanRejected("an empty record")
    given = headers.get(SEAL_HEADER, b"").decode(errors="replace")
    if not hmac.compare_digest(given, seal(value, key)):
        raise PlanRejected("the plan is not sealed with the registry key")
    try:
        return ModelControl.model_validate_json(value)
    except ValidationError as error:
        raise PlanRejected(f"not a valid plan: {error}") from None


def latest_records(
    settings: Settings, timeout_s: float = 30.0
) -> list[tuple[bytes | None, dict[str, bytes]]]:
    """Every record of the control topic now, oldest first (compaction keeps the last)."""
    try:
        records = scan(settings.kafka_bootstrap, settings.topics.model_control, timeout_s=timeout_s)
        return [(r.value, {k: v for k, v in r.headers if v is not None}) for r in records]
    except UnknownTopicError:  # never created: no plan yet (a timeout still raises)
        return []
