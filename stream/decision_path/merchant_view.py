"""Merchant features without a second Kafka hop: every partition's partials, replicated.

Input records are keyed (and partitioned) by card, so a merchant's transactions arrive on every
partition. Each partition's owner keeps, per merchant, a partial aggregate of that partition's
transactions (table `merchant-partials`, changelog-backed), and every worker holds the
partials of all partitions in memory (`MerchantView`):
- the partitions this worker owns are updated as it applies each event: no delay;
- the others are read from the partials' changelog by `PartialsReplica`, a background thread;
  they trail their owner by the changelog's trip (librdkafka send, broker, fetch): the
  `fraud_merchant_view_delay_seconds` histogram measures it.
A decision sums the partials it saw and records, per partition, the watermark (last applied
input offset) of each partial: offline recomputation rebuilds exactly that sum.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, KafkaError, TopicPartition

from models.features import MerchantState
from stream.kafka_clients import new_consumer
from stream.prompt_reading import take_available
from stream.settings import KafkaSecurity
from stream.topic_scan import partition_watermarks

log = logging.getLogger(__name__)

Watermarks = tuple[tuple[int, int], ...]  # (input partition, last applied input offset)


def _watermark(state: MerchantState) -> int:
    return state.origin_watermarks[0] if len(state.origin_watermarks) else -1


class MerchantView:
    """merchant → one partial per input partition, decoded lazily, newest watermark wins."""

    def __init__(self, partitions: int) -> None:
        self.partitions = partitions
        self._partials: dict[bytes, list[MerchantState | bytes | None]] = {}
        # The replica thread and the event loop both write; a check-then-set must not interleave.
        self._lock = threading.Lock()

    def put_local(self, merchant: bytes, partition: int, state: MerchantState) -> None:
        """This worker applied an event of `partition` to the merchant's partial."""
        with self._lock:
            slots = self._partials.get(merchant)
            if slots is None:
                slots = self._partials[merchant] = [None] * self.partitions
            slots[partition] = state

    def put_replicated(self, merchant: bytes, partition: int, blob: bytes) -> bool:
        """A partial read from the changelog; kept only if newer than the one held."""
        watermark = MerchantState.watermark_in(blob)
        with self._lock:
            slots = self._partials.get(merchant)
            if slots is None:
                slots = self._partials[merchant] = [None] * self.partitions
            held = slots[partition]
            # An equal watermark is the same partial (often this worker's own write coming
            # back): keeping the decoded one saves decoding it again.
            if held is not None and watermark <= _held_watermark(held):
                return False
            slots[partition] = blob
            return True

    def others(self, merchant: bytes, own_partition: int) -> list[tuple[int, MerchantState]]:
        """The merchant's partials of every partition but `own_partition`, with their indices."""
        slots = self._partials.get(merchant)
        if slots is None:
            return []
        found: list[tuple[int, MerchantState]] = []
        for partition, held in enumerate(slots):
            if held is None or partition == own_partition:
                continue
            if isinstance(held, bytes):
                decoded = MerchantState.decode(held)
                with self._lock:
                    if slots[partition] is held:  # not replaced meanwhile
                        slots[partition] = decoded
                held = decoded
            found.append((partition, held))
        return found

    def __len__(self) -> int:
        return len(self._partials)


def _held_watermark(held: MerchantState | bytes) -> int:
    if isinstance(held, bytes):
        return MerchantState.watermark_in(held)
    return _watermark(held)


def seen_watermarks(
    own: tuple[int, MerchantState], others: list[tuple[int, MerchantState]]
) -> Watermarks:
    """What a decision saw: the watermark of each non-empty partial, by partition."""
    seen = [(partition, _watermark(state)) for partition, state in (own, *others)]
    return tuple(sorted((p, w) for p, w in seen if w >= 0))


class PartialsReplica:
    """Reads the partials' changelog (all partitions) into a MerchantView, in a thread.

    librdkafka long-polls in its own threads; this thread holds the GIL only to store records.
    """

    def __init__(
        self,
        bootstrap: str,
        security: KafkaSecurity,
        config: dict[str, Any],
        topic: str,
        view: MerchantView,
        observe_delays: Callable[[list[float]], None],
    ) -> None:
        self._config = {
            **config,
            "enable.auto.commit": False,
            "enable.partition.eof": False,
            # Startup reads the whole (compacted) topic; then records arrive as written.
            "auto.offset.reset": "earliest",
        }
        self._bootstrap = bootstrap
        self._security = security
        self._topic = topic
        self._view = view
        self._observe_delays = observe_delays
        self._stop = threading.Event()
        self.caught_up = threading.Event()
        self.records = 0
        self.failure: str | None = None
        self._thread = threading.Thread(target=self._run, name="merchant-view", daemon=True)

    def start(self) -> None:
        """Start reading (once; later calls do nothing)."""
        if self._thread.ident is None:
            self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    def _run(self) -> None:
        consumer = new_consumer(self._bootstrap, self._config, self._security)
        try:
            metadata = consumer.list_topics(self._topic, timeout=30)
            partitions = sorted(metadata.topics[self._topic].partitions)
            deadline = time.monotonic() + 30
            ends = {
                p: partition_watermarks(consumer, TopicPartition(self._topic, p), deadline)[1]
                for p in partitions
            }
            consumer.assign([TopicPartition(self._topic, p, OFFSET_BEGINNING) for p in partitions])
            pending = {p for p, end in ends.items() if end > 0}
            if not pending:
                self.caught_up.set()
            while not self._stop.is_set():
                delays: list[float] = []
                now = time.time()
                for message in take_available(consumer, 1000, 0.5):
                    error = message.error()
                    if error is not None:
                        if error.code() != KafkaError._PARTITION_EOF:
                            log.warning("merchant view: %s", error)
                        continue
                    self._apply(message, now, delays)
                self._observe_delays(delays)
                if pending:
                    positions = consumer.position([TopicPartition(self._topic, p) for p in pending])
                    pending -= {tp.partition for tp in positions if tp.offset >= ends[tp.partition]}
                    if not pending:
                        self.caught_up.set()
        except Exception as exc:  # the worker reports it as not ready
            self.failure = repr(exc)
            log.exception("merchant view replica stopped")
        finally:
            consumer.close()

    def _apply(self, message: Any, now: float, delays: list[float]) -> None:
        key, value = message.key(), message.value()
        if key is None or value is None:
            return
        self._view.put_replicated(key, message.partition(), value)
        self.records += 1
        kind, stamp_ms = message.timestamp()
        if kind and stamp_ms > 0:
            delays.append(max(now - stamp_ms / 1000, 0.0))
