"""The jar cache: a completed fetch is reused without Maven, a half-finished one is redone."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from stream.broker import JarFetchError, MavenNotFoundError, cached_jar_dir, ensure_jars

VERSION = "9.9.9"

# Stands in for `mvn dependency:copy-dependencies`: writes jars where it is told to, and when
# `fail` is set, dies half-way like a fetch whose network dropped.
_FAKE_MVN = """#!{python}
import pathlib, sys
args = dict(a[2:].split("=", 1) for a in sys.argv if a.startswith("-D") and "=" in a)
out = pathlib.Path(args["outputDirectory"])
out.mkdir(parents=True, exist_ok=True)
(out / ("kafka_2.13-" + args["kafka.version"] + ".jar")).write_bytes(b"jar")
if {fail}:
    print("Could not transfer artifact: network is unreachable", file=sys.stderr)
    sys.exit(1)
(out / ("kafka-clients-" + args["kafka.version"] + ".jar")).write_bytes(b"jar")
"""


def _fake_mvn(directory: Path, fail: bool) -> str:
    script = directory / ("mvn-failing" if fail else "mvn")
    script.write_text(_FAKE_MVN.format(python=sys.executable, fail=fail))
    script.chmod(0o755)
    return str(script)


def test_a_half_finished_fetch_is_redone_and_a_complete_one_reused(tmp_path: Path) -> None:
    cache = tmp_path / "cache"

    with pytest.raises(JarFetchError, match="network is unreachable"):
        ensure_jars(VERSION, cache, mvn=_fake_mvn(tmp_path, fail=True))
    assert (cache / VERSION / "lib.partial").is_dir()  # the debris a dropped fetch leaves
    assert cached_jar_dir(VERSION, cache) is None

    lib = ensure_jars(VERSION, cache, mvn=_fake_mvn(tmp_path, fail=False))
    assert sorted(p.name for p in lib.iterdir()) == [
        f"kafka-clients-{VERSION}.jar",
        f"kafka_2.13-{VERSION}.jar",
    ]
    assert not (cache / VERSION / "lib.partial").exists()

    # Cached: a missing Maven does not matter any more.
    assert ensure_jars(VERSION, cache, mvn=str(tmp_path / "no-such-mvn")) == lib


def test_a_cache_missing_a_listed_jar_counts_as_not_fetched(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    lib = ensure_jars(VERSION, cache, mvn=_fake_mvn(tmp_path, fail=False))
    (lib / f"kafka-clients-{VERSION}.jar").unlink()
    assert cached_jar_dir(VERSION, cache) is None
    with pytest.raises(MavenNotFoundError, match="not cached"):
        ensure_jars(VERSION, cache, mvn=str(tmp_path / "no-such-mvn"))


def test_lib_without_a_completion_stamp_is_not_trusted(tmp_path: Path) -> None:
    lib = tmp_path / "cache" / VERSION / "lib"
    lib.mkdir(parents=True)
    (lib / f"kafka_2.13-{VERSION}.jar").write_bytes(b"jar")
    assert cached_jar_dir(VERSION, tmp_path / "cache") is None
