"""Fetches that suit the traffic: short long-polls while records flow, a long one when idle.

Replaces, in faust-streaming 0.15.3 / aiokafka 0.14.0:
- the `fetch_max_wait_ms=1500` argument of `AIOKafkaConsumerThread._create_worker_consumer`
  (faust/transport/drivers/aiokafka.py ~615): here `fetch_max_wait_ms`, the idle long-poll;
- per consumer instance, aiokafka's `prefetch_backoff` (aiokafka/consumer/fetcher.py ~395),
  the `fetch_min_bytes` / `fetch_max_wait_ms` it reads for each request (~663) and the
  `fetcher_timeout` its fetch routine sleeps when it has nothing to fetch (~677).

aiokafka keeps one fetch in flight per broker, built from the partitions whose fetched records
were consumed (`_fetch_requests_routine` ~476-577); a partition left out waits for the request
in flight (at most the long-poll; at a few hundred records/s the others end it sooner).
What made records wait, and what costs CPU:
- The prefetch backoff. While any partition holds fetched records not yet consumed, aiokafka
  sends no fetch at all to that broker for up to 100 ms (`_get_actions_per_node`,
  `backoff_by_nodes`). Faust pauses the state tables' changelog partitions in its own
  bookkeeping only, so aiokafka keeps fetching them and their records (the worker's own
  changelog writes) are never consumed: each changelog partition that received data stopped
  all input fetching for 100 ms (measured here: ~100 ms stalls in the first 0.3 s of
  traffic). Without it, a partition with buffered records is only left out of the next fetch.
- The long-poll. A request can hold none of the partitions that receive records (all were
  buffered when it was built): then they wait for its whole long-poll. While records flow
  (one came within `quiet_after_s`), requests wait at most `fetch_flow_wait_ms`; when idle,
  the long `fetch_max_wait_ms` (an idle worker costs ~1.5 % of a core at 100 ms against ~5 %
  at 20 ms, measured here). The switch to flowing happens at the response that brings
  records, before the next request is built (measured here: up to ~100 ms for the first
  records after an idle period otherwise, ~60 ms p50 at 500/s with the long-poll kept).
- The fetch routine's sleep. With every partition's records still buffered there is nothing
  to fetch, and the routine sleeps up to `fetcher_timeout` (200 ms) unless woken; measured
  here at 1,000 records/s: 200 ms gaps between fetches, p95 222 ms. While records flow it
  sleeps at most `fetch_flow_wait_ms`.
- The long-poll during recovery. The broker answers one request per connection at a time, and
  aiokafka sends a node's fetches and its end-offset and position requests on one connection:
  after an assignment, each of recovery's requests waited behind an idle 100 ms long-poll
  (measured here on a warm successor's takeover: 160 ms from "generation id" to the
  changelogs' high-water marks). For `recovery_window_s` after the consumer's creation and
  after each assignment, or while records flow, the short long-poll applies.
Gathering records per fetch (a minimum of bytes while records flow, `fetch_flow_min_bytes`) is
off by default (1 byte: a fetch answers at the first record). At 1,000/s it once saved no CPU
(710 against 696 µs per event) and tripled p50 (41 against 22 ms); at 250/s, 4 KB cut the
worker's CPU per event by about a quarter and the broker's by ~12 %, at 500/s by ~12 % and ~6 %,
for ~2 ms of median latency (docs/performance.md): on these machines each request and wake-up
costs more than the records it carries. It never applies
while idle (the first record after a quiet spell would wait the idle long-poll) nor in the
recovery window (recovery's requests would wait for bytes the changelogs' tails do not have).
Delete when: faust-streaming pauses changelog partitions in aiokafka and takes fetch settings.
"""

from __future__ import annotations

import time
from typing import Any

from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

from stream.engine.active_only import ActivePartitions
from stream.engine.committed_seek import CommittedSeekInOneRequest


