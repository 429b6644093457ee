"""Finding a Java runtime that can run the broker."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from stream.broker.errors import JavaNotFoundError, JavaTooOldError

_VERSION = re.compile(r'version "(\d+)(?:\.(\d+))?')


def minimum_java_major(kafka_version: str) -> int:
    """Kafka 4 runs its broker on Java 17 and newer; Kafka 3.x on Java 11 and newer."""
    return 17 if int(kafka_version.split(".")[0]) >= 4 else 11


def parse_java_major(version_output: str) -> int | None:
    """Read the major version from `java -version` output ("1.8.0_392" is Java 8)."""
    match = _VERSION.search(version_output)
    if match is None:
        return None
    first = int(match.group(1))
    if first == 1 and match.group(2) is not None:
        return int(match.group(2))
    return first


def find_java(kafka_version: str, java: str = "java") -> Path:
    """Return the java executable, after checking it is new enough for `kafka_version`."""
    found = shutil.which(java)
    if found is None:
        raise JavaNotFoundError(
            f"no {java!r} on PATH; the local Kafka broker needs a Java runtime "
            f"(Java {minimum_java_major(kafka_version)} or newer, "
            "e.g. apt-get install openjdk-17-jre-headless)"
        )
    try:
        probe = subprocess.run(
            [found, "-version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise JavaNotFoundError(f"{found} -version did not run: {exc}") from exc
    # `java -version` writes to stderr by long tradition.
    output = probe.stderr + probe.stdout
    major = parse_java_major(output)
    needed = minimum_java_major(kafka_version)
    if major is None:
        raise JavaNotFoundError(f"cannot read a Java version from `{found} -version`: {output!r}")
    if major < needed:
        raise JavaTooOldError(
            f"{found} is Java {major}; Kafka {kafka_version} needs Java {needed} or newer"
        )
    return Path(found)
