"""Running the real `fraudstream` CLI in a child process with a test's settings."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.support.faust_worker import REPO_ROOT


def run_cli(
    env: dict[str, str], *args: str, timeout_s: float = 120.0
) -> subprocess.CompletedProcess[str]:
    """`fraudstream ARGS` with the test's environment on top of this one; never raises on exit."""
    return subprocess.run(
        [sys.executable, "-m", "stream.cli", *args],
        env={**os.environ, **env},
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