class PromptFetchConsumerThread(CommittedSeekInOneRequest, AIOKafkaConsumerThread):
    # Set per app by `stream.engine.consumer.install_consumer`.
    fetch_max_wait_ms = 100  # idle
    fetch_flow_wait_ms = 5  # while records flow
    fetch_flow_min_bytes = 1  # while records flow (outside the recovery window)
    quiet_after_s = 1.0
    recovery_window_s = 5.0  # after an assignment: short long-polls while recovery asks
    # Take only records of active partitions, also when none is (stream.engine.active_only).
    drain_only_active = True

    _last_records_at = 0.0
    _prompt_until = 0.0
    _applied: tuple[int, int] | None = None  # (long-poll ms, minimum bytes) last set

    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        # Read when the consumer starts. Its first assignment comes within a second or so, and
        # aiokafka sends the first fetch of the assigned partitions before our assignment
        # callback runs: that one must not hold recovery's requests either.
        self._prompt_until = time.monotonic() + self.recovery_window_s
        consumer._fetch_max_wait_ms = self.fetch_flow_wait_ms
        return consumer

    async def _fetch_records(
        self,
        consumer: Any,
        active_partitions: Any,
        timeout: float | None = None,
        max_records: int | None = None,
    ) -> Any:
        if self.drain_only_active and active_partitions is not None:
            active_partitions = ActivePartitions(active_partitions)
        records = await super()._fetch_records(
            consumer, active_partitions, timeout=timeout, max_records=max_records
        )
        now = time.monotonic()
        if records:
            self._last_records_at = now
        self._apply(consumer._fetcher, now)
        return records

    async def on_start(self) -> None:
        await super().on_start()
        # Tuned as soon as aiokafka creates its fetcher (in the consumer's start), before the
        # first assignment: each fetched record keeps the prefetch backoff it was created with.
        # Tuned at the first drain instead (after recovery), the changelog records recovery
        # had fetched still held the input partitions' first fetch for up to 100 ms in about
        # half of the warm takeovers (measured here, tests/load/bench_takeover.py).
        self._tune(self._ensure_consumer()._fetcher)

    async def on_partitions_assigned(self, assigned: Any, generation_id: int = 0) -> None:
        now = time.monotonic()
        self._prompt_until = now + self.recovery_window_s
        self._apply(self._ensure_consumer()._fetcher, now)
        await super().on_partitions_assigned(assigned, generation_id)

    def _tune(self, fetcher: Any) -> None:
        fetcher._prefetch_backoff = 0.0  # read for each response's records
        process = fetcher._proc_fetch_request

        async def processed(assignment: Any, node_id: Any, request: Any) -> Any:
            has_new_data = await process(assignment, node_id, request)
            if has_new_data:
                # Records flow: shorten the long-poll before the next request is built, or
                # it would hold the partitions it leaves out for the whole idle long-poll.
                self._last_records_at = time.monotonic()
                self._apply(fetcher, self._last_records_at)
            return has_new_data

        fetcher._proc_fetch_request = processed

    def _apply(self, fetcher: Any, now: float) -> None:
        recovering = now < self._prompt_until
        flowing = now - self._last_records_at < self.quiet_after_s or recovering
        wait_ms = self.fetch_flow_wait_ms if flowing else self.fetch_max_wait_ms
        min_bytes = self.fetch_flow_min_bytes if flowing and not recovering else 1
        if (wait_ms, min_bytes) == self._applied:
            return
        self._applied = (wait_ms, min_bytes)
        fetcher._fetch_max_wait_ms = wait_ms
        fetcher._fetch_min_bytes = min_bytes
        # With nothing to fetch (every partition's records still buffered), the routine
        # sleeps up to this long unless a consumption wakes it (default 0.2 s).
        fetcher._fetcher_timeout = wait_ms / 1000


class PromptFetch:
    """Consumer mixin: use PromptFetchConsumerThread."""

    def _new_consumer_thread(self) -> AIOKafkaConsumerThread:
        this: Any = self
        return PromptFetchConsumerThread(this, loop=this.loop, beacon=this.beacon)
