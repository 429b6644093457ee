"""The change log: appended, verified, and every kind of tampering caught with the entry named."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from models.governance.changelog import ChangeLog
from models.governance.policy import Policy, load_policy
from tests.support.governance import request

KEY = b"test-registry-key"


@pytest.fixture
def policy(policy_root: Path) -> Policy:
    return load_policy(policy_root / "registry" / "policy.toml")


def _written(root: Path, path: Path) -> ChangeLog:
    """Four entries: register, approve, promote (each on a signed request), a worker's refusal."""
    changelog = ChangeLog(path, KEY)
    for actor, action in (("alice", "register"), ("bob", "approve"), ("carol", "promote")):
        signed = request(root, actor, action, "m:1")
        changelog.append(actor, action, "m:1", signed.reason, after={"n": 1}, request=signed)
    changelog.append("worker:w1", "plan_refused", "plan 2", "target_profile: too slow")
    return changelog


def _rewrite(changelog: ChangeLog, edit: Callable[[list[str]], list[str]]) -> None:
    lines = changelog.path.read_text().splitlines()
    changelog.path.write_text("\n".join(edit(lines)) + "\n")


def test_appended_entries_chain_and_verify(
    policy_root: Path, policy: Policy, tmp_path: Path
) -> None:
    changelog = _written(policy_root, tmp_path / "changelog.jsonl")
    entries = changelog.entries()
    assert [e.seq for e in entries] == [0, 1, 2, 3]
    assert [e.prev_hash for e in entries[1:]] == [e.hash for e in entries[:-1]]
    assert changelog.verify(policy) == []
    assert changelog.request_used(entries[1].request.signature)  # type: ignore[union-attr]


def test_an_edited_entry_is_named(policy_root: Path, policy: Policy, tmp_path: Path) -> None:
    changelog = _written(policy_root, tmp_path / "changelog.jsonl")
    _rewrite(changelog, lambda lines: [*lines[:1], lines[1].replace('"bob"', '"eve"'), *lines[2:]])
    problems = changelog.verify(policy)
    assert any(p.startswith("entry 1 (approve m:1 by eve): content changed") for p in problems)


def test_an_edit_with_recomputed_hashes_still_fails_the_seal(
    policy_root: Path, policy: Policy, tmp_path: Path
) -> None:
    """Whoever lacks the registry key can recompute the chain but not its seals."""
    written = _written(policy_root, tmp_path / "changelog.jsonl")
    forged = ChangeLog(tmp_path / "forged.jsonl", b"another key")
    for entry in written.entries():
        reason = "approved, honest" if entry.seq == 1 else entry.reason
        forged.append(entry.actor, entry.action, entry.target, reason, request=entry.request)
    written.path.write_bytes(forged.path.read_bytes())
    problems = written.verify(policy)
    assert any(p.startswith("entry 1 (approve m:1 by bob): seal does not match") for p in problems)


def test_a_deleted_entry_is_named(policy_root: Path, policy: Policy, tmp_path: Path) -> None:
    changelog = _written(policy_root, tmp_path / "changelog.jsonl")
    _rewrite(changelog, lambda lines: [lines[0], *lines[2:]])
    problems = changelog.verify(policy)
    assert any("entry 1 (promote m:1 by carol): sequence 2, expected 1" in p for p in problems)
    assert any("entry 1 (promote m:1 by carol): does not follow" in p for p in problems)


def test_reordered_entries_are_named(policy_root: Path, policy: Policy, tmp_path: Path) -> None:
    changelog = _written(policy_root, tmp_path / "changelog.jsonl")
    _rewrite(changelog, lambda lines: [lines[0], lines[2], lines[1], lines[3]])
    problems = changelog.verify(policy)
    assert any(p.startswith("entry 1 (promote m:1 by carol): sequence 2") for p in problems)
    assert any(p.startswith("entry 2 (approve m:1 by bob): sequence 1") for p in problems)


def test_a_deleted_tail_is_caught_by_the_head(
    policy_root: Path, policy: Policy, tmp_path: Path
) -> None:
    changelog = _written(policy_root, tmp_path / "changelog.jsonl")
    _rewrite(changelog, lambda lines: lines[:2])
    assert changelog.verify(policy) == ["the log ends at entry 1, the head says 3: entries deleted"]


def test_an_embedded_request_that_its_actor_did_not_sign_is_named(
    policy_root: Path, policy: Policy, tmp_path: Path
) -> None:
    """Even the registry key holder cannot put a request in an actor's mouth."""
    changelog = ChangeLog(tmp_path / "changelog.jsonl", KEY)
    signed = request(policy_root, "alice", "register", "m:1")
    altered = signed.model_copy(update={"reason": "bob said so"})
    changelog.append("alice", "register", "m:1", altered.reason, request=altered)
    assert changelog.verify(policy) == [
        "entry 0 (register m:1 by alice): the embedded request is not signed by alice"
    ]


def test_a_line_that_is_not_an_entry_is_reported(tmp_path: Path, policy: Policy) -> None:
    changelog = ChangeLog(tmp_path / "changelog.jsonl", KEY)
    changelog.append("alice", "register", "m:1", "first")
    with changelog.path.open("a") as out:
        out.write(json.dumps({"seq": 1}) + "\n")
    (problem,) = changelog.verify(policy)
    assert problem.startswith("line 2 is not a change entry")
