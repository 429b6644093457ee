"""One process per worker data directory, and a warm handover from the old one to the new.

A worker holds an exclusive lock on its data directory from before Faust starts until its final
commit is made and its active partitions' stores are closed
(stream.engine.release_after_commit; its standby stores close after), or until it exits (the
kernel drops it on any exit, SIGKILL included). A second process for the same worker (a restart
started before the old one stopped) loads its model, warms up and then waits on the lock: the
moment the old process lets go, it starts consuming. A restart then costs the old process's
shutdown and the new one's join and local recovery, not its imports and model load (seconds on
these machines). What else can be done before the partitions come is done before it says it
waits (the worker's `prepare_handover`: the merchant view's read of the partials' changelog and
the one full garbage collection; `run_worker` holds this module's `DataDirLock`), so none of it
competes with the join and recovery for the interpreter while the partitions are paused. Two
workers wrongly given one data directory wait instead of fighting over RocksDB's locks.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import threading
from pathlib import Path

log = logging.getLogger(__name__)

LOCK_FILE = "worker.lock"
WAITING_FILE = "worker.waiting"  # holds the pid of a process warm and waiting for the lock


class DataDirLock:
    """The data dir's lock, taken at once or after another process lets go of it."""

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self._waiting = data_dir / WAITING_FILE
        self._file = (data_dir / LOCK_FILE).open("a")

    def take_now(self) -> bool:
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def take_when_free(self) -> None:
        """Say so (WAITING_FILE), then wait for the holder to let go."""
        log.info("warm; waiting for the previous process of this worker to let go")
        self._waiting.write_text(str(os.getpid()))
        fcntl.flock(self._file, fcntl.LOCK_EX)
        self._waiting.unlink(missing_ok=True)

    async def take_when_free_async(self) -> None:
        """`take_when_free` without blocking the event loop. A daemon thread waits on the
        lock: a process stopped while it waits exits without it."""
        loop = asyncio.get_running_loop()
        taken: asyncio.Future[None] = loop.create_future()

        def settle() -> None:
            if not taken.done():  # cancelled: the worker stopped while it waited
                taken.set_result(None)

        def fail(exc: BaseException) -> None:
            if not taken.done():
                taken.set_exception(exc)

        def wait() -> None:
            try:
                self.take_when_free()
            except OSError as exc:  # e.g. the waiting file unwritable: say so, do not hang
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(fail, exc)
                return
            with contextlib.suppress(RuntimeError):  # the loop closed: nobody waits any more
                loop.call_soon_threadsafe(settle)

        threading.Thread(target=wait, name="data-dir-lock", daemon=True).start()
        await taken

    def release(self) -> None:
        fcntl.flock(self._file, fcntl.LOCK_UN)

    def close(self) -> None:
        if waiting_pid(self._waiting.parent) == os.getpid():  # stopped while it waited
            self._waiting.unlink(missing_ok=True)
        self._file.close()  # releases it too


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
