"""The policy file and signed requests: who may do what, and proof that they asked."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from models.governance.changelog import ChangeLog
from models.governance.errors import NotPermitted, PolicyInvalid, RequestInvalid
from models.governance.keys import load_private_key
from models.governance.policy import load_policy
from models.governance.requests import MAX_REQUEST_AGE, authenticate, signed_request
from models.registry import FileRegistryStore, Registry
from models.registry.errors import PlanInvalid
from tests.support.governance import key_path, request, write_policy

KEY = b"test-registry-key"


def test_roles_grant_their_permissions_and_nothing_else(policy_root: Path) -> None:
    policy = load_policy(policy_root / "registry" / "policy.toml")
    policy.require("alice", "register")
    policy.require("alice", "shadow")
    policy.require("carol", "promote")
    policy.require("dave", "approve")  # a second role adds its permissions
    with pytest.raises(NotPermitted, match=r"alice .* may not promote: .*release_manager"):
        policy.require("alice", "promote")
    with pytest.raises(NotPermitted, match="may not approve"):
        policy.require("carol", "approve")
    with pytest.raises(NotPermitted, match="'mallory' is not in the policy"):
        policy.require("mallory", "register")


def test_a_policy_with_an_unknown_permission_or_no_file_is_invalid(tmp_path: Path) -> None:
    with pytest.raises(PolicyInvalid, match="no policy file"):
        load_policy(tmp_path / "missing.toml")
    path = write_policy(tmp_path)
    path.write_text(path.read_text().replace('"rollback"', '"delete_everything"'))
    with pytest.raises(PolicyInvalid, match="unknown permissions"):
        load_policy(path)


def test_a_request_signed_by_its_actor_authenticates(policy_root: Path) -> None:
    policy = load_policy(policy_root / "registry" / "policy.toml")
    authenticate(request(policy_root, "carol", "promote", "m:1"), policy)


def test_a_request_signed_with_another_key_is_refused(policy_root: Path) -> None:
    policy = load_policy(policy_root / "registry" / "policy.toml")
    alice_key = load_private_key(key_path(policy_root, "alice"))
    forged = signed_request(alice_key, "carol", "promote", "m:1", "alice posing as carol")
    with pytest.raises(RequestInvalid, match="not carol's"):
        authenticate(forged, policy)


def test_a_request_changed_after_signing_is_refused(policy_root: Path) -> None:
    policy = load_policy(policy_root / "registry" / "policy.toml")
    signed = request(policy_root, "carol", "canary", "m:1", share=0.1)
    widened = signed.model_copy(update={"details": {"share": 0.9}})
    with pytest.raises(RequestInvalid, match="signature"):
        authenticate(widened, policy)


def test_a_request_older_than_five_minutes_is_refused(policy_root: Path) -> None:
    policy = load_policy(policy_root / "registry" / "policy.toml")
    signed = request(policy_root, "carol", "promote", "m:1")
    authenticate(signed, policy, now=signed.at + MAX_REQUEST_AGE)  # the limit itself: accepted
    with pytest.raises(RequestInvalid, match="sign a fresh one"):
        authenticate(signed, policy, now=signed.at + MAX_REQUEST_AGE + timedelta(seconds=1))
    with pytest.raises(RequestInvalid, match="sign a fresh one"):  # dated in the future
        authenticate(signed, policy, now=signed.at - MAX_REQUEST_AGE - timedelta(seconds=1))


def test_a_replayed_request_is_refused_and_both_are_logged(
    policy_root: Path, tmp_path: Path
) -> None:
    changelog = ChangeLog(tmp_path / "changelog.jsonl", KEY)
    registry = Registry(
        FileRegistryStore(tmp_path / "index"),
        tmp_path / "packages",
        load_policy(policy_root / "registry" / "policy.toml"),
        changelog,
        KEY,
        lambda plan: None,
    )
    signed = request(policy_root, "carol", "rollback", "-")
    with pytest.raises(PlanInvalid):  # accepted as carol's, refused on its merits
        registry.handle(signed)
    with pytest.raises(RequestInvalid, match="used already"):
        registry.handle(signed)
    reasons = [e.reason for e in changelog.entries()]
    assert [e.action for e in changelog.entries()] == ["refused", "refused"]
    assert "PlanInvalid" in reasons[0] and "used already" in reasons[1]
