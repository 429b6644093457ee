"""Standby replicas start after the input partitions are fetching, not before.

Replaces, in faust-streaming 0.15.3: the standby steps of `Recovery._restart_recovery`
(faust/tables/recovery.py ~420-540) and the standby store opens in `Recovery._add`
(~228, through `Table.persisted_offset`). Upstream, after every assignment, recovery opens
each standby partition's store, asks the broker for the standbys' earliest offsets, seeks
them and asks for their high-water marks, all before it seeks and resumes the input
partitions; the inputs of a restarted or taken-over worker wait for its standbys. Measured
here in warm handovers of `fraudstream chaos --scenario rolling` (two workers, standby
replicas on, three probed runs): those steps took ~20 ms of each handover's pause, and
75-90 ms when one of their two broker requests queued behind a slow fetch (one request per
handover took 40-70 ms).

Here the standbys assigned by a rebalance are set aside; recovery runs for the active
partitions alone (inputs sought and resumed as before, `ordered_recovery`), and
`standby_start_delay_s` later the standbys are opened (with the store's retry on another
process's RocksDB lock: the old process of a handover closes its standby stores after it
lets the successor in), sought to their persisted offsets and resumed. A standby's only job
is a faster takeover if another worker dies; a second of lag after a rebalance costs that
takeover a second of changelog, not a decision's latency. A new rebalance drops the pending
start: it sets its own standbys aside. Flow control is not resumed again here (it already
was, and resuming it empties the agents' input queues: `ordered_recovery`). Upstream's
consistency check of standby offsets against high-water marks is not repeated. A failure to
start them crashes the worker, as upstream's recovery would. After a handover whose
assignment moved (an old standby now active), the successor's store open at assignment waits
on Faust's 1 s lock retry for the old process's standby store: only when roles change.
Delete when: upstream resumes the inputs before it starts the standbys.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from faust.types import TP

log = logging.getLogger(__name__)


class StandbysAfterInputs:
    """Recovery mixin: standbys set aside at each rebalance, started once inputs flow."""

    standby_start_delay_s = 1.0
    _set_aside: list[tuple[Any, TP]]
    _standby_start: asyncio.Task[None] | None = None

    def add_standby(self, table: Any, tp: TP) -> None:
        # Called by `Recovery.on_rebalance` for each standby partition of the assignment.
        if not hasattr(self, "_set_aside"):
            self._set_aside = []
        self._set_aside.append((table, tp))

    async def on_rebalance(
        self,
        assigned: set[TP],
        revoked: set[TP],
        newly_assigned: set[TP],
        generation_id: int = 0,
    ) -> None:
        self._cancel_standby_start()
        self._set_aside = []
        parent: Any = super()
        await parent.on_rebalance(assigned, revoked, newly_assigned, generation_id)
        this: Any = self
        # Faust's flow control re-activates a partition it had held back for a full changelog
        # queue at the queue's next read; one set aside here must stay paused until started,
        # or its records would reach recovery while it is neither active nor standby.
        buffered = getattr(this.app.consumer, "_buffered_partitions", None)
        if buffered is not None:
            buffered.difference_update(tp for _, tp in self._set_aside)

    def start_standbys_later(self, generation_id: int) -> None:
        """Once the inputs are fetching: start the standbys set aside by this generation."""
        self._cancel_standby_start()
        this: Any = self
        set_aside, self._set_aside = getattr(self, "_set_aside", []), []
        if set_aside and this.app.consumer_generation_id == generation_id:
            self._standby_start = asyncio.ensure_future(
                self._start_standbys(generation_id, set_aside)
            )

    async def on_stop(self) -> None:
        self._cancel_standby_start()
        parent: Any = super()
        await parent.on_stop()

    def _cancel_standby_start(self) -> None:
        if self._standby_start is not None and not self._standby_start.done():
            self._standby_start.cancel()
        self._standby_start = None

    async def _start_standbys(self, generation_id: int, set_aside: list[tuple[Any, TP]]) -> None:
        this: Any = self
        try:
            await self._open_and_resume(generation_id, set_aside)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # as upstream's recovery would: the worker stops, is restarted
            log.exception("standby partitions could not start")
            await this.crash(exc)

    async def _open_and_resume(self, generation_id: int, set_aside: list[tuple[Any, TP]]) -> None:
        this: Any = self
        app = this.app
        await asyncio.sleep(self.standby_start_delay_s)
        for table, tp in set_aside:
            if app.consumer_generation_id != generation_id:
                return
            store = table.data
            opener = getattr(store, "_try_open_db_for_partition", None)
            if opener is not None:  # waits out the old process's RocksDB lock
                await opener(tp.partition, generation_id=generation_id)
                if app.consumer_generation_id != generation_id:
                    return  # it gave up on the lock for a new rebalance: that one starts its own
            super().add_standby(table, tp)  # type: ignore[misc]
            await asyncio.sleep(0)  # a store open each, between the agent's batches
        consumer = app.consumer
        standbys = this.standby_tps
        if not standbys or app.consumer_generation_id != generation_id:
            return
        await this._build_offsets(consumer, standbys, this.standby_offsets, "standby")
        await this._seek_offsets(consumer, standbys, this.standby_offsets, "standby")
        await this._build_highwaters(consumer, standbys, this.standby_highwaters, "standby")
        if app.consumer_generation_id != generation_id:
            return
        consumer.resume_partitions(standbys)
        log.info("standby partitions started: %d", len(standbys))
