"""The governance policy file (TOML): roles and their permissions, actors with their roles and
public keys, the promotion gates and the target profile workers must fit.

    [roles]
    data_scientist = ["register", "shadow"]
    approver = ["approve"]
    release_manager = ["canary", "promote", "rollback"]

    [actors.alice]
    roles = ["data_scientist"]
    public_key = "<base64 Ed25519 public key>"

    [gates]               # test metrics of the candidate's manifest
    min_test_pr_auc = 0.2
    max_pr_auc_drop = 0.02   # against the champion, on the same test set

    [target]              # what the deployment target can run
    max_memory_bytes = 200_000_000
    max_latency_us_per_event = 200.0
    latency_batch_size = 64
    libraries = { "scikit-learn" = "1.7" }   # version prefixes the build must match
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from models.governance.errors import NotPermitted, PolicyInvalid

ACTIONS = ("register", "shadow", "canary", "promote", "rollback", "approve")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Actor(_Strict):
    roles: list[str] = Field(min_length=1)
    public_key: str = Field(min_length=40, max_length=60)


class Gates(_Strict):
    min_test_pr_auc: float = Field(default=0.0, ge=0, le=1)
    min_test_roc_auc: float = Field(default=0.0, ge=0, le=1)
    max_pr_auc_drop: float = Field(default=0.0, ge=0, le=1)


class TargetProfile(_Strict):
    max_memory_bytes: int | None = Field(default=None, ge=1)
    max_latency_us_per_event: float | None = Field(default=None, gt=0)
    latency_batch_size: int = Field(default=64, ge=1)
    libraries: dict[str, str] = Field(default_factory=dict)


class Policy(_Strict):
    roles: dict[str, list[str]]
    actors: dict[str, Actor]
    gates: Gates = Gates()
    target: TargetProfile = TargetProfile()

    def actor(self, name: str) -> Actor:
        actor = self.actors.get(name)
        if actor is None:
            raise NotPermitted(f"actor {name!r} is not in the policy file")
        return actor

    def require(self, name: str, action: str) -> None:
        granted = {p for role in self.actor(name).roles for p in self.roles.get(role, [])}
        if action not in granted:
            raise NotPermitted(
                f"{name} (roles {', '.join(self.actor(name).roles)}) may not {action}: "
                f"the policy grants it to {', '.join(self.holders(action)) or 'nobody'}"
            )

    def holders(self, action: str) -> list[str]:
        return sorted(role for role, permissions in self.roles.items() if action in permissions)


def load_policy(path: Path) -> Policy:
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise PolicyInvalid(f"no policy file at {path}: write one (see README)") from None
    except tomllib.TOMLDecodeError as error:
        raise PolicyInvalid(f"{path}: {error}") from None
    try:
        policy = Policy.model_validate(data)
    except ValidationError as error:
        raise PolicyInvalid(f"{path}: {error}") from None
    unknown = {p for permissions in policy.roles.values() for p in permissions} - set(ACTIONS)
    if unknown:
        raise PolicyInvalid(f"{path}: unknown permissions {sorted(unknown)}; known: {ACTIONS}")
    return policy
