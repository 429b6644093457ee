"""Schema versions: how a reader handles records written under another version of a contract.

Policy (applied by `schemas.codec`):
- Every record carries an integer `schema_version`. It goes up by one whenever the contract
  changes in a way a reader must know about (a field added, renamed, removed, or re-typed).
- A reader reads its own version directly.
- A record *older* than the reader's version is upgraded first: an `UpgradeRegistry` maps each
  version N to a function that turns a version-N JSON object (a plain dict) into a version-N+1
  one; the codec chains them up to the current version, then validates the result as usual. So a
  v3 reader with upgrades 1→2 and 2→3 reads v1 and v2. A gap in the chain, or a function that
  fails, dead-letters the record (`unsupported_schema_version` / `upgrade_failed`).
- A record *newer* than the reader's version is never guessed at: it is dead-lettered as
  `unsupported_schema_version` (the bytes are kept: replay it once the reader is upgraded).
- Unknown fields are ignored (see `schemas.base`), except where a contract forbids them.

Upgrades run on the rare older record only; the current version never pays for them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from schemas.errors import UpgradeError
from schemas.transaction import TRANSACTION_SCHEMA_VERSION

JsonObject = dict[str, Any]
Upgrade = Callable[[JsonObject], JsonObject]


class UpgradeRegistry:
    """The upgrade functions of one record contract, keyed by the version they upgrade from."""

    def __init__(self, record_name: str, current_version: int) -> None:
        self.record_name = record_name
        self.current_version = current_version
        self._steps: dict[int, Upgrade] = {}

    def register(self, from_version: int) -> Callable[[Upgrade], Upgrade]:
        """Decorator: `fn` turns a version `from_version` object into a `from_version + 1` one."""
        if not 1 <= from_version < self.current_version:
            raise ValueError(
                f"{self.record_name}: cannot register an upgrade from version {from_version}; "
                f"upgrades go from 1 up to {self.current_version - 1}"
            )

        def add(fn: Upgrade) -> Upgrade:
            if from_version in self._steps:
                raise ValueError(f"{self.record_name}: upgrade from v{from_version} already set")
            self._steps[from_version] = fn
            return fn

        return add

    def can_upgrade(self, version: int) -> bool:
        return all(v in self._steps for v in range(version, self.current_version))

    def upgrade(self, data: JsonObject) -> JsonObject:
        """Upgrade a decoded JSON object to the current version; raises UpgradeError."""
        version = data.get("schema_version")
        if not isinstance(version, int) or isinstance(version, bool):
            raise UpgradeError(f"{self.record_name}: schema_version is not an integer")
        if version > self.current_version:
            raise UpgradeError(
                f"{self.record_name}: version {version} is newer than {self.current_version}"
            )
        while version < self.current_version:
            step = self._steps.get(version)
            if step is None:
                raise UpgradeError(f"{self.record_name}: no upgrade from version {version}")
            try:
                data = step(dict(data))
            except Exception as exc:
                raise UpgradeError(
                    f"{self.record_name}: upgrade from version {version} failed: "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
            version += 1
            # The step owns the shape; the registry owns the version number, so a step cannot
            # forget it or skip ahead.
            data["schema_version"] = version
        return data


TRANSACTION_UPGRADES = UpgradeRegistry("Transaction", TRANSACTION_SCHEMA_VERSION)
"""Empty while version 1 is the only one; register `@TRANSACTION_UPGRADES.register(1)` with v2."""
