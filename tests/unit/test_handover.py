"""One process per worker data dir; a second one waits, warm, and says so."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from stream.decision_path.handover import DataDirLock, waiting_pid
from tests.support.data_dir import data_dir_held

# A second process: takes the data dir (waiting for it if held), then prints and exits.
TAKE_OVER = (
    "import sys; from pathlib import Path; "
    "from tests.support.data_dir import data_dir_held\n"
    "with data_dir_held(Path(sys.argv[1])): print('took over', flush=True)"
)


def test_a_second_process_waits_warm_until_the_first_lets_go(tmp_path: Path) -> None:
    with data_dir_held(tmp_path):
        assert waiting_pid(tmp_path) is None
        second = subprocess.Popen(
            [sys.executable, "-c", TAKE_OVER, str(tmp_path)], stdout=subprocess.PIPE, text=True
        )
        deadline = time.monotonic() + 30
        while waiting_pid(tmp_path) != second.pid:
            assert time.monotonic() < deadline, "the second process never said it waits"
            assert second.poll() is None, "the second process did not wait"
            time.sleep(0.02)
    out, _ = second.communicate(timeout=30)
    assert out.strip() == "took over"
    assert waiting_pid(tmp_path) is None


def test_the_lock_is_free_again_once_held_and_released(tmp_path: Path) -> None:
    with data_dir_held(tmp_path):
        pass
    with data_dir_held(tmp_path):
        assert (tmp_path / "worker.lock").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["worker.lock"]


def test_a_successor_prepares_only_when_it_must_wait_and_before_it_says_so(
    tmp_path: Path,
) -> None:
    uncontended: list[str] = []
    seen: list[object] = []

    def successor() -> None:
        with data_dir_held(tmp_path, prepare=lambda: seen.append(waiting_pid(tmp_path))):
            seen.append("took over")

    with data_dir_held(tmp_path, prepare=lambda: uncontended.append("prepared")):
        thread = threading.Thread(target=successor)
        thread.start()
        deadline = time.monotonic() + 30
        while waiting_pid(tmp_path) is None:
            assert time.monotonic() < deadline, "the successor never said it waits"
            time.sleep(0.01)
        assert seen == [None]  # prepared, before the waiting file named it
    thread.join(30)
    assert seen == [None, "took over"]
    assert uncontended == []  # nothing to wait for: nothing prepared ahead


def test_a_stopped_worker_gives_its_cpu_to_the_successor() -> None:
    # Called once the data-dir lock is released (stream.decision_path.worker.run_worker).
    probe = (
        "import os; from stream.decision_path.worker import _yield_cpu_to_a_successor as y; "
        "before = os.nice(0); y(); print(before, os.nice(0))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    before, after = map(int, done.stdout.split())
    assert after == 19 and before < 19


def test_a_successor_waits_for_the_lock_without_blocking_its_event_loop(tmp_path: Path) -> None:
    old, new = DataDirLock(tmp_path), DataDirLock(tmp_path)
    assert old.take_now() and not new.take_now()

    async def scenario() -> list[str]:
        seen: list[str] = []

        async def take_over() -> None:
            await new.take_when_free_async()
            seen.append("taken")

        waiting = asyncio.ensure_future(take_over())
        for _ in range(20):  # the loop keeps turning while the lock is held elsewhere
            await asyncio.sleep(0.01)
        seen.append(f"waiting pid {waiting_pid(tmp_path)}")
        old.release()  # the old process's final commit is made
        await asyncio.wait_for(waiting, 10)
        return seen

    assert asyncio.run(scenario()) == [f"waiting pid {os.getpid()}", "taken"]
    assert waiting_pid(tmp_path) is None
    assert not old.take_now()  # the successor holds it now
    new.close()
    assert old.take_now()
    old.close()


def test_a_successor_that_cannot_say_it_waits_fails_instead_of_hanging(tmp_path: Path) -> None:
    old, new = DataDirLock(tmp_path), DataDirLock(tmp_path)
    assert old.take_now() and not new.take_now()
    (tmp_path / "worker.waiting").mkdir()  # the waiting file cannot be written

    async def take_over() -> None:
        await asyncio.wait_for(new.take_when_free_async(), 10)

    with pytest.raises(OSError):  # not a wait for ever, nor a lock it never got
        asyncio.run(take_over())
    new.close()
    old.close()
