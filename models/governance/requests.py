"""A governed request: what an actor asks for, signed with the actor's private key.

The registry acts only on a request whose signature verifies against the actor's public key in
the policy, that is recent (replays of an old request are refused by the change log, which keeps
every accepted request's signature).
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import BaseModel, ConfigDict, Field

from models.governance.errors import RequestInvalid
from models.governance.keys import sign_bytes, signature_valid
from models.governance.policy import Policy
from models.package.store import canonical_json

MAX_REQUEST_AGE = timedelta(minutes=5)


class SignedRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    actor: str
    action: str
    target: str = Field(description="NAME:VERSION, or '-' for a rollback")
    details: dict[str, Any] = Field(default_factory=dict)
    reason: str = Field(min_length=1, max_length=1000)
    at: datetime
    nonce: str
    signature: str = ""

    def payload(self) -> bytes:
        return canonical_json(self.model_dump(mode="json", exclude={"signature"}))


def signed_request(
    key: Ed25519PrivateKey,
    actor: str,
    action: str,
    target: str,
    reason: str,
    details: dict[str, Any] | None = None,
) -> SignedRequest:
    unsigned = SignedRequest(
        actor=actor,
        action=action,
        target=target,
        details=details or {},
        reason=reason,
        at=datetime.now(UTC),
        nonce=secrets.token_hex(8),
    )
    return unsigned.model_copy(update={"signature": sign_bytes(key, unsigned.payload())})


def authenticate(request: SignedRequest, policy: Policy, now: datetime | None = None) -> None:
    """Raises RequestInvalid unless the actor signed exactly this request, recently."""
    actor = policy.actors.get(request.actor)
    if actor is None:
        raise RequestInvalid(f"actor {request.actor!r} is not in the policy file")
    if not signature_valid(actor.public_key, request.payload(), request.signature):
        raise RequestInvalid(f"the request's signature is not {request.actor}'s")
    age = (now or datetime.now(UTC)) - request.at
    if age > MAX_REQUEST_AGE or age < -MAX_REQUEST_AGE:
        raise RequestInvalid(f"the request was signed {age} ago: sign a fresh one")
