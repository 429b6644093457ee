"""A warm successor boots at nice 19 beside the process it replaces and takes its own
priority back at takeover (stream.decision_path.successor_boot)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from stream.decision_path.handover import data_dir_held, held_elsewhere

# A process of its own session (as chaos and service managers start workers), so what it does
# to its autogroup stays with it: reports its priorities before, while booting and after.
BOOT = """
import json, os, sys
from pathlib import Path
from stream.decision_path import successor_boot as boot

def seen():
    return {"thread": os.getpriority(os.PRIO_PROCESS, 0), "group": boot.autogroup_nice()}

before = seen()
lowered = boot.boot_quietly_if_successor(Path(sys.argv[1]), 19)
booting = seen()
boot.take_own_priority_back()
print(json.dumps({"lowered": lowered, "before": before, "booting": booting, "after": seen()}))
"""


def _boot(data_dir: Path) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", BOOT, str(data_dir)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        start_new_session=True,
    )
    return dict(json.loads(done.stdout))


def test_held_elsewhere_sees_only_another_holder(tmp_path: Path) -> None:
    assert not held_elsewhere(tmp_path)  # no lock file yet
    with data_dir_held(tmp_path):
        assert held_elsewhere(tmp_path)  # flock: another open file description
    assert not held_elsewhere(tmp_path)
    with data_dir_held(tmp_path):  # the probe left the lock free to take
        pass


def test_a_successor_boots_lowered_and_takes_its_priority_back(tmp_path: Path) -> None:
    with data_dir_held(tmp_path):
        seen = _boot(tmp_path)
    before, booting, after = seen["before"], seen["booting"], seen["after"]
    assert isinstance(before, dict) and isinstance(booting, dict)
    assert seen["lowered"] is True, seen
    # Lowered wherever it could come back: the session's autogroup (if the kernel has them),
    # the threads' own nice (if privileged); at least one of the two.
    lowered = [key for key in ("thread", "group") if booting[key] != before[key]]
    assert lowered, seen
    assert all(booting[key] == 19 for key in lowered), seen
    assert after == before, seen


def test_a_first_process_boots_at_its_own_priority(tmp_path: Path) -> None:
    seen = _boot(tmp_path)  # nobody holds the data dir
    assert seen["lowered"] is False
    assert seen["booting"] == seen["before"] == seen["after"]


def test_a_refused_autogroup_return_is_retried_beside_the_takeover(monkeypatch: Any) -> None:
    # Unprivileged, the kernel takes one autogroup change per 100 ms machine-wide: the old
    # process lowering its own at the same moment makes the first attempt fail (EAGAIN).
    from stream.decision_path import successor_boot as boot

    writes: list[tuple[str, str]] = []
    done = threading.Event()

    class Autogroup:
        def write_text(self, text: str) -> None:
            writes.append((threading.current_thread().name, text))
            if len(writes) == 1:
                raise BlockingIOError("try again")
            done.set()

    monkeypatch.setattr(boot, "AUTOGROUP", Autogroup())
    monkeypatch.setattr(boot, "_lowered", boot._Lowered(thread_nice=None, autogroup_nice=0))
    boot.take_own_priority_back()
    main = threading.current_thread().name
    assert writes[0] == (main, "0")  # tried at once, on the takeover's own thread
    assert done.wait(5), "never retried"
    assert writes[-1][1] == "0" and writes[-1][0] != main  # retried on another thread
