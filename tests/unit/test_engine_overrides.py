"""The engine overrides: pinned to the versions they were written for, wired into the app, and
doing what each says. Removing one makes its test here fail."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import faust
import pytest
from faust.sensors import Monitor, Sensor
from pydantic import ValidationError
from rocksdict import Options, Rdict

from stream.decision_path.app import create_app
from stream.engine import PINNED_VERSIONS, engine_versions
from stream.engine.commit_flush import flush_before_commits
from stream.engine.direct_delivery import DirectDelivery
from stream.engine.ordered_recovery import OrderedRecovery, OrderedRecoveryTableManager
from stream.engine.positioning import Positioning
from stream.engine.prompt_fetch import PromptFetch, PromptFetchConsumerThread
from stream.engine.prompt_restart import PromptStopWorker, PromptTableStart
from stream.engine.release_after_commit import ReleaseAfterCommit, after_final_commit
from stream.engine.sensors import SensorsWithoutMonitor
from stream.engine.state_stores import TableStore, close_local_stores
from stream.settings import Settings


def test_engine_is_the_version_the_overrides_were_written_for() -> None:
    # A new faust-streaming, aiokafka or mode must be re-checked against stream/engine/.
    assert engine_versions() == PINNED_VERSIONS


def test_app_is_built_with_every_override(tmp_path: Path) -> None:
    app: Any = create_app(Settings(data_dir=tmp_path, fetch_max_wait_ms=37))
    assert isinstance(app.tables, OrderedRecoveryTableManager)
    assert isinstance(app.tables.recovery, OrderedRecovery)
    consumer_class = app.transport.Consumer
    for override in (DirectDelivery, Positioning, PromptFetch, ReleaseAfterCommit):
        assert issubclass(consumer_class, override)
    assert consumer_class.gapless_topics == frozenset({"fraud.transactions.v1"})
    assert PromptFetchConsumerThread.fetch_max_wait_ms == 37
    assert isinstance(app.sensors, SensorsWithoutMonitor)
    assert isinstance(app.tables, PromptTableStart)
    assert app.conf.consumer_group_instance_id == "worker-1"
    assert app.conf.table_standby_replicas == 1


def test_static_membership_can_be_named_or_turned_off(tmp_path: Path) -> None:
    named: Any = create_app(Settings(data_dir=tmp_path, group_instance_id="scorer-eu-1"))
    assert named.conf.consumer_group_instance_id == "scorer-eu-1"
    dynamic: Any = create_app(Settings(data_dir=tmp_path, static_membership=False))
    assert dynamic.conf.consumer_group_instance_id is None


def test_table_recovery_starts_without_a_fixed_wait(tmp_path: Path) -> None:
    app: Any = create_app(Settings(data_dir=tmp_path))
    calls: list[str] = []

    async def record(name: str) -> None:
        calls.append(name)

    app.tables._update_channels = lambda: record("channels")
    app.tables.recovery.start = lambda: record("recovery")

    async def start_within_a_tenth() -> None:
        await asyncio.wait_for(app.tables.on_start(), timeout=0.1)

    asyncio.run(start_within_a_tenth())
    assert calls == ["channels", "recovery"]


def test_worker_shutdown_ends_without_a_fixed_second() -> None:
    assert issubclass(PromptStopWorker, faust.Worker)
    sentinel = PromptStopWorker._sentinel_task(None)  # type: ignore[arg-type]
    asyncio.run(asyncio.wait_for(sentinel, timeout=0.5))  # upstream's takes 1.0 s


def test_unfixed_app_is_available_only_on_request(tmp_path: Path) -> None:
    app: Any = create_app(Settings(data_dir=tmp_path, ordered_recovery=False))
    assert not isinstance(app.tables, OrderedRecoveryTableManager)
    assert app.transport.Consumer.gapless_topics == frozenset()
    assert app.transport.Consumer.position_every_partition is False


def test_exactly_once_is_refused_with_the_reason() -> None:
    with pytest.raises(ValidationError, match="outside Faust's Kafka transactions"):
        Settings(processing_guarantee="exactly_once")  # type: ignore[arg-type]


def test_the_monitor_sensor_is_never_added_but_others_are(tmp_path: Path) -> None:
    app: Any = create_app(Settings(data_dir=tmp_path))
    app.sensors.add(Monitor())
    other = Sensor()
    app.sensors.add(other)
    assert list(app.sensors) == [other]
    # Faust warns "Missing sensor state for rebalance" when this is empty.
    assert app.sensors.on_rebalance_start(app)


class _Recorder:
    def __init__(self) -> None:
        self.calls: list[str] = []


class _Consumer:
    def __init__(self, recorder: _Recorder) -> None:
        self.recorder = recorder

    def assignment(self) -> set[Any]:
        return {("fraud.transactions.v1", 0), ("app-card-state-changelog", 0)}

    async def perform_seek(self) -> None:
        await asyncio.sleep(0.01)  # a seek takes a round trip; nothing may resume meanwhile
        self.recorder.calls.append("seek")

    def resume_flow(self) -> None:
        self.recorder.calls.append("resume_flow")

    def resume_partitions(self, partitions: set[Any]) -> None:
        self.recorder.calls.append(f"resume_partitions:{sorted(partitions)}")


class _FlowControl:
    def __init__(self, recorder: _Recorder | None = None, active: bool = True) -> None:
        self.recorder = recorder
        self.active = active

    def resume(self) -> None:
        assert self.recorder is not None
        self.recorder.calls.append("flow_control.resume (clears queues)")

    def is_active(self) -> bool:
        return self.active


class _Fetcher:
    async def maybe_start(self) -> None:
        return None


def test_seek_and_queue_clear_happen_before_input_partitions_resume() -> None:
    recorder = _Recorder()
    recovery: Any = OrderedRecovery.__new__(OrderedRecovery)
    recovery.__dict__["app"] = type(
        "App",
        (),
        {
            "flow_control": _FlowControl(recorder),
            "_fetcher": _Fetcher(),
            "conf": type("Conf", (), {"broker_request_timeout": 5})(),
        },
    )()
    recovery.__dict__["completed"] = asyncio.Event()
    recovery.__dict__["_is_changelog_tp"] = lambda tp: tp[0].endswith("changelog")

    async def wait(coroutine: Any, timeout: float) -> None:
        await coroutine

    recovery.__dict__["_wait"] = wait
    recovery.__dict__["log"] = type("Log", (), {"info": staticmethod(lambda *a: None)})()
    asyncio.run(recovery._seek_then_resume(_Consumer(recorder)))
    assert recorder.calls == [
        "seek",
        "flow_control.resume (clears queues)",
        "resume_flow",
        "resume_partitions:[('fraud.transactions.v1', 0)]",
    ]


def test_outputs_are_delivered_before_faust_flushes_and_commits() -> None:
    calls: list[str] = []

    class _Producer:
        async def flush(self) -> None:
            calls.append("faust flush")

    class _App:
        producer = _Producer()

    async def deliver_outputs() -> None:
        calls.append("outputs delivered")

    flush_before_commits(_App, deliver_outputs)
    asyncio.run(_App.producer.flush())  # what Consumer._commit_offsets awaits before a commit
    assert calls == ["outputs delivered", "faust flush"]


class _Queue:
    def __init__(self, full: bool) -> None:
        self._full = full

    def full(self) -> bool:
        return self._full


class _Delivering(DirectDelivery):
    """A consumer stand-in with the state `_handover_cannot_wait` reads."""

    def __init__(
        self, flow: bool = True, suspended: bool = False, buffered: int = 0, full: bool = False
    ) -> None:
        suspend = asyncio.Event()
        if suspended:
            suspend.set()
        self.suspend_flow = suspend
        buffer = type("Buffer", (), {"size": buffered, "max_messages": 100})()
        channel = type("Channel", (), {"queue": _Queue(full)})()
        self.app = type(
            "App",
            (),
            {
                "flow_control": _FlowControl(active=flow),
                "producer": type("Producer", (), {"buffer": buffer})(),
                "topics": type("Topics", (), {"_tp_index": {"tp": {channel}}})(),
            },
        )()


@pytest.mark.parametrize(
    ("consumer", "direct"),
    [
        (_Delivering(), True),
        (_Delivering(flow=False), False),  # a rebalance suspended flow control
        (_Delivering(suspended=True), False),  # the consumer's own suspend flag
        (_Delivering(buffered=100), False),  # Faust's producer buffer must ebb first
        (_Delivering(full=True), False),  # the stream's queue is full: the put would wait
    ],
)
def test_a_record_is_handed_over_directly_only_when_nothing_can_make_it_wait(
    consumer: _Delivering, direct: bool
) -> None:
    assert consumer._handover_cannot_wait("tp") is direct


class _Store:
    """Faust's RocksDB store as TableStore sees it: one real rocksdict database a partition."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.dbs: dict[int, Rdict] = {}
        self.persisted: dict[Any, int] = {}

    def _db_for_partition(self, partition: int) -> Rdict:
        if partition not in self.dbs:
            path = str(self.root / f"p{partition}")
            self.dbs[partition] = Rdict(path, options=Options(raw_mode=True))
        return self.dbs[partition]

    def set_persisted_offset(self, tp: Any, offset: int) -> None:
        self.persisted[(tp.topic, tp.partition)] = offset


