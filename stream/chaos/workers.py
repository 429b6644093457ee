"""Scoring workers as child processes, started and SIGKILLed by pid."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from stream.broker import free_port
from stream.broker.process import stop_child
from stream.decision_path.handover import waiting_pid


class WorkerStartError(RuntimeError):
    """A worker did not become ready in time (the message carries its log tail)."""


class WorkerProcess:
    def __init__(self, name: str, env: Mapping[str, str], work_dir: Path) -> None:
        self.name = name
        self.work_dir = work_dir
        self.port = free_port()
        self.env = {
            **os.environ,
            **env,
            "FRAUD_WORKER_ID": name,
            "FRAUD_DATA_DIR": str(work_dir / name),  # = self.data_dir
            "FRAUD_WEB_PORT": str(self.port),
            "PYTHONUNBUFFERED": "1",
        }
        self.log_path = work_dir / f"{name}.log"
        self.data_dir = work_dir / name
        self.stopped_at = 0.0  # wall clock of the last restart's SIGTERM to the old process
        self.old_exited_at = 0.0  # wall clock when that old process had exited
        self._process: subprocess.Popen[bytes] | None = None
        # Every process started for this worker, old ones and warm successors (CPU sampling).
        self.pids: list[int] = []
        self.kills = 0
        # Run from this source tree: `python -m` puts the working directory first on sys.path,
        # ahead of PYTHONPATH, so a tree is chosen by the directory the worker starts in.
        self.source_dir: Path | None = None

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, timeout_s: float = 120.0) -> float:
        """Start and wait until ready; the seconds it took."""
        began = time.monotonic()
        self.spawn()
        self.wait_ready(timeout_s)
        return time.monotonic() - began

    def restart(self, warm_timeout_s: float = 120.0) -> None:
        """A warm handover (stream.decision_path.handover): start the new process while the
        old one scores on; once the new one is warm and waiting, SIGTERM the old one (a
        graceful stop). Returns without waiting for ready (stream.rolling)."""
        old = self._process
        self.spawn()
        deadline = time.monotonic() + warm_timeout_s
        while old is not None and waiting_pid(self.data_dir) != self._pid():
            if not self.alive:
                raise WorkerStartError(f"{self.name} exited at start:\n{self.tail()}")
            if time.monotonic() > deadline:
                raise WorkerStartError(f"{self.name} not warm in {warm_timeout_s} s")
            time.sleep(0.05)
        self.stopped_at = time.time()
        if old is not None and old.poll() is None:
            stop_child(old, 60.0)
        self.old_exited_at = time.time()

    def spawn(self) -> None:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "stream.cli", "worker"],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=self.source_dir,
                start_new_session=True,
            )
        self.pids.append(self._process.pid)

    def wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while not self.ready():
            if not self.alive:
                raise WorkerStartError(f"{self.name} exited at start:\n{self.tail()}")
            if time.monotonic() > deadline:
                self.kill()
                raise WorkerStartError(f"{self.name} not ready in {timeout_s} s:\n{self.tail()}")
            time.sleep(0.25)

    def ready(self) -> bool:
        """The worker answers /ready with 200."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/ready", timeout=1) as r:
                return bool(r.status == 200)
        except OSError:
            return False

    def kill(self) -> None:
        """SIGKILL: no shutdown, no final commit — a crash."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(30)
            self.kills += 1

    def stop(self, timeout_s: float = 60.0) -> None:
        """SIGTERM, then SIGKILL if it does not stop in time."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            stop_child(process, timeout_s)

    def _pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def tail(self, lines: int = 30) -> str:
        """The log's last lines, without librdkafka's connection reports ("%3|..."): a worker
        that fails while the broker is down writes dozens a second, burying its own error."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        own = [line for line in text.splitlines() if not line.startswith("%")]
        return "\n".join(own[-lines:])
