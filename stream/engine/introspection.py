"""The engine's own view of the worker, read from Faust internals (pinned in this package)."""

from __future__ import annotations

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
    rows = []
    for tp in consumer.assignment():
        if tp.topic != topic:
            continue
        read = consumer._read_offset.get(tp)
        rows.append(
            (
                tp,
                consumer._committed_offset.get(tp),
                None if read is None else read + 1,
                consumer.highwater(tp),
            )
        )
    return rows


def active_partitions(app: Any, topic: str) -> set[int]:
    """Partitions of `topic` this worker processes now."""
    return {tp.partition for tp in app.consumer.assignment() if tp.topic == topic}
