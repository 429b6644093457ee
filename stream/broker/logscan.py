"""Reading a starting broker's log for the reason it failed."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

_BIND_FAILURE = re.compile(r"failed to bind[^\n]*|Address already in use[^\n]*")
_ERROR_LINE = re.compile(r"^\[[^\]]+\] (ERROR|FATAL) ")
_MAX_READ = 4 * 1024 * 1024


def bind_failure(text: str) -> str | None:
    """The log's first complaint about a port it could not bind, if any."""
    match = _BIND_FAILURE.search(text)
    return match.group(0).strip() if match else None


def error_summary(text: str, limit: int = 5) -> list[str]:
    """The first `limit` ERROR/FATAL lines, each with the exception line that follows it.

    A dying broker logs its cause once and then hundreds of shutdown lines, so the tail of
    the log rarely shows why it died.
    """
    lines = text.splitlines()
    summary: list[str] = []
    for index, line in enumerate(lines):
        if not _ERROR_LINE.match(line):
            continue
        cause = lines[index + 1].strip() if index + 1 < len(lines) else ""
        is_exception = cause and not cause.startswith(("[", "at "))
        summary.append(f"{line}\n    {cause}" if is_exception else line)
        if len(summary) == limit:
            break
    return summary


@dataclass
class LogWatch:
    """Reads only what files gained since `mark()`, as a reused work dir keeps older runs' logs."""

    paths: list[Path]
    _offsets: dict[Path, int] = field(default_factory=dict)

    def mark(self) -> None:
        self._offsets = {path: _size(path) for path in self.paths}

    def new_text(self, path: Path) -> str:
        start = self._offsets.get(path, 0)
        try:
            with path.open("rb") as handle:
                handle.seek(start)
                return handle.read(_MAX_READ).decode(errors="replace")
        except OSError:
            return ""


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
