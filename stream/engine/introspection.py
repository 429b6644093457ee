"""The engine's own view of the worker, read from Faust internals (pinned in this package)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def consumer_state(app: Any) -> dict[str, Any]:
    """Per assigned partition: fetching, read, committed, what the delivery guard expects.

    What one needs when a partition stops moving (served at /consumer).
    """
    consumer = app.consumer
    active = consumer._get_active_partitions()
    guard = getattr(consumer, "guard", None)
    partitions = []
    for tp in sorted(consumer.assignment()):
        partitions.append(
            {
                "topic": tp.topic,
                "partition": tp.partition,
                "fetching": tp in active,
                "paused": tp in consumer._paused_partitions,
                "read_offset": consumer._read_offset.get(tp),
                "committed": consumer._committed_offset.get(tp),
                "highwater": consumer.highwater(tp),
                "guard_expects": guard.expected(tp) if guard is not None else None,
                **_client_state(consumer, tp),
            }
        )
    fetcher = app._fetcher
    return {
        "generation": app.consumer_generation_id,
        "flow_active": consumer.flow_active,
        "flow_control_active": app.flow_control.is_active(),
        "recovery_completed": app.tables.recovery.completed.is_set(),
        "fetcher": {"state": fetcher.state, "crashed": fetcher.crashed},
        "partitions": partitions,
    }


def _client_state(consumer: Any, tp: Any) -> dict[str, Any]:
    """aiokafka's own view of the partition: its fetch position and pause, and records fetched
    but not handed over yet (what tells a partition never fetched from one fetched and dropped)."""
    try:
        client = consumer._thread._ensure_consumer()
        state = client._subscription.subscription.assignment.state_value(tp)
        fetched = client._fetcher._records.get(tp)
    except Exception:  # diagnostics only: never fail the view
        return {}
    if state is None:
        return {"client": None}
    return {
        "client": {
            "position": state._position,
            "awaiting_reset": state.awaiting_reset,
            "paused": state.paused,
            "fetched_not_taken": fetched is not None,
        }
    }


def fetcher_crash(app: Any) -> BaseException | None:
    """Why Faust's fetcher crashed, or None while it runs.

    Faust keeps the worker alive when its fetcher crashes (seen with a compression codec the
    consumer could not read): alive but consuming nothing.
    """
    fetcher = app._fetcher
    return fetcher.crash_reason if fetcher.crashed else None


def recovery_completed(app: Any) -> bool:
    return bool(app.tables.recovery.completed.is_set())


def read_progress(app: Any, topic: str) -> list[tuple[Any, int | None, int | None, int | None]]:
    """(tp, committed offset, next offset to read, high-water mark) of each assigned partition."""
    consumer = app.consumer
    idle_since_seek: set[Any] = getattr(consumer, "idle_since_seek", set())
    rows = []
    for tp in consumer.assignment():
        if tp.topic != topic:
            continue
        rows.append(
            (
                tp,
                consumer._committed_offset.get(tp),
                next_offset_to_read(consumer._read_offset.get(tp), tp in idle_since_seek),
                consumer.highwater(tp),
            )
        )
    return rows


def next_offset_to_read(read_offset: int | None, idle_since_seek: bool) -> int | None:
    """The offset the worker reads next, from Faust's `_read_offset` of a partition.

    Faust keeps there the offset of the last record delivered, except after a seek
    (`Consumer.perform_seek`, faust/transport/consumer.py ~565-580), where it stores the
    position sought, which is the next offset to read. Counting that as read made a partition
    idle since a seek look one record past its commit: a false stuck-commit warning.
    """
    if read_offset is None:
        return None
    return read_offset if idle_since_seek else read_offset + 1


def unprocessed_partitions(app: Any, topic: str) -> int:
    """Assigned partitions of `topic` not being fetched now (paused, recovering, not sought)."""
    consumer = app.consumer
    active = consumer._get_active_partitions()
    # A partition whose stream buffer is full is left out of fetches while it drains: busy.
    buffered = consumer._buffered_partitions
    return sum(
        1
        for tp in consumer.assignment()
        if tp.topic == topic and tp not in active and tp not in buffered
    )


def active_partitions(app: Any, topic: str) -> set[int]:
    """Partitions of `topic` this worker processes now."""
    return {tp.partition for tp in app.consumer.assignment() if tp.topic == topic}


def committed_offset(app: Any, topic: str) -> Callable[[int], int | None]:
    """partition → the offset this worker's consumer last committed or was positioned at for
    it (the next to read after a restart), None if not known: inputs below it are not read
    again."""
    from faust.types import TP

    def of(partition: int) -> int | None:
        offset = app.consumer._committed_offset.get(TP(topic, partition))
        return offset if isinstance(offset, int) and offset >= 0 else None

    return of
