"""Who, where, which code and which libraries: the provenance half of a manifest."""

from __future__ import annotations

import getpass
import os
import platform
import socket
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from schemas.model_package import Environment

TRACKED_LIBRARIES = ("scikit-learn", "numpy", "scipy", "joblib", "pyarrow", "treelite", "tl2cgen")


def git_state(repo: Path) -> tuple[str | None, bool]:
    """(commit, dirty) of the work tree holding `repo`; (None, True) outside git."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        status = subprocess.run(
            ["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None, True
    return commit, bool(status.strip())


def current_user() -> str:
    return os.environ.get("FRAUD_BUILT_BY") or getpass.getuser()


def host_name() -> str:
    return socket.gethostname()


def platform_name() -> str:
    return platform.platform()


def environment() -> Environment:
    libraries = {}
    for name in TRACKED_LIBRARIES:
        try:
            libraries[name] = version(name)
        except PackageNotFoundError:
            continue
    return Environment(python=sys.version.split()[0], libraries=libraries)