class _Message:
    def __init__(self, partition: int, offset: int) -> None:
        self._partition, self._offset = partition, offset

    def partition(self) -> int:
        return self._partition

    def offset(self) -> int:
        return self._offset


class _Changelog:
    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None, bytes, int]] = []
        self.reports: list[Any] = []
        self.failures: list[Any] = []

    def send(
        self,
        topic: str,
        key: bytes | None,
        value: bytes,
        partition: int = -1,
        on_delivery: Any = None,
    ) -> None:
        self.sent.append((topic, key, value, partition))
        self.reports.append((on_delivery, partition))

    def deliver_all(self) -> None:
        for offset, (report, partition) in enumerate(self.reports):
            report(None, _Message(partition, 100 + offset))
        self.reports.clear()

    def failed(self, error: Any) -> None:
        self.failures.append(error)


def test_table_store_writes_the_partition_store_and_its_changelog_partition(
    tmp_path: Path,
) -> None:
    store = _Store(tmp_path)
    table = type("Table", (), {"data": store, "changelog_topic_name": "app-cards-changelog"})()
    changelog = _Changelog()
    tables = TableStore(table, changelog)  # type: ignore[arg-type]

    tables.set(2, b"card-1", b"state-a")
    tables.set(3, b"card-1", b"state-b")  # another partition's store: no clash
    assert tables.get(2, b"card-1") == b"state-a"  # read back before it reaches RocksDB
    assert store._db_for_partition(2).get(b"card-1") is None
    tables.write_pending(at_least=3)  # only two held: stays in memory
    assert store._db_for_partition(2).get(b"card-1") is None
    tables.write_pending()
    assert store._db_for_partition(2).get(b"card-1") == b"state-a"
    assert store._db_for_partition(3).get(b"card-1") == b"state-b"
    assert tables.get(3, b"card-1") == b"state-b"
    assert tables.get(1, b"card-1") is None
    assert changelog.sent == [
        ("app-cards-changelog", b"card-1", b"state-a", 2),
        ("app-cards-changelog", b"card-1", b"state-b", 3),
    ]
    # Persisted offsets only for what was delivered, and only when asked (at commit), after
    # the local store holds it.
    tables.persist_delivered_offsets()
    assert store.persisted == {}
    tables.set(2, b"card-2", b"state-c")
    changelog.deliver_all()
    assert store.persisted == {}
    tables.persist_delivered_offsets()
    assert store.persisted == {("app-cards-changelog", 2): 102, ("app-cards-changelog", 3): 101}
    assert store._db_for_partition(2).get(b"card-2") == b"state-c"


