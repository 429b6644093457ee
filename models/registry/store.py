"""Registry storage: the interface and its embedded back-end (JSON files under var/registry)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from schemas import ModelControl, ModelRef


class RegistryEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    version: str
    content_hash: str
    location: str
    registered_by: str
    registered_at: datetime

    @property
    def ref(self) -> ModelRef:
        return ModelRef(name=self.name, version=self.version, content_hash=self.content_hash)

    @property
    def label(self) -> str:
        return f"{self.name}:{self.version}"


class ApprovalRecord(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    content_hash: str
    stage: str  # "canary" or "champion"
    approver: str
    role: str
    approved_at: datetime


class RegistryStore(Protocol):
    def add(self, entry: RegistryEntry) -> None: ...
    def entries(self) -> list[RegistryEntry]: ...
    def add_approval(self, approval: ApprovalRecord) -> None: ...
    def approvals(self) -> list[ApprovalRecord]: ...
    def add_plan(self, plan: ModelControl) -> None: ...
    def plans(self) -> list[ModelControl]: ...


class FileRegistryStore:
    """Append-only JSON-lines files: entries, approvals and every plan ever published."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def add(self, entry: RegistryEntry) -> None:
        self._append("entries.jsonl", entry.model_dump_json())

    def entries(self) -> list[RegistryEntry]:
        return [RegistryEntry.model_validate_json(line) for line in self._lines("entries.jsonl")]

    def add_approval(self, approval: ApprovalRecord) -> None:
        self._append("approvals.jsonl", approval.model_dump_json())

    def approvals(self) -> list[ApprovalRecord]:
        return [ApprovalRecord.model_validate_json(line) for line in self._lines("approvals.jsonl")]

    def add_plan(self, plan: ModelControl) -> None:
        self._append("plans.jsonl", plan.model_dump_json())

    def plans(self) -> list[ModelControl]:
        return [ModelControl.model_validate_json(line) for line in self._lines("plans.jsonl")]

    def _append(self, name: str, line: str) -> None:
        with (self.root / name).open("a") as out:
            out.write(json.dumps(json.loads(line), sort_keys=True) + "\n")

    def _lines(self, name: str) -> list[str]:
        path = self.root / name
        return path.read_text().splitlines() if path.exists() else []
