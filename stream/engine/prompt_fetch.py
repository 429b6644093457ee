"""A short fetch long-poll for Faust's consumer instead of a hard-coded 1.5 s.

Replaces: the `fetch_max_wait_ms=1500` argument of
`AIOKafkaConsumerThread._create_worker_consumer` (faust/transport/drivers/aiokafka.py ~615,
faust-streaming 0.15.3).
aiokafka keeps one fetch in flight per broker, built from the partitions whose buffered records
were consumed (aiokafka/consumer/fetcher.py `_fetch_requests_routine` ~476-577); a partition
that becomes fetchable again waits for the in-flight long-poll to end. At low rates that put up
to 1.5 s on a record (measured here: 1.7 s p50 at 200 events/s before this change). A short
long-poll bounds the wait; each idle long-poll costs a fetch round trip, so it is a setting.
Delete when: faust-streaming takes the fetch wait from its settings.
"""

from __future__ import annotations

from typing import Any

from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread


class PromptFetchConsumerThread(AIOKafkaConsumerThread):
    fetch_max_wait_ms = 100  # set per app by `stream.engine.consumer.install_consumer`

    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        consumer._fetch_max_wait_ms = self.fetch_max_wait_ms  # read when the consumer starts
        return consumer


class PromptFetch:
    """Consumer mixin: use PromptFetchConsumerThread."""

    def _new_consumer_thread(self) -> AIOKafkaConsumerThread:
        this: Any = self
        return PromptFetchConsumerThread(this, loop=this.loop, beacon=this.beacon)
