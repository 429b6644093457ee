"""A worker's RocksDB stores are closed before its data-dir lock goes (warm handover)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from rocksdict import Rdict

from stream.engine.state_stores import close_local_stores


def test_closed_stores_can_be_opened_at_once_by_the_next_owner(tmp_path: Path) -> None:
    path = str(tmp_path / "card-state-0.db")
    database = Rdict(path)
    database[b"card"] = b"state"
    with pytest.raises(Exception, match=r"(?i)lock"):
        Rdict(path)  # what the new process met while the old one still held it
    store = SimpleNamespace(_dbs={0: database})
    empty = SimpleNamespace(_dbs={})  # a table with no partition open
    app = SimpleNamespace(
        tables={"card-state": SimpleNamespace(data=store), "other": SimpleNamespace(data=empty)}
    )
    close_local_stores(app)
    assert store._dbs == {}
    reopened = Rdict(path)
    assert reopened[b"card"] == b"state"  # written before the close: kept
    reopened.close()
