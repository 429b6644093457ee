"""Process plumbing shared by the launcher and the detached-broker commands (Linux only)."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

_PR_SET_PDEATHSIG = 1


def die_with_parent_hook() -> Callable[[], None] | None:
    """A Popen preexec_fn that makes the child receive SIGTERM when this process dies.

    This covers what atexit and finally blocks cannot: the parent being SIGKILLed or
    os._exit()ing (pytest-timeout, an OOM kill), which would otherwise orphan a JVM.
    The kernel ties the signal to the *thread* that forked, so the hook is only offered
    on the main thread, whose end is the process's end.
    """
    if threading.current_thread() is not threading.main_thread():
        return None
    # Resolved before fork: loading a library in the forked child is not safe.
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    parent = os.getpid()

    def hook() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        # The parent may have died between fork and prctl; then no signal would ever come.
        if os.getppid() != parent:
            os.kill(os.getpid(), signal.SIGTERM)

    return hook


def pid_alive(pid: int) -> bool:
    """True while `pid` exists and is not a zombie (a zombie holds no ports or files)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    # The state letter follows the parenthesised command name, which may itself hold spaces.
    state = stat.rpartition(")")[2].split()[0]
    return state not in ("Z", "X")


def pid_cmdline(pid: int) -> list[str] | None:
    """The argv of `pid`, or None when it does not exist or cannot be read."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def wait_pid_gone(pid: int, timeout: float) -> bool:
    """Poll until `pid` is gone; True if it went within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while pid_alive(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)
    return True


def terminate_pid(pid: int, timeout: float) -> bool:
    """SIGTERM `pid`, then SIGKILL it if it outlives `timeout`; True if it stopped on SIGTERM.

    For processes that are not this process's children (a detached broker); for children,
    Popen.wait also reaps them.
    """
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return True
    if wait_pid_gone(pid, timeout):
        return True
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return False
    wait_pid_gone(pid, 10.0)
    return False


def stop_child(process: subprocess.Popen[bytes], timeout: float) -> None:
    """SIGTERM a child process, SIGKILL it if it outlives `timeout`, and reap it."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
