"""A warm successor boots at nice 19 beside the process it replaces and takes its own
priority back at takeover (stream.decision_path.successor_boot)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from stream.decision_path.handover import held_elsewhere
from tests.support.data_dir import data_dir_held

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


ENVIRONMENTS: list[dict[str, str]] = [
    {},
    {"FRAUD_WORKER_ID": "worker-7"},
    {"FRAUD_VAR_DIR": "/srv/fraud", "FRAUD_APP_ID": "prod", "FRAUD_WORKER_ID": "w2"},
    {"fraud_app_id": "lower-case", "Fraud_Worker_Id": "mixed"},  # the settings ignore case
    {"FRAUD_DATA_DIR": "/data/w1", "FRAUD_WORKER_ID": "ignored-for-the-dir"},
    {"FRAUD_SUCCESSOR_BOOT_NICE": "0"},
    {"FRAUD_SUCCESSOR_BOOT_NICE": "7", "FRAUD_VAR_DIR": "relative/var"},
]


def test_the_early_boot_plan_is_what_the_settings_say(monkeypatch: Any) -> None:
    # The command line reads these before it can afford to import the settings: they must
    # agree, or a successor would probe another worker's lock.
    from stream.decision_path.successor_boot import boot_plan_from_env
    from stream.settings import Settings

    for environment in ENVIRONMENTS:
        for name in [key for key in os.environ if key.upper().startswith("FRAUD_")]:
            monkeypatch.delenv(name)
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        settings = Settings()
        plan = boot_plan_from_env(environment)
        assert plan is not None, environment
        assert plan.data_dir == settings.worker_data_dir, environment
        assert plan.boot_nice == settings.successor_boot_nice, environment
        for name in environment:
            monkeypatch.delenv(name)


def test_values_the_early_reader_cannot_judge_are_left_to_the_settings() -> None:
    from stream.decision_path.successor_boot import boot_plan_from_env

    for environment in (
        {"FRAUD_SUCCESSOR_BOOT_NICE": "nineteen"},
        {"FRAUD_SUCCESSOR_BOOT_NICE": "25"},
        {"FRAUD_SUCCESSOR_BOOT_NICE": "-1"},
        {"FRAUD_DATA_DIR": ""},
        {"FRAUD_WORKER_ID": ""},
    ):
        assert boot_plan_from_env(environment) is None, environment


def test_a_successor_started_as_a_worker_lowers_before_the_settings_are_imported(
    tmp_path: Path,
) -> None:
    # `fraudstream worker` runs the check at the top of stream.cli: the settings module (and
    # pydantic) must not be loaded yet when the priority drops.
    probe = """
import os, sys
sys.argv = ["fraudstream", "worker"]
from stream.decision_path import successor_boot as boot
calls = []
real = boot.boot_quietly_if_successor
def spy(data_dir, nice):
    loaded = ("stream.settings" in sys.modules, "pydantic" in sys.modules)
    calls.append((*loaded, real(data_dir, nice)))
    return calls[-1][2]
boot.boot_quietly_if_successor = spy
try:
    import stream.cli
except SystemExit:
    pass
print(calls[0])
"""
    env = {key: value for key, value in os.environ.items() if not key.startswith("FRAUD")}
    env["FRAUD_DATA_DIR"] = str(tmp_path)
    with data_dir_held(tmp_path):
        done = subprocess.run(
            [sys.executable, "-c", probe],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            start_new_session=True,
        )
    assert done.stdout.strip() == "(False, False, True)", done.stdout + done.stderr


def test_an_unreadable_data_dir_is_left_to_the_worker_to_report(tmp_path: Path) -> None:
    # Checked before the command line's imports: it must not raise there (the worker then
    # fails with its own message about the data dir), just boot at its own priority.
    from stream.decision_path.handover import LOCK_FILE
    from stream.decision_path.successor_boot import boot_quietly_if_successor

    (tmp_path / LOCK_FILE).mkdir()  # the lock file cannot be opened
    assert boot_quietly_if_successor(tmp_path, 19) is False
