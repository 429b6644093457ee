"""The fraudstream scoring worker as a subprocess, configured through FRAUD_* variables."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

from stream.broker import free_port
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
        super().__init__("stream.worker", data_dir, log_path)
        self.merchant_web_port = free_port()
        self.env = {
            **env,
            "FRAUD_WORKER_ID": worker_id,
            "FRAUD_DATA_DIR": str(data_dir),
            "FRAUD_WEB_PORT": str(self.web_port),
            "FRAUD_MERCHANT_WEB_PORT": str(self.merchant_web_port),
        }

    def command(self) -> list[str]:
        return [sys.executable, "-m", "stream.cli", "worker"]

    def start(self, ready: str = "Worker ready", timeout: float = 90.0) -> None:
        """Start, then wait until both stages log that they are ready."""
        super().start(ready, timeout)
        try:
            self.wait_for_log(ready, timeout, occurrences=2)
        except WorkerFailedError:
            self.stop(kill=True)
            raise

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"
