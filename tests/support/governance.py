"""A governance policy with generated actor keys, and signed requests from those actors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from models.governance.changelog import ChangeLog
from models.governance.keys import generate_key, load_private_key, public_key_text
from models.governance.policy import load_policy
from models.governance.requests import SignedRequest, signed_request
from models.registry import FileRegistryStore, Registry
from schemas import ModelControl

ROLES = {
    "data_scientist": ["register", "shadow"],
    "approver": ["approve"],
    "release_manager": ["canary", "promote", "rollback"],
}
# dave both builds and approves: the case "nobody approves their own package" is about.
ACTORS = {
    "alice": ["data_scientist"],
    "bob": ["approver"],
    "carol": ["release_manager"],
    "dave": ["data_scientist", "approver"],
}


def key_path(root: Path, actor: str) -> Path:
    return root / "keys" / f"{actor}.pem"


# Any PR-AUC drop allowed: test builds on small data differ by noise, not by merit.
GATES_OFF = "[gates]\nmax_pr_auc_drop = 1.0"


def write_policy(root: Path, extra: str = GATES_OFF) -> Path:
    """root/registry/policy.toml with ROLES and ACTORS (keys under root/keys), plus `extra`."""
    lines = ["[roles]", *(f"{role} = {grants!r}" for role, grants in ROLES.items())]
    for actor, roles in ACTORS.items():
        key_file = key_path(root, actor)
        if not key_file.exists():
            generate_key(key_file)
        public = public_key_text(load_private_key(key_file))
        lines += [f"[actors.{actor}]", f"roles = {roles!r}", f'public_key = "{public}"']
    path = root / "registry" / "policy.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([*lines, extra]).replace("'", '"') + "\n")
    return path


def request(root: Path, actor: str, action: str, target: str, **details: Any) -> SignedRequest:
    key = load_private_key(key_path(root, actor))
    return signed_request(key, actor, action, target, f"test {action}", details)


def ask(
    registry: Registry, root: Path, actor: str, action: str, target: str, **details: Any
) -> str:
    return registry.handle(request(root, actor, action, target, **details))


def file_registry(
    var: Path, key: bytes, publish: Callable[[ModelControl], None], policy_extra: str = GATES_OFF
) -> Registry:
    """A registry on the embedded store under var/registry, governed by write_policy(var)."""
    return Registry(
        FileRegistryStore(var / "registry" / "index"),
        var / "registry" / "packages",
        load_policy(write_policy(var, policy_extra)),
        ChangeLog(var / "registry" / "changelog.jsonl", key),
        key,
        publish,
    )