def test_a_failed_changelog_delivery_fails_the_producer(tmp_path: Path) -> None:
    table = type("Table", (), {"data": _Store(tmp_path), "changelog_topic_name": "t"})()
    changelog = _Changelog()
    tables = TableStore(table, changelog)  # type: ignore[arg-type]
    stored: list[str] = []
    tables.set(0, b"k", b"v", on_stored=lambda: stored.append("k"))
    report, _ = changelog.reports[0]
    report("broker down", _Message(0, 5))
    assert changelog.failures == ["broker down"]
    assert stored == []  # its decisions must never be released
    tables.persist_delivered_offsets()
    assert table.data.persisted == {}


def test_a_write_is_stored_once_its_changelog_record_is_delivered(tmp_path: Path) -> None:
    table = type("Table", (), {"data": _Store(tmp_path), "changelog_topic_name": "t"})()
    changelog = _Changelog()
    tables = TableStore(table, changelog)  # type: ignore[arg-type]
    stored: list[bytes] = []
    tables.set(0, b"a", b"1", on_stored=lambda: stored.append(b"a"))
    tables.set(1, b"b", b"2", on_stored=lambda: stored.append(b"b"))
    assert stored == []  # sent, not delivered
    changelog.deliver_all()
    assert stored == [b"a", b"b"]
    tables.persist_delivered_offsets()  # the offsets are still recorded beside
    assert table.data.persisted == {("t", 0): 100, ("t", 1): 101}


