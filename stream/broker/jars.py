"""The Apache Kafka broker jars: fetched once from Maven Central, then used from a local cache.

Layout of the cache, one directory per Kafka version:
    <cache_root>/<version>/lib/*.jar          the classpath
    <cache_root>/<version>/fetch-complete.json  written last; without it the fetch is redone
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import shutil
import subprocess
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

from stream.broker.errors import JarFetchError, MavenNotFoundError

DEFAULT_KAFKA_VERSION = "3.9.1"
SCALA_VERSION = "2.13"
_STAMP = "fetch-complete.json"
_FETCH_TIMEOUT_S = 900.0


def default_cache_root() -> Path:
    """The repository's git-ignored .cache/kafka in a source checkout, else ./.cache/kafka."""
    checkout = Path(__file__).resolve().parents[2]
    base = checkout if (checkout / "pyproject.toml").is_file() else Path.cwd()
    return base / ".cache" / "kafka"


def cached_jar_dir(version: str, cache_root: Path) -> Path | None:
    """Return the jar directory of `version` if a completed fetch left it intact, else None."""
    version_dir = cache_root / version
    try:
        stamp = json.loads((version_dir / _STAMP).read_text())
    except (OSError, ValueError):
        return None
    lib = version_dir / "lib"
    jars = stamp.get("jars") if isinstance(stamp, dict) else None
    if not jars or not all((lib / name).is_file() for name in jars):
        return None
    return lib


def ensure_jars(
    version: str = DEFAULT_KAFKA_VERSION, cache_root: Path | None = None, mvn: str = "mvn"
) -> Path:
    """Return a directory holding the broker's classpath, fetching it with Maven if needed."""
    root = cache_root if cache_root is not None else default_cache_root()
    cached = cached_jar_dir(version, root)
    if cached is not None:
        return cached
    version_dir = root / version
    version_dir.mkdir(parents=True, exist_ok=True)
    with _exclusive(version_dir / ".lock"):
        # Another process may have finished the fetch while this one waited for the lock.
        cached = cached_jar_dir(version, root)
        if cached is not None:
            return cached
        return _fetch(version, version_dir, mvn)


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    with lock_path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _fetch(version: str, version_dir: Path, mvn: str) -> Path:
    mvn_path = shutil.which(mvn)
    if mvn_path is None:
        raise MavenNotFoundError(
            f"Kafka {version} jars are not cached in {version_dir} and there is no {mvn!r} on PATH "
            "to fetch them (install Maven, e.g. apt-get install maven, and run "
            "`fraudstream broker fetch` once with network access to Maven Central)"
        )
    lib, partial = version_dir / "lib", version_dir / "lib.partial"
    for leftover in (lib, partial):
        shutil.rmtree(leftover, ignore_errors=True)
    pom = version_dir / "pom.xml"
    pom.write_bytes(resources.files("stream.broker").joinpath("pom.xml").read_bytes())
    command = [
        mvn_path,
        "-B",
        "-q",
        "-Dstyle.color=never",
        "-f",
        str(pom),
        "dependency:copy-dependencies",
        f"-Dkafka.version={version}",
        f"-DoutputDirectory={partial}",
    ]
    try:
        run = subprocess.run(
            command, capture_output=True, text=True, timeout=_FETCH_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise JarFetchError(f"Maven did not finish within {_FETCH_TIMEOUT_S:.0f} s") from exc
    output = (run.stdout + run.stderr).strip()
    if run.returncode != 0:
        tail = "\n".join(output.splitlines()[-30:])
        raise JarFetchError(
            f"Maven failed (exit {run.returncode}) fetching Kafka {version}:\n{tail}"
        )
    jars = sorted(path.name for path in partial.glob("*.jar"))
    expected = f"kafka_{SCALA_VERSION}-{version}.jar"
    if expected not in jars:
        raise JarFetchError(f"Maven finished but {expected} is not among the fetched jars")
    partial.rename(lib)
    _write_stamp(version_dir / _STAMP, {"kafka_version": version, "jars": jars})
    return lib


def _write_stamp(path: Path, content: dict[str, object]) -> None:
    # Written to a side file and renamed, so a crash never leaves a stamp that lies.
    scratch = path.with_suffix(".tmp")
    scratch.write_text(json.dumps(content, indent=2) + "\n")
    scratch.replace(path)
