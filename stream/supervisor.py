"""`fraudstream worker`: both stages as child processes that live and die together.

A SIGKILLed supervisor takes its stages with it (the kernel sends them SIGKILL: a crash stays
a crash). SIGTERM/SIGINT are passed on, so each stage commits after flushing its outputs. When
one stage exits, the other is stopped and the supervisor exits with the first one's status,
for the process manager to restart the whole worker.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from types import FrameType

_PR_SET_PDEATHSIG = 1
STAGES = ("card", "merchant")


def _die_with_parent() -> None:
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def run_supervisor(stop_timeout_s: float = 60.0) -> int:
    children = {
        stage: subprocess.Popen(
            [sys.executable, "-m", "stream.cli", "worker", "--stage", stage],
            preexec_fn=_die_with_parent,
        )
        for stage in STAGES
    }
    stopping = threading.Event()

    def forward(signum: int, _frame: FrameType | None) -> None:
        stopping.set()
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    status = 0
    while True:
        exited = [child for child in children.values() if child.poll() is not None]
        if exited:
            status = exited[0].returncode
            break
        time.sleep(0.2)
    for child in children.values():
        if child.poll() is None:
            child.terminate()
    deadline = time.monotonic() + stop_timeout_s
    for child in children.values():
        try:
            child.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.kill(child.pid, signal.SIGKILL)
            child.wait(10)
    return 0 if stopping.is_set() and status in (0, -signal.SIGTERM, -signal.SIGINT) else status