def test_fetches_wait_briefly_while_records_flow_and_long_when_idle() -> None:
    thread: Any = PromptFetchConsumerThread.__new__(PromptFetchConsumerThread)
    responses: list[bool] = [True, False]

    class Fetcher:
        _fetch_max_wait_ms = 100
        _fetcher_timeout = 0.2
        _prefetch_backoff = 0.1

        async def _proc_fetch_request(self, *request: Any) -> bool:
            return responses.pop(0)

    fetcher = Fetcher()
    thread._tune(fetcher)
    assert fetcher._prefetch_backoff == 0.0  # a buffered partition never blocks the others
    # The response that brings records switches to short polls before the next request.
    assert asyncio.run(fetcher._proc_fetch_request("assignment", 1, "request")) is True
    assert (fetcher._fetch_max_wait_ms, fetcher._fetcher_timeout) == (5, 0.005)
    thread._last_records_at = 10.0
    thread._apply(fetcher, 10.5)  # records came half a second ago: still flowing
    assert fetcher._fetch_max_wait_ms == 5
    thread._apply(fetcher, 11.5)  # quiet for longer than quiet_after_s
    assert (fetcher._fetch_max_wait_ms, fetcher._fetcher_timeout) == (100, 0.1)


def test_a_minimum_of_bytes_applies_only_while_records_flow_outside_recovery() -> None:
    thread: Any = PromptFetchConsumerThread.__new__(PromptFetchConsumerThread)
    thread.fetch_flow_min_bytes = 4096
    fetcher: Any = type("Fetcher", (), {"_fetch_min_bytes": 1})()
    thread._prompt_until = 5.0  # an assignment's recovery window
    thread._last_records_at = 4.5
    thread._apply(fetcher, 4.6)  # flowing, but recovering: recovery's reads answer at once
    assert (fetcher._fetch_max_wait_ms, fetcher._fetch_min_bytes) == (5, 1)
    thread._apply(fetcher, 5.1)  # flowing, recovered: gather records per fetch
    assert (fetcher._fetch_max_wait_ms, fetcher._fetch_min_bytes) == (5, 4096)
    thread._apply(fetcher, 7.0)  # quiet: the first record after it must not wait for more
    assert (fetcher._fetch_max_wait_ms, fetcher._fetch_min_bytes) == (100, 1)
    thread._last_records_at = 7.2
    thread._apply(fetcher, 7.3)
    assert fetcher._fetch_min_bytes == 4096


def test_the_flowing_minimum_of_bytes_is_a_setting(tmp_path: Path) -> None:
    create_app(Settings(data_dir=tmp_path, fetch_flow_min_bytes=2048))
    assert PromptFetchConsumerThread.fetch_flow_min_bytes == 2048
    create_app(Settings(data_dir=tmp_path))
    assert PromptFetchConsumerThread.fetch_flow_min_bytes == 1  # answers at the first record


def test_fetcher_is_tuned_when_the_consumer_starts(monkeypatch: Any) -> None:
    # Records keep the prefetch backoff they were fetched under: tuned only at the first drain,
    # recovery's records held the first input fetch of a takeover for up to 100 ms.
    from aiokafka.consumer.fetcher import Fetcher
    from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

    fetcher: Any = Fetcher.__new__(Fetcher)
    fetcher._prefetch_backoff = 0.1

    async def upstream_start(self: Any) -> None:
        self._consumer = type("Consumer", (), {"_fetcher": fetcher})()

    monkeypatch.setattr(AIOKafkaConsumerThread, "on_start", upstream_start)
    thread: Any = PromptFetchConsumerThread.__new__(PromptFetchConsumerThread)
    asyncio.run(thread.on_start())
    assert fetcher._prefetch_backoff == 0.0
    assert "processed" in fetcher._proc_fetch_request.__qualname__  # the flow watch is in


