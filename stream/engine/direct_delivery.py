"""Hand each fetched record to its stream directly when nothing can make the hand-over wait.

Replaces: `Consumer._drain_messages` (faust/transport/consumer.py ~1170-1249, faust-streaming
0.15.3), whose inner loop delivers every record through
`await self.wait_first(callback(message), self.suspend_flow.wait())`. `mode`'s `wait_first`
(mode/services.py ~756-800, mode-streaming 0.7.1) wraps each of those, and the service's
stopped and crashed events, in a task, waits for the first, and cancels the rest: four tasks
per record. Measured here with a consume-only agent: 4,928 records/s and 192 µs of CPU each
upstream; 10,638/s and 95 µs with this loop.

The race it exists for is kept: the callback can only wait when flow control is suspended
(a rebalance), when Faust's own producer buffer is over its limit, or when a stream's queue is
full. When none holds, the callback completes without waiting and is awaited directly;
otherwise the upstream `wait_first` path runs, unchanged, so a rebalance still interrupts a
hand-over that waits.
Delete when: upstream delivers records without per-record tasks.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any, cast

from faust.transport.consumer import CONSUMER_FETCHING


class DirectDelivery:
    """Consumer mixin: `_drain_messages` without per-record tasks on the common path."""

    def _handover_cannot_wait(self, tp: Any) -> bool:
        this: Any = self
        app = this.app
        if not app.flow_control.is_active() or this.suspend_flow.is_set():
            return False
        buffer = app.producer.buffer
        if buffer.size >= buffer.max_messages:
            return False
        return not any(channel.queue.full() for channel in app.topics._tp_index.get(tp, ()))

    async def _drain_messages(self, fetcher: Any) -> None:  # pragma: no cover - a live loop
        this: Any = self
        callback = this.callback
        getmany = this.getmany
        consumer_should_stop = this._stopped.is_set
        fetcher_should_stop = fetcher._stopped.is_set
        get_read_offset = this._read_offset.__getitem__
        acks_enabled_for = this.app.topics.acks_enabled_for
        cannot_wait = self._handover_cannot_wait
        set_flag, unset_flag = this.diag.set_flag, this.diag.unset_flag
        yield_every = 100
        since_yield = 0
        try:
            while not (consumer_should_stop() or fetcher_should_stop()):
                set_flag(CONSUMER_FETCHING)
                batch = cast(AsyncIterator[Any], getmany(timeout=1.0))
                await this.sleep(0)  # as upstream: never hog the loop between fetches
                if this.should_stop:
                    continue
                async for tp, message in batch:
                    since_yield += 1
                    if since_yield > yield_every:
                        await asyncio.sleep(0)
                        since_yield = 0
                    offset = message.offset
                    read = get_read_offset(tp)
                    if read is not None and offset < read:
                        continue  # already read (upstream logs it at "dev" level and drops it)
                    if read and offset - read > 1 and acks_enabled_for(message.topic):
                        await this._add_gap(tp, read + 1, offset)
                    if this._commit_every is not None and this._n_acked >= this._commit_every:
                        this._n_acked = 0
                        await this.commit()
                    if cannot_wait(tp):
                        await callback(message)
                    else:
                        await this.wait_first(callback(message), this.suspend_flow.wait())
                    # Looked up again: the read-offset map can be replaced by a seek.
                    this._read_offset[tp] = offset
                unset_flag(CONSUMER_FETCHING)
        except this.consumer_stopped_errors:
            if this.transport.app.should_stop:
                this.log.info("Broker stopped consumer, shutting down...")
                return
            raise
        except asyncio.CancelledError:
            if this.transport.app.should_stop:
                this.log.info("Consumer shutting down for user cancel.")
                return
            raise
        except Exception as exc:
            this.log.exception("Drain messages raised: %r", exc)
            raise
        finally:
            unset_flag(CONSUMER_FETCHING)
