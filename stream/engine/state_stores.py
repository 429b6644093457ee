"""Table reads and writes straight on the partition's RocksDB; changelog through librdkafka.

Replaces, for the decision path's tables (faust-streaming 0.15.3):
- `Table.__setitem__` → `Store._set` (faust/stores/rocksdb.py ~474: looks the partition up
  from the current event) → `Table.on_key_set` (faust/tables/table.py ~83) → `send_changelog`
  (faust/tables/base.py ~266: one aiokafka send future per record) → `_on_changelog_sent`
  (~353: one more RocksDB put per record, for the persisted offset);
- `Table.get` → `Store._get` (~495).
Measured here, per event with one table: Faust's path 297 µs of worker CPU at 3,455 events/s;
the direct path 154 µs at 7,913/s (same agent, same broker).

What stays Faust's: the table's RocksDB files, its changelog topic, recovery from it at
assignment (and standby replicas), and the persisted offsets recovery starts from.
Local writes are held in memory (read back from there) and written to RocksDB one batch per
partition at each commit, or sooner when many are held (`write_pending`), instead of one put
per event: the changelog is what recovery trusts, the local store only saves reading it.
The persisted offsets are written at commit time (`persist_delivered_offsets`), after those
writes, for the changelog records whose delivery librdkafka confirmed: a persisted offset only
says "the local store holds the changelog up to here", so writing it late only makes a
recovery read more.
Delete when: Faust tables can produce changelogs through another client, cheaply.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Protocol

from faust.types import TP
from rocksdict import WriteBatch

from stream.decision_path.output import OutputProducer

# Called once a write can no longer be lost (its changelog record delivered); never if it failed.
OnStored = Callable[[], None] | None


class PartitionedState(Protocol):
    """What the decision path needs from a state table: bytes by (input partition, key)."""

    def get(self, partition: int, key: bytes) -> bytes | None: ...

    def set(self, partition: int, key: bytes, value: bytes, on_stored: OnStored = None) -> None: ...

    def write_pending(self, at_least: int = 0) -> None:
        """Write the held writes to the local store, if there are at least `at_least`."""
        ...


class TableStore:
    """A Faust table (RocksDB store, raw bytes keys and values) used directly."""

    def __init__(self, table: Any, changelog: OutputProducer) -> None:
        self._table = table
        self._changelog = changelog
        self._topic: str | None = None
        self._delivered: dict[int, int] = {}  # partition → highest changelog offset delivered
        self._pending: dict[int, dict[bytes, bytes]] = {}  # not yet in RocksDB
        self._held = 0
        self._on_delivery = self._record_delivery

    @property
    def changelog_topic(self) -> str:
        if self._topic is None:
            self._topic = str(self._table.changelog_topic_name)
        return self._topic

    def get(self, partition: int, key: bytes) -> bytes | None:
        pending = self._pending.get(partition)
        if pending is not None and key in pending:
            return pending[key]
        value = self._table.data._db_for_partition(partition).get(key)
        return None if value is None else bytes(value)

    def set(self, partition: int, key: bytes, value: bytes, on_stored: OnStored = None) -> None:
        pending = self._pending.get(partition)
        if pending is None:
            pending = self._pending[partition] = {}
        pending[key] = value
        self._held += 1
        report = (
            self._on_delivery
            if on_stored is None
            else functools.partial(self._record_delivery, on_stored=on_stored)
        )
        self._changelog.send(
            self.changelog_topic, key, value, partition=partition, on_delivery=report
        )

    def write_pending(self, at_least: int = 0) -> None:
        """Write the held writes to the partitions' RocksDB, one batch per partition, if there
        are at least `at_least` (counting overwrites of a key)."""
        if self._held < at_least or not self._pending:
            return
        pending, self._pending, self._held = self._pending, {}, 0
        data = self._table.data
        for partition, writes in pending.items():
            batch = WriteBatch(raw_mode=True)
            for key, value in writes.items():
                batch.put(key, value)
            data._db_for_partition(partition).write(batch)

    def _record_delivery(self, error: Any, message: Any, on_stored: OnStored = None) -> None:
        if error is not None:
            self._changelog.failed(error)
            return
        partition, offset = message.partition(), message.offset()
        if offset > self._delivered.get(partition, -1):
            self._delivered[partition] = offset
        if on_stored is not None:
            on_stored()

    def persist_delivered_offsets(self) -> None:
        """After a flush: tell Faust's recovery where each local partition store stands."""
        self.write_pending()  # the offsets claim the local store holds those records
        delivered, self._delivered = self._delivered, {}
        data = self._table.data
        for partition, offset in delivered.items():
            data.set_persisted_offset(TP(self.changelog_topic, partition), offset)


class DictStore:
    """In-memory stand-in for tests and offline replays."""

    def __init__(self) -> None:
        self.data: dict[tuple[int, bytes], bytes] = {}

    def get(self, partition: int, key: bytes) -> bytes | None:
        return self.data.get((partition, key))

    def set(self, partition: int, key: bytes, value: bytes, on_stored: OnStored = None) -> None:
        self.data[(partition, key)] = value
        if on_stored is not None:
            on_stored()  # nothing to wait for in memory

    def write_pending(self, at_least: int = 0) -> None:
        return None


def close_local_stores(app: Any, *, standbys_too: bool = True) -> None:
    """Close every RocksDB partition store of the app's tables; call once the final commit is
    made (at the consumer's shutdown: stream.engine.release_after_commit) or Faust has stopped.

    Faust's store stop (faust/stores/rocksdb.py `Store.stop` ~568) only drops its references
    (its `db.close()` is commented out), and the final commit that follows it reopens the
    active partitions' stores to write their persisted offsets (`persist_delivered_offsets`).
    They then stay open, holding RocksDB's per-store LOCK, until the process exits, after the
    worker's data-dir lock is released (stream.decision_path.handover): the new process of a
    warm handover found "DB for partition 3 is locked! Retry in 1s..." and lost a second of
    scoring on its partitions (measured here in a rolling restart). Closed here, before the
    data-dir lock goes, the new process opens them at once.
    With `standbys_too=False` the standby partitions' stores stay open: a warm successor
    opens those only once its inputs are fetching (stream.engine.standbys_after_inputs), so
    their closes (each a memtable flush, 2-5 ms here under load) need not delay it.
    Delete when: Faust closes its stores on stop and nothing reopens them.
    """
    standbys = set() if standbys_too else set(app.assignor.assigned_standbys())
    for table in app.tables.values():
        store = table.data
        databases = getattr(store, "_dbs", None)
        if not databases:
            continue
        kept = {tp.partition for tp in standbys if tp.topic in table.changelog_topic.topics}
        for partition in [p for p in databases if p not in kept]:
            databases.pop(partition).close()