def test_fetches_wait_briefly_while_an_assignment_recovers(monkeypatch: Any) -> None:
    # Recovery's end-offset requests share the fetch's connection: an idle long-poll
    # would hold each of them (stream.engine.prompt_fetch).
    from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

    thread: Any = PromptFetchConsumerThread.__new__(PromptFetchConsumerThread)

    class Fetcher:
        _fetch_max_wait_ms = 100
        _fetcher_timeout = 0.2

    fetcher = Fetcher()
    thread._ensure_consumer = lambda: type("Consumer", (), {"_fetcher": fetcher})()
    assigned: list[object] = []

    async def upstream(self: Any, tps: Any, generation_id: int = 0) -> None:
        assigned.append(tps)

    monkeypatch.setattr(AIOKafkaConsumerThread, "on_partitions_assigned", upstream)
    monkeypatch.setattr(
        AIOKafkaConsumerThread, "_create_worker_consumer", lambda self, transport: Fetcher()
    )
    now = 1000.0
    monkeypatch.setattr("stream.engine.prompt_fetch.time.monotonic", lambda: now)
    # A new consumer's first fetches, sent before any assignment callback, are short too.
    assert thread._create_worker_consumer("transport")._fetch_max_wait_ms == 5
    assert thread._prompt_until == now + thread.recovery_window_s
    now += 60.0
    asyncio.run(thread.on_partitions_assigned({"tp"}, 3))
    assert assigned == [{"tp"}]
    assert (fetcher._fetch_max_wait_ms, fetcher._fetcher_timeout) == (5, 0.005)
    thread._apply(fetcher, now + thread.recovery_window_s - 0.1)  # no records yet: still short
    assert fetcher._fetch_max_wait_ms == 5
    thread._apply(fetcher, now + thread.recovery_window_s + 0.1)  # recovered and idle
    assert fetcher._fetch_max_wait_ms == 100


def _fetcher_holding(*tps: Any) -> Any:
    """aiokafka's own Fetcher, holding one fetched record per partition of `tps`."""
    from aiokafka.consumer.fetcher import Fetcher, FetchResult

    class State:
        paused = False
        position = 0

        def consumed_to(self, offset: int) -> None:
            self.position = offset

    class Assignment:
        active = True

        def __init__(self) -> None:
            self.states = {tp: State() for tp in tps}

        def state_value(self, tp: Any) -> State:
            return self.states[tp]

    class Records:
        def __init__(self, tp: Any) -> None:
            self.left = [f"{tp.topic}-{tp.partition}@0"]
            self.next_fetch_offset = 0

        def __iter__(self) -> Any:
            return self

        def __next__(self) -> str:
            if not self.left:
                raise StopIteration
            self.next_fetch_offset += 1
            return self.left.pop()

    class Subscriptions:
        reassignment_in_progress = False

        def is_assigned(self, tp: Any) -> bool:
            return True

    fetcher: Any = Fetcher.__new__(Fetcher)
    fetcher._subscriptions = Subscriptions()
    fetcher._wait_consume_future = None
    fetcher._closed = False
    fetcher.assignment = Assignment()
    fetcher._records = {
        tp: FetchResult(tp, assignment=fetcher.assignment, partition_records=Records(tp), backoff=0)
        for tp in tps
    }
    return fetcher


def test_no_record_is_taken_from_aiokafka_while_no_partition_is_active() -> None:
    from aiokafka.structs import TopicPartition
    from faust.types import TP

    changelog, inputs = TopicPartition("changelog", 0), TopicPartition("input", 0)
    fetcher = _fetcher_holding(changelog, inputs)

    class Client:
        _closed = False
        _fetcher = fetcher

    class FaustConsumer:
        flow_active = True

    thread: Any = PromptFetchConsumerThread.__new__(PromptFetchConsumerThread)
    thread.drain_only_active = True  # what install_consumer sets unless asked for no fixes
    thread.consumer = FaustConsumer()
    fetcher._subscriptions.fetch_context = contextlib.nullcontext
    active: set[Any] = set()  # end of recovery: changelogs paused again, inputs not resumed

    taken = asyncio.run(thread._fetch_records(Client(), active, timeout=0))
    # aiokafka reads an empty set as "all": it would hand both over and move both positions,
    # and Faust drops records of partitions not active.
    assert taken == {}
    assert fetcher.assignment.states[inputs].position == 0
    active.add(TP("input", 0))  # Faust resumes the input partition
    taken = asyncio.run(thread._fetch_records(Client(), active, timeout=0))
    assert taken == {inputs: ["input-0@0"]}
    assert fetcher.assignment.states[inputs].position == 1
    assert changelog in fetcher._records  # still held for when it is active


