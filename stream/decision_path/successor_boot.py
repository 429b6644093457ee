"""A warm successor boots at the lowest CPU priority and takes its own back at takeover.

A rolling restart starts the new process while the old one still scores (handover). Its boot
(imports, model load, warm-up, the merchant view's read: seconds of CPU) competes with both
live workers and the broker for the machine's cores, and events decided meanwhile come in
over the latency budget and fall back. Booting at nice 19, the successor gets only the CPU the
live processes leave; it returns to its own priority the moment it holds the data-dir lock,
before it joins the group.

Two levers, because of how Linux schedules:
- with autogroup scheduling (`/proc/sys/kernel/sched_autogroup_enabled`, the default of most
  distributions), CPU is shared first between sessions, each at its autogroup's nice, and a
  thread's own nice only ranks it inside its session. A worker leading its own session (as
  `fraudstream chaos` and service managers start it) lowers its autogroup's nice: going back to
  0 needs no privilege. A worker sharing its session (started from a shell) leaves the
  session's other processes alone and does not touch it;
- the nice of each thread (Linux keeps one per thread; new threads inherit their creator's),
  for schedulers without autogroups (and where cgroups, e.g. systemd's, rank the processes
  instead). Going back up needs CAP_SYS_NICE or a permissive RLIMIT_NICE (`LimitNICE=20` in a
  systemd unit), so it is lowered only where a probe shows the return is allowed: a successor
  stuck at nice 19 would score slower than the worker it replaced.

It runs before the command line's imports, which are most of the boot (stream.cli): even
the settings' own imports (pydantic, the record contracts) cost ~0.3 s of CPU, so the data dir
and the boot nice are first read straight from the environment (`boot_plan_from_env`, tested
equal to the settings'); the settings check again once loaded.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from stream.decision_path.handover import held_elsewhere

log = logging.getLogger(__name__)

AUTOGROUP = Path("/proc/self/autogroup")  # "/autogroup-42 nice 0"
AUTOGROUP_TRIES = 6


@dataclass(frozen=True)
class _Lowered:
    thread_nice: int | None  # the threads' own nice, if lowered
    autogroup_nice: int | None  # the session's, if lowered


_lowered: _Lowered | None = None


@dataclass(frozen=True)
class BootPlan:
    data_dir: Path
    boot_nice: int


def boot_plan_from_env(environ: Mapping[str, str]) -> BootPlan | None:
    """The worker's data dir and successor boot nice as `stream.settings.Settings` reads them
    from FRAUD_* variables, without importing the settings. None when a value is not one
    this reads the settings' way (the settings then decide, once loaded)."""
    found = {key.upper(): value for key, value in environ.items() if key[:6].upper() == "FRAUD_"}
    nice_text = found.get("FRAUD_SUCCESSOR_BOOT_NICE", "19").strip()
    if not nice_text.isdigit() or not 0 <= int(nice_text) <= 19:
        return None
    data_dir = found.get("FRAUD_DATA_DIR")
    if data_dir is not None:
        return BootPlan(Path(data_dir), int(nice_text)) if data_dir else None
    parts = [found.get(name, default) for name, default in _DATA_DIR_PARTS]
    if not all(parts):
        return None
    var_dir, app_id, worker_id = parts
    return BootPlan(Path(var_dir) / "workers" / app_id / worker_id, int(nice_text))


# The parts of the default data dir, var/workers/<app_id>/<worker_id>, and their defaults.
_DATA_DIR_PARTS = (
    ("FRAUD_VAR_DIR", "var"),
    ("FRAUD_APP_ID", "fraudstream"),
    ("FRAUD_WORKER_ID", "worker-1"),
)


def boot_quietly_if_successor(data_dir: Path, boot_nice: int) -> bool:
    """If another process holds `data_dir`'s lock (this one is its successor), run at
    `boot_nice` until `take_own_priority_back`. True when something was lowered (now or by
    an earlier call: the first one that lowered holds)."""
    global _lowered
    if _lowered is not None:
        return True
    try:
        successor = boot_nice > 0 and held_elsewhere(data_dir)
    except OSError:
        return False  # an unreadable data dir is the worker's to report, with its own message
    if not successor:
        return False
    own = os.getpriority(os.PRIO_PROCESS, 0)
    thread_nice = own if boot_nice > own and _may_raise_priority(own) else None
    group_nice = autogroup_nice() if os.getsid(0) == os.getpid() else None
    if group_nice is not None and boot_nice <= group_nice:
        group_nice = None
    if thread_nice is None and group_nice is None:
        log.warning("booting at full priority beside the previous process (no way back)")
        return False
    if thread_nice is not None:
        os.setpriority(os.PRIO_PROCESS, 0, boot_nice)
    if group_nice is not None:
        set_autogroup_nice(boot_nice)
    _lowered = _Lowered(thread_nice, group_nice)
    return True


def take_own_priority_back() -> None:
    """Back to the priorities the process started with; a no-op if it did not lower them."""
    global _lowered
    lowered, _lowered = _lowered, None
    if lowered is None:
        return
    if lowered.autogroup_nice is not None and not _try_autogroup_nice(lowered.autogroup_nice):
        # The old process lowered its own a moment ago (one change per 100 ms): retry beside
        # the takeover instead of holding it up.
        threading.Thread(
            target=set_autogroup_nice, args=(lowered.autogroup_nice,), daemon=True
        ).start()
    if lowered.thread_nice is not None:
        for tid in _thread_ids():
            with contextlib.suppress(ProcessLookupError):  # a thread that ended meanwhile
                os.setpriority(os.PRIO_PROCESS, tid, lowered.thread_nice)


def autogroup_nice() -> int | None:
    """This session's autogroup nice, or None without autogroup scheduling."""
    try:
        return int(AUTOGROUP.read_text().split()[-1])
    except (OSError, ValueError, IndexError):
        return None


def set_autogroup_nice(nice: int) -> None:
    """Values ≥ 0 need no privilege (the kernel checks only a negative nice), but without
    CAP_SYS_ADMIN the kernel takes one autogroup change per 100 ms machine-wide (EAGAIN):
    the old process lowers its own at the moment its successor returns."""
    for _ in range(AUTOGROUP_TRIES):
        if _try_autogroup_nice(nice):
            return
        time.sleep(0.05)


def _try_autogroup_nice(nice: int) -> bool:
    """False only when the kernel asks to try again later; other refusals are final."""
    try:
        AUTOGROUP.write_text(str(nice))
    except BlockingIOError:
        return False
    except OSError:
        return True  # no autogroups, or not allowed: nothing a retry changes
    return True


def _may_raise_priority(own: int) -> bool:
    """Try it on a thread of its own: one notch down, then back up."""
    allowed: list[bool] = []

    def probe() -> None:
        tid = threading.get_native_id()
        try:
            os.setpriority(os.PRIO_PROCESS, tid, own + 1)
            os.setpriority(os.PRIO_PROCESS, tid, own)
        except PermissionError:
            allowed.append(False)
        else:
            allowed.append(True)

    thread = threading.Thread(target=probe, name="nice-probe")
    thread.start()
    thread.join()
    return allowed == [True]


def _thread_ids() -> list[int]:
    try:
        return [int(task.name) for task in Path("/proc/self/task").iterdir()]
    except OSError:  # no /proc: the calling thread only
        return [threading.get_native_id()]
