"""The change log: one JSON line per change, hash-chained and sealed.

Each entry carries the hash of the one before it and its own hash over its content; the hash is
sealed with an HMAC under the registry key (the package-signing key), so rewriting the chain
after an edit needs that key. Entries made on an actor's request also embed the signed request,
which `verify` checks against the policy's public keys: not even the key holder can put words in
an actor's mouth. A sealed head file (sequence + last hash) catches a deleted tail.

Appends take an exclusive lock on the file: the CLI and workers on one machine share it.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from models.governance.errors import ChangeLogBroken
from models.governance.keys import signature_valid
from models.governance.policy import Policy
from models.governance.requests import SignedRequest
from models.package.store import canonical_json

GENESIS = "0" * 64


class ChangeEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    seq: int
    at: datetime
    actor: str
    action: str
    target: str
    content_hash: str | None
    reason: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    request: SignedRequest | None
    prev_hash: str
    hash: str = ""
    seal: str = ""

    def body_hash(self) -> str:
        body = self.model_dump(mode="json", exclude={"hash", "seal"})
        return hashlib.sha256(canonical_json(body)).hexdigest()


def _seal(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


class ChangeLog:
    def __init__(self, path: Path, key: bytes) -> None:
        self.path = path
        self._head = path.with_suffix(".head")
        self._key = key

    def append(
        self,
        actor: str,
        action: str,
        target: str,
        reason: str,
        *,
        content_hash: str | None = None,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
        request: SignedRequest | None = None,
    ) -> ChangeEntry:
        with self._locked():
            entries = list(self._read())
            previous = entries[-1] if entries else None
            entry = ChangeEntry(
                seq=len(entries),
                at=datetime.now(UTC),
                actor=actor,
                action=action,
                target=target,
                content_hash=content_hash,
                reason=reason,
                before=before,
                after=after,
                request=request,
                prev_hash=previous.hash if previous else GENESIS,
            )
            digest = entry.body_hash()
            entry = entry.model_copy(update={"hash": digest, "seal": _seal(self._key, digest)})
            with self.path.open("ab") as out:
                out.write(json.dumps(entry.model_dump(mode="json"), sort_keys=True).encode())
                out.write(b"\n")
            head = f"{entry.seq} {digest}"
            self._head.write_text(f"{head} {_seal(self._key, head)}\n")
            return entry

    def entries(self) -> list[ChangeEntry]:
        return list(self._read())

    def request_used(self, signature: str) -> bool:
        return any(e.request is not None and e.request.signature == signature for e in self._read())

    def verify(self, policy: Policy | None) -> list[str]:
        """Every problem found (empty: intact). Policy None skips the actors' signatures."""
        problems: list[str] = []
        previous_hash, count = GENESIS, 0
        try:
            entries = list(self._read())
        except ChangeLogBroken as error:
            return [str(error)]
        for index, entry in enumerate(entries):
            count += 1
            where = f"entry {index} ({entry.action} {entry.target} by {entry.actor})"
            if entry.seq != index:
                problems.append(f"{where}: sequence {entry.seq}, expected {index} (moved/deleted)")
            if entry.prev_hash != previous_hash:
                problems.append(f"{where}: does not follow the entry before it")
            if entry.body_hash() != entry.hash:
                problems.append(f"{where}: content changed after it was written")
            if not hmac.compare_digest(_seal(self._key, entry.hash), entry.seal):
                problems.append(f"{where}: seal does not match (not written with the registry key)")
            if entry.request is not None and policy is not None:
                problems.extend(_request_problems(where, entry, policy))
            previous_hash = entry.hash
        problems.extend(self._head_problems(count, previous_hash))
        return problems

    def _head_problems(self, count: int, last_hash: str) -> list[str]:
        if count == 0 and not self._head.exists():
            return []
        try:
            seq, digest, seal = self._head.read_text().split()
        except (FileNotFoundError, ValueError):
            return ["the head file is missing or malformed"]
        if not hmac.compare_digest(_seal(self._key, f"{seq} {digest}"), seal):
            return ["the head file's seal does not match"]
        if int(seq) != count - 1 or digest != last_hash:
            return [f"the log ends at entry {count - 1}, the head says {seq}: entries deleted"]
        return []

    def _read(self) -> Iterator[ChangeEntry]:
        if not self.path.exists():
            return
        for number, line in enumerate(self.path.read_bytes().splitlines()):
            try:
                yield ChangeEntry.model_validate_json(line)
            except ValidationError as error:
                raise ChangeLogBroken(f"line {number + 1} is not a change entry: {error}") from None

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.with_suffix(".lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


def _request_problems(where: str, entry: ChangeEntry, policy: Policy) -> list[str]:
    request = entry.request
    assert request is not None
    actor = policy.actors.get(request.actor)
    if request.actor != entry.actor:
        return [f"{where}: the request was signed by {request.actor}, not {entry.actor}"]
    if actor is None:
        return [f"{where}: {request.actor} is not in the policy"]
    if not signature_valid(actor.public_key, request.payload(), request.signature):
        return [f"{where}: the embedded request is not signed by {request.actor}"]
    return []