def test_unfixed_consumer_thread_keeps_the_upstream_reading() -> None:
    from aiokafka.structs import TopicPartition

    fetcher = _fetcher_holding(TopicPartition("input", 0))
    thread: Any = PromptFetchConsumerThread.__new__(PromptFetchConsumerThread)
    thread.drain_only_active = False

    class Client:
        _closed = False
        _fetcher = fetcher

    class FaustConsumer:
        flow_active = True

    thread.consumer = FaustConsumer()
    fetcher._subscriptions.fetch_context = contextlib.nullcontext
    taken = asyncio.run(thread._fetch_records(Client(), set(), timeout=0))
    assert list(taken) == [("input", 0)]  # upstream: an empty set means every partition


def _cards_table(tmp_path: Path) -> tuple[Any, Any, Any]:
    """The worker's app with a raw bytes table: (app, table, its store)."""
    app: Any = create_app(Settings(data_dir=tmp_path))
    table = app.Table("cards", partitions=4, key_type=bytes, value_type=bytes)
    return app, table, table.data


def test_table_stores_close_on_revoke_and_after_the_final_commit_without_a_collection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from faust.types import TP

    from stream.engine.prompt_restart import PromptRocksDBStore

    app, table, store = _cards_table(tmp_path)
    assert isinstance(store, PromptRocksDBStore)
    collections: list[int] = []
    monkeypatch.setattr("gc.collect", lambda *a: collections.append(1) or 0)

    def locked(partition: int) -> bool:
        try:
            Rdict(str(store.partition_path(partition)), Options(raw_mode=True)).close()
        except Exception as exc:  # RocksDB's "lock hold by current process"
            assert "lock" in str(exc).lower(), exc
            return True
        return False

    for partition in (1, 2, 3):
        store._db_for_partition(partition).put(b"k", b"v")
    assert locked(1) and locked(2) and locked(3)
    changelog = table.changelog_topic.get_topic_name()
    store.revoke_partitions(table, {TP(changelog, 1), TP("another-topic", 2)})
    assert not locked(1) and locked(2)  # closed at once, not when a collection gets to it
    asyncio.run(store.stop())
    # Still open for the final commit's offsets (reopening each cost a handover ~6-10 ms).
    assert locked(2) and locked(3)
    opened: list[int] = []
    open_for_partition = store._open_for_partition
    monkeypatch.setattr(
        store, "_open_for_partition", lambda p: opened.append(p) or open_for_partition(p)
    )
    store.set_persisted_offset(TP(changelog, 2), 41)
    assert opened == []
    close_local_stores(app)  # after that commit, before the data-dir lock goes
    assert not locked(2) and not locked(3)
    assert collections == []  # Faust's store ran a full collection on each
    assert bytes(store._db_for_partition(2).get(b"k")) == b"v"  # reopens as before
    assert store.persisted_offset(TP(changelog, 2)) == 41


