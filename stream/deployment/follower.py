"""Following the control topic: at start-up, the newest plan that loads is applied before the
worker decides anything; afterwards a thread applies each new plan as it arrives."""

from __future__ import annotations

import logging
import threading
import uuid

from confluent_kafka import OFFSET_BEGINNING, TopicPartition

from stream.deployment.applier import PlanApplier
from stream.deployment.control_topic import latest_records
from stream.kafka_clients import new_consumer
from stream.redrive import header_pairs
from stream.settings import Settings

log = logging.getLogger(__name__)


def apply_current_plan(settings: Settings, applier: PlanApplier) -> None:
    """Blocking, before the agent starts: newest plan first, then older ones if it is refused."""
    for value, headers in reversed(latest_records(settings)):
        if applier.offer(value, headers):
            return


class PlanFollower:
    def __init__(self, settings: Settings, applier: PlanApplier) -> None:
        self._settings = settings
        self._applier = applier
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="plan-follower", daemon=True)

    def start(self) -> None:
        """Start following (once; later calls do nothing)."""
        if self._thread.ident is None:
            self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        if self._thread.ident is not None:
            self._thread.join(timeout_s)

    def _run(self) -> None:
        settings = self._settings
        consumer = new_consumer(
            settings.kafka_bootstrap,
            {
                "group.id": f"{settings.app_id}-plan-{uuid.uuid4().hex[:8]}",  # never committed
                "enable.auto.commit": False,
                "fetch.wait.max.ms": 100,
            },
            settings.kafka,
        )
        # From the start, not the end seen by apply_current_plan: a plan published in between
        # must not be missed; plans applied or refused already are skipped by their number.
        consumer.assign([TopicPartition(settings.topics.model_control, 0, OFFSET_BEGINNING)])
        try:
            while not self._stop.is_set():
                message = consumer.poll(0.2)
                if message is None or message.error() is not None:
                    continue
                headers = {k: v for k, v in header_pairs(message.headers()) if v is not None}
                try:
                    self._applier.offer(message.value(), headers)
                except Exception:  # a plan must never stop the follower
                    log.exception("applying a deployment plan failed")
        finally:
            consumer.close()
