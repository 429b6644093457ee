"""The fraudstream scoring worker as a subprocess, configured through FRAUD_* variables."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

from tests.support.faust_worker import FaustWorker


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
        self.env = {
            **env,
            "FRAUD_WORKER_ID": worker_id,
            "FRAUD_DATA_DIR": str(data_dir),
            "FRAUD_WEB_PORT": str(self.web_port),
        }

    def command(self) -> list[str]:
        return [sys.executable, "-m", "stream.cli", "worker"]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"
