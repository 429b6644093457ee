"""Holding a worker's data dir in tests, the way `run_worker` does around Faust's start."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from stream.decision_path.handover import DataDirLock


@contextmanager
def data_dir_held(
    data_dir: Path,
    prepare: Callable[[], None] | None = None,
    on_takeover: Callable[[], None] | None = None,
) -> Iterator[None]:
    """Hold the data dir's lock for the body; if another process holds it, run `prepare`,
    then say so (the waiting file), wait for it to let go and run `on_takeover`: the order of
    `stream.decision_path.worker.run_worker`, without its event loop."""
    lock = DataDirLock(data_dir)
    try:
        if not lock.take_now():
            if prepare is not None:
                prepare()
            lock.take_when_free()
            if on_takeover is not None:
                on_takeover()
        yield
    finally:
        lock.close()
