"""One process per worker data directory, and a warm handover from the old one to the new.

A worker holds an exclusive lock on its data directory from before Faust starts until its final
commit is made and its stores are closed (stream.engine.release_after_commit), or until it
exits (the kernel drops it on any exit, SIGKILL included). A second process for the same worker
(a restart started before the old one stopped) loads its model, warms up and then waits on
the lock: the moment the old process lets go, it starts consuming. A restart then costs the
old process's shutdown and the new one's join and local recovery, not its imports and model
load (seconds on these machines). What else can be done before the partitions come is done
before it says it waits (`prepare`: the merchant view's read of the partials' changelog and
the one full garbage collection), so none of it competes with the join and recovery for the
interpreter while the partitions are paused. Two workers wrongly given one data directory
wait instead of fighting over RocksDB's locks.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)

LOCK_FILE = "worker.lock"
WAITING_FILE = "worker.waiting"  # holds the pid of a process warm and waiting for the lock


@contextmanager
def data_dir_held(
    data_dir: Path,
    prepare: Callable[[], None] | None = None,
    on_takeover: Callable[[], None] | None = None,
) -> Iterator[Callable[[], None]]:
    """Hold the data dir's lock for the body; if another process holds it, run `prepare`,
    then say so (WAITING_FILE), wait for it to let go and run `on_takeover`. The body gets a
    function that lets go early (once nothing more is written to the dir's stores)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    waiting = data_dir / WAITING_FILE
    with (data_dir / LOCK_FILE).open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if prepare is not None:
                prepare()
            log.info("warm; waiting for the previous process of this worker to let go")
            waiting.write_text(str(os.getpid()))
            fcntl.flock(lock, fcntl.LOCK_EX)
            waiting.unlink(missing_ok=True)
            if on_takeover is not None:
                on_takeover()
            log.info("the previous process let go; starting")

        def release() -> None:
            fcntl.flock(lock, fcntl.LOCK_UN)

        yield release


def held_elsewhere(data_dir: Path) -> bool:
    """Whether another process holds the data dir's lock now (this one does not take it)."""
    lock_path = data_dir / LOCK_FILE
    if not lock_path.exists():
        return False
    with lock_path.open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(lock, fcntl.LOCK_UN)
        return False


def waiting_pid(data_dir: Path) -> int | None:
    """The pid of a process warm and waiting to take over this data dir, if any."""
    try:
        return int((data_dir / WAITING_FILE).read_text())
    except (OSError, ValueError):
        return None
