"""Starts and stops without Faust's and mode's fixed one-second waits.

With static membership a restarted worker's partitions wait, undecided, from its SIGTERM until
the new process is ready (README, Availability), so every second of a restart is a second of
backlog for them. Replaces, in faust-streaming 0.15.3 / mode-streaming 0.7.1:
- `TableManager.on_start` (faust/tables/manager.py ~138-142): sleeps 1.0 s before it subscribes
  the tables' changelogs and starts recovery, so the consumer joins its group a second late
  (measured here: "Joined group" 1.1 s after the manager's "Starting..."). The decision path
  declares its tables before the app starts: nothing can arrive in that second.
- `Worker._sentinel_task` (mode/worker.py ~317-318): the last step of a shutdown, after every
  service has stopped, waits 1.0 s ("Gathering all futures..." → "Closing event loop").
  Every service has stopped by then (offsets committed, outputs flushed) and the data-dir
  lock waits for it; 10 ms still lets the closing transports' callbacks run.
- `Store.stop` and `Store.revoke_partitions` (faust/stores/rocksdb.py ~568-589): each runs a
  full `gc.collect()`, to let the collector close the RocksDB handles it dropped (its own
  `db.close()` calls are commented out). One per table on the old process's stop and one per
  table at the new process's assignment, all on the restart's critical path (measured here
  in a rolling restart on a loaded machine: the card table's stop 242 ms, the partials' 124 ms;
  at the new process's assignment 512 ms before the first store opened and 364 ms between the
  two tables). Here nothing is collected: a revocation closes its handles at once; on stop
  they stay open for the final commit and `stream.engine.state_stores.close_local_stores`
  closes them.
- `RocksDBOptions.as_options` (faust/stores/rocksdb.py ~158), for the rocksdict driver: it
  leaves RocksDB's defaults of 16 threads to open a store's files and a statistics pass over
  them at open. A warm handover opens its eight stores on the critical path; one thread each
  and no statistics pass: 8 opens 28-31 ms against 39-44 ms (measured standalone, 8 stores of
  ~3,000 keys with SST files, directly and through Faust's `open`).
Delete when: upstream drops those sleeps and collections or makes them settings.
"""

from __future__ import annotations

import asyncio
from typing import Any

import faust
from faust.stores import STORES
from faust.stores.rocksdb import RocksDBOptions
from faust.stores.rocksdb import Store as RocksDBStore
from faust.types import TP

PROMPT_STORE_URL = "fraudstream-rocksdb://"  # Faust's RocksDB store, without the collections


class PromptTableStart:
    """TableManager mixin: start recovery at once."""

    async def on_start(self) -> None:
        this: Any = self
        if not this.should_stop:
            await this._update_channels()
            await this.recovery.start()


class PromptStopWorker(faust.Worker):
    async def _sentinel_task(self) -> None:
        await asyncio.sleep(0.01)


class QuickOpenOptions(RocksDBOptions):
    """Faust's options for a rocksdict store, opened with less start-up work."""

    def as_options(self) -> Any:
        options = super().as_options()
        if self.use_rocksdict:
            # A store's files are opened once, at assignment: a pool of 16 threads for it
            # costs more than it saves on these stores' few files.
            options.set_max_file_opening_threads(1)
            # The statistics it would refresh only tune compaction: that can wait for a flush.
            options.set_skip_stats_update_on_db_open(True)
        return options


class PromptRocksDBStore(RocksDBStore):
    """Faust's RocksDB store: revocation closes the handles itself; stop leaves them open;
    stores open with less start-up work (QuickOpenOptions)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Built as Faust builds its own (faust/stores/rocksdb.py ~282), from the same settings.
        self.rocksdb_options = QuickOpenOptions(
            **(self.options or {}), use_rocksdict=self.use_rocksdict
        )

    async def stop(self) -> None:
        # Open until the process's last commit, which comes after the tables stop and writes
        # each partition's persisted changelog offset into its store
        # (stream.engine.state_stores.TableStore.persist_delivered_offsets). Closed here, every
        # store was reopened for that write (~6-10 ms each; 42-96 ms of a warm handover's stop
        # for eight stores, measured here with tests/load/bench_takeover.py).
        # `close_local_stores` closes them after that commit, before the data-dir lock goes.
        self.logger.info("Stores stay open for the final commit")

    def revoke_partitions(self, table: Any, tps: set[TP]) -> None:
        topics = table.changelog_topic.topics
        self._close_all([tp.partition for tp in tps if tp.topic in topics])

    def _close_all(self, partitions: list[int]) -> None:
        for partition in partitions:
            db = self._dbs.pop(partition, None)
            if db is not None:
                db.close()


def register_prompt_store() -> str:
    """Make PROMPT_STORE_URL name PromptRocksDBStore (same files as Faust's `rocksdb://`)."""
    STORES.aliases[PROMPT_STORE_URL.split(":", 1)[0]] = f"{__name__}:PromptRocksDBStore"
    return PROMPT_STORE_URL