def test_table_stores_open_with_one_file_thread_and_read_what_faust_wrote(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from faust.stores.rocksdb import RocksDBOptions

    from stream.engine.prompt_restart import QuickOpenOptions

    _, _, store = _cards_table(tmp_path)
    options = store.rocksdb_options
    assert isinstance(options, QuickOpenOptions)
    # Faust's sizes carried over (write buffers, cache, bloom filter...).
    assert vars(options) == vars(RocksDBOptions(use_rocksdict=True))
    # A store written with Faust's own opening reads back the same through the quick one.
    path = store.partition_path(2)
    written = RocksDBOptions(use_rocksdict=True).open(path)
    written.put(b"card", b"state")
    written.close()
    settings: list[str] = []
    for name in ("set_max_file_opening_threads", "set_skip_stats_update_on_db_open"):
        monkeypatch.setattr(
            f"rocksdict.Options.{name}",
            lambda self, value, name=name: settings.append(f"{name}={value}"),
            raising=False,
        )
    assert bytes(store._db_for_partition(2).get(b"card")) == b"state"
    # Faust's open builds the options twice (one copy for its DB paths): both get them.
    assert set(settings) == {
        "set_max_file_opening_threads=1",
        "set_skip_stats_update_on_db_open=True",
    }


def test_topics_the_cluster_has_are_not_declared_again(tmp_path: Path) -> None:
    from stream.engine.known_topics import SkipKnownTopics

    class Declaring:
        def __init__(self) -> None:
            self.declared: list[str] = []

        async def create_topic(self, topic: str, *args: Any, **kwargs: Any) -> None:
            self.declared.append(topic)

    class Producer(SkipKnownTopics, Declaring):
        known_topics = frozenset({"app-card-state-changelog"})

    producer = Producer()
    asyncio.run(producer.create_topic("app-card-state-changelog", 4, 1))
    asyncio.run(producer.create_topic("app-__assignor-__leader", 1, 1))
    assert producer.declared == ["app-__assignor-__leader"]  # unknown: declared as before

    app: Any = create_app(Settings(data_dir=tmp_path), known_topics=frozenset({"x"}))
    assert issubclass(app.transport.Producer, SkipKnownTopics)
    assert app.transport.Producer.known_topics == {"x"}
    assert isinstance(app.producer, SkipKnownTopics)
    assert create_app(Settings(data_dir=tmp_path)).transport.Producer.known_topics == set()


class _RecoveryConsumer:
    """What recovery asks of the consumer, recorded in order."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self._buffered_partitions: set[Any] = set()

    async def earliest_offsets(self, *tps: Any) -> dict[Any, int]:
        self.calls.append(f"earliest:{sorted(tp.partition for tp in tps)}")
        return dict.fromkeys(tps, 0)

    async def seek_wait(self, offsets: Any) -> None:
        self.calls.append(f"seek:{sorted((tp.partition, o) for tp, o in offsets.items())}")

    async def highwaters(self, *tps: Any) -> dict[Any, int]:
        self.calls.append(f"highwaters:{sorted(tp.partition for tp in tps)}")
        return dict.fromkeys(tps, 10)

    def resume_partitions(self, tps: Any) -> None:
        self.calls.append(f"resume:{sorted(tp.partition for tp in tps)}")


def test_standbys_start_once_the_inputs_fetch_and_a_rebalance_drops_a_pending_start(
    tmp_path: Path,
) -> None:
    from faust.assignor.client_assignment import ClientAssignment
    from faust.types import TP

    app, table, store = _cards_table(tmp_path)
    changelog = table.changelog_topic.get_topic_name()
    recovery = app.tables.recovery
    recovery.standby_start_delay_s = 0.05
    consumer = _RecoveryConsumer()
    app.consumer = consumer
    store._db_for_partition(1).put(b"k", b"v")
    store.set_persisted_offset(TP(changelog, 1), 6)
    store._close_all([1])
    app.tables._changelogs[changelog] = table

    async def rebalance(generation: int, standby: int) -> None:
        app.consumer_generation_id = generation
        app.assignor._assignment = ClientAssignment(
            actives={changelog: [0]}, standbys={changelog: [standby]}
        )
        assigned = {TP(changelog, 0), TP(changelog, standby)}
        await recovery.on_rebalance(assigned, set(), assigned, generation)

    async def scenario() -> None:
        # Held back earlier for a full changelog queue: Faust would re-activate it at the
        # queue's next read, and its records would reach recovery while set aside.
        consumer._buffered_partitions = {TP(changelog, 1)}
        await rebalance(1, standby=1)
        assert consumer._buffered_partitions == set()
        # Recovery (upstream's loop) sees the actives alone: nothing of the standby's is
        # asked, opened or resumed before the inputs are.
        assert recovery.active_tps == {TP(changelog, 0)} and not recovery.standby_tps
        assert 1 not in store._dbs
        recovery.start_standbys_later(1)  # after the inputs' seek and resume
        await asyncio.sleep(0.2)
        assert recovery.standby_tps == {TP(changelog, 1)}
        assert recovery.standby_offsets[TP(changelog, 1)] == 6  # read from its store
        assert consumer.calls == [
            "earliest:[1]",
            "seek:[(1, 6)]",
            "highwaters:[1]",
            "resume:[1]",
        ]
        consumer.calls.clear()
        await rebalance(2, standby=2)
        recovery.start_standbys_later(2)
        await rebalance(3, standby=3)  # before generation 2's standbys started
        await asyncio.sleep(0.2)
        assert consumer.calls == [] and not recovery.standby_tps

    asyncio.run(scenario())


def test_the_old_process_closes_its_standby_stores_after_the_active_ones(tmp_path: Path) -> None:
    from faust.assignor.client_assignment import ClientAssignment

    app, table, store = _cards_table(tmp_path)
    changelog = table.changelog_topic.get_topic_name()
    app.assignor._assignment = ClientAssignment(actives={changelog: [0]}, standbys={changelog: [1]})
    for partition in (0, 1):
        store._db_for_partition(partition).put(b"k", b"v")
    close_local_stores(app, standbys_too=False)  # before the data-dir lock goes
    assert set(store._dbs) == {1}
    close_local_stores(app)  # after it
    assert store._dbs == {}


def test_a_stopping_worker_lets_go_once_its_consumer_closed_and_its_web_stopped() -> None:
    calls: list[str] = []

    class Web:
        async def stop(self) -> None:
            calls.append("web stopped")  # the successor binds the same port

    class App:
        conf = type("Conf", (), {"web_enabled": True})()
        web = Web()

    class Upstream:
        async def on_shutdown(self) -> None:
            calls.append("consumer closed (final commit made)")

    class Consumer(ReleaseAfterCommit, Upstream):
        app = App()

    consumer = Consumer()
    asyncio.run(consumer.on_shutdown())
    assert calls == ["consumer closed (final commit made)"]  # no callback: nothing else done
    calls.clear()
    after_final_commit(consumer.app, lambda: calls.append("stores closed, lock released"))
    asyncio.run(consumer.on_shutdown())
    assert calls == [
        "consumer closed (final commit made)",
        "web stopped",
        "stores closed, lock released",
    ]


def test_a_successor_starts_its_clients_before_the_gate_and_joins_after(tmp_path: Path) -> None:
    from stream.engine.takeover_gate import TakeoverGate, start_before_the_gate

    app: Any = create_app(Settings(data_dir=tmp_path))
    cold_start = list(app.boot_strategy.server())
    assert not any(isinstance(s, TakeoverGate) for s in cold_start)  # Faust's own order

    async def wait() -> None:
        return None

    start_before_the_gate(app, wait)
    order = list(app.boot_strategy.server())
    gate = next(i for i, s in enumerate(order) if isinstance(s, TakeoverGate))
    before = order[:gate]
    after = order[gate + 1 :]
    assert app.producer in before and app.consumer in before and app.agents in before
    # The port, the group (same static member id) and the stores wait for the old process.
    assert app.web in after and app.topics in after and app.tables in after
    assert sorted(map(id, before + after)) == sorted(map(id, cold_start))


def test_the_gate_opens_when_the_wait_ends_or_the_worker_stops() -> None:
    from stream.engine.takeover_gate import TakeoverGate

    async def scenario() -> list[str]:
        seen: list[str] = []
        released = asyncio.Event()

        async def wait_for_release() -> None:
            await released.wait()
            seen.append("lock taken")

        gate = TakeoverGate(wait_for_release)
        starting = asyncio.ensure_future(gate.on_start())
        await asyncio.sleep(0.05)
        assert not starting.done()  # nothing after the gate starts meanwhile
        released.set()
        await asyncio.wait_for(starting, 5)
        stopped_gate = TakeoverGate(asyncio.Event().wait)  # a lock never let go
        starting = asyncio.ensure_future(stopped_gate.on_start())
        await asyncio.sleep(0.05)
        await stopped_gate.stop()  # SIGTERM while it waits
        await asyncio.wait_for(starting, 5)
        seen.append("stopped while waiting")
        return seen

    assert asyncio.run(scenario()) == ["lock taken", "stopped while waiting"]
