"""The external tools the ops checks run (promtool, prometheus, docker-compose).

`make ops-tools` installs them where it can (ops/tools/install.sh). A test that needs a missing
one fails in CI (FRAUD_REQUIRE_OPS_TOOLS set, as .ci/run does, or CI set, as hosted CI does),
so a check CI is meant to run cannot turn into a silent skip; on a developer's machine it
skips, naming the command that installs it.
"""

from __future__ import annotations

import os
import shutil

import pytest

INSTALL_HINT = "run `make ops-tools` as root (Debian: apt-get install prometheus docker-compose)"


def require_tool(name: str) -> str:
    """The tool's path; fails (CI) or skips (elsewhere) the calling test when it is missing."""
    path = shutil.which(name)
    if path is not None:
        return path
    message = f"{name} is not installed: {INSTALL_HINT}"
    if os.environ.get("FRAUD_REQUIRE_OPS_TOOLS") or os.environ.get("CI"):
        pytest.fail(f"{message} (in CI the ops checks must run, not skip)", pytrace=False)
    pytest.skip(message)
