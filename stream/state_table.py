"""The two operations the stages need from a state table, so they can run on a plain dict."""

from __future__ import annotations

from typing import Any, Protocol


class StateTable(Protocol):
    def get(self, key: bytes) -> bytes | None: ...

    def set(self, key: bytes, value: bytes) -> None: ...


class FaustStateTable:
    """A Faust table with raw bytes keys and values (RocksDB store, changelog-backed).

    Writes must happen while the agent iterates an event: Faust sends the changelog record to
    the event's partition.
    """

    def __init__(self, table: Any) -> None:
        self._table = table

    def get(self, key: bytes) -> bytes | None:
        value = self._table.get(key)
        return None if value is None else bytes(value)

    def set(self, key: bytes, value: bytes) -> None:
        self._table[key] = value


class DictStateTable:
    """In-memory stand-in for tests and offline replays."""

    def __init__(self) -> None:
        self.data: dict[bytes, bytes] = {}

    def get(self, key: bytes) -> bytes | None:
        return self.data.get(key)

    def set(self, key: bytes, value: bytes) -> None:
        self.data[key] = value
