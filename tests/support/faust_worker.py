"""A Faust worker run as a subprocess, the way production runs it, for integration tests.

    worker = FaustWorker("tests.integration.counting_app", data_dir, log_path, env={...})
    with worker.started(timeout=90):      # returns once "Worker ready" is logged
        ...                               # the worker runs; worker.log_text() shows its log
    # stopped here (SIGTERM, SIGKILL after a timeout), whatever happened inside

`worker.stop(kill=True)` SIGKILLs it instead, for crash tests. Each worker needs its own data
dir (RocksDB locks table partitions) and web port; the helper picks a free port itself.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO

from stream.broker import free_port
from stream.broker.process import die_with_parent_hook

REPO_ROOT = Path(__file__).resolve().parents[2]
# Logged by Faust's recovery once table state is restored and the agents consume:
# before it, events fetched may race the end of recovery (see README, Reliability).
WORKER_READY = "Worker ready"


class WorkerFailedError(RuntimeError):
    """The worker exited or did not become ready in time; the message carries its log tail."""


class FaustWorker:
    def __init__(
        self,
        app: str,
        data_dir: Path,
        log_path: Path,
        env: Mapping[str, str] | None = None,
        web_port: int | None = None,
        loglevel: str = "info",
    ) -> None:
        """`app` is what `faust -A` takes: a module path, or "module:attribute"."""
        self.app = app
        self.data_dir = data_dir
        self.log_path = log_path
        self.env = dict(env or {})
        self.web_port = web_port if web_port is not None else free_port()
        self.loglevel = loglevel
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._log_start = 0

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "faust",
            "-A",
            self.app,
            "--datadir",
            str(self.data_dir),
            "worker",
            "--loglevel",
            self.loglevel,
            "--web-port",
            str(self.web_port),
            # Loopback only: tests never open a port to the network.
            "--web-bind",
            "127.0.0.1",
            "--web-host",
            "127.0.0.1",
        ]

    def start(self, ready: str = WORKER_READY, timeout: float = 90.0) -> None:
        """Start the worker and wait until its log shows `ready`; on failure it is stopped."""
        self.launch()
        try:
            self.wait_for_log(ready, timeout)
        except BaseException:
            self.stop(kill=True)
            raise

    def launch(self) -> None:
        """Start the worker process and return at once (tests of a worker still starting)."""
        if self._process is not None:
            raise RuntimeError(f"worker already started (pid {self._process.pid})")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
        self._log = self.log_path.open("ab")
        self._log_start = self._log.tell()
        self._process = subprocess.Popen(
            self.command(),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=REPO_ROOT,
            env=env,
            start_new_session=True,
            preexec_fn=die_with_parent_hook(),
        )

    def wait_for_log(self, marker: str, timeout: float, occurrences: int = 1) -> None:
        """Wait until `marker` appears `occurrences` times in this run's log."""
        deadline = time.monotonic() + timeout
        while self.log_text().count(marker) < occurrences:
            process = self._process
            if process is None or process.poll() is not None:
                code = None if process is None else process.returncode
                raise WorkerFailedError(
                    f"worker {self.app} exited ({code}) before logging {marker!r}:\n{self.tail()}"
                )
            if time.monotonic() >= deadline:
                raise WorkerFailedError(
                    f"worker {self.app} did not log {marker!r} within {timeout} s:\n{self.tail()}"
                )
            time.sleep(0.1)

    def stop(self, kill: bool = False, timeout: float = 30.0) -> int | None:
        """Stop the worker by pid (SIGTERM, or SIGKILL when `kill`); returns its exit code."""
        process, self._process = self._process, None
        try:
            if process is None:
                return None
            if process.poll() is None:
                os.kill(process.pid, signal.SIGKILL if kill else signal.SIGTERM)
                try:
                    process.wait(timeout)
                except subprocess.TimeoutExpired:
                    os.kill(process.pid, signal.SIGKILL)
                    process.wait(10.0)
            return process.returncode
        finally:
            if self._log is not None:
                self._log.close()
                self._log = None

    @contextlib.contextmanager
    def started(self, ready: str = WORKER_READY, timeout: float = 90.0) -> Iterator[FaustWorker]:
        self.start(ready, timeout)
        try:
            yield self
        finally:
            self.stop()

    def log_text(self) -> str:
        """What this run of the worker has logged so far."""
        try:
            with self.log_path.open("rb") as handle:
                handle.seek(self._log_start)
                return handle.read().decode(errors="replace")
        except OSError:
            return ""

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])
