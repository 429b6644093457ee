"""The fraudstream scoring worker as a subprocess, configured through FRAUD_* variables."""

from __future__ import annotations

import sys
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from tests.support.faust_worker import FaustWorker, WorkerFailedError


class StreamWorker(FaustWorker):
    """`python -m stream.cli worker` with its own data dir and web port."""

    def __init__(
        self,
        env: Mapping[str, str],
        data_dir: Path,
        log_path: Path,
        worker_id: str = "worker-1",
    ) -> None:
        super().__init__("stream.decision_path.worker", data_dir, log_path)
        self.env = {
            **env,
            "FRAUD_WORKER_ID": worker_id,
            "FRAUD_DATA_DIR": str(data_dir),
            "FRAUD_WEB_PORT": str(self.web_port),
        }

    def command(self) -> list[str]:
        return [sys.executable, "-m", "stream.cli", "worker"]

    def start(self, ready: str = "Worker ready", timeout: float = 90.0) -> None:
        """Start, then wait until the worker logs that it is ready and /ready answers 200."""
        super().start(ready, timeout)
        deadline = time.monotonic() + timeout
        while not self.ready():
            if time.monotonic() > deadline or not self.running:
                self.stop(kill=True)
                raise WorkerFailedError(f"worker not ready in {timeout} s:\n{self.tail()}")
            time.sleep(0.1)

    def ready(self) -> bool:
        request = urllib.request.Request(f"{self.base_url}/ready", headers=self.auth_headers())
        try:
            with urllib.request.urlopen(request, timeout=1) as answer:
                return bool(answer.status == 200)
        except OSError:
            return False

    def auth_headers(self) -> dict[str, str]:
        """What the worker's web endpoints want when it was given a token (FRAUD_WEB_TOKEN)."""
        token = self.env.get("FRAUD_WEB_TOKEN")
        return {} if not token else {"Authorization": f"Bearer {token}"}

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"
