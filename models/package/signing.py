"""HMAC-SHA256 over the manifest bytes; the manifest holds every file's sha256.

HMAC (a shared secret) rather than Ed25519 keeps the dependency list short; it means whoever can
verify can also sign, so the key belongs to the registry and the workers only.
"""

from __future__ import annotations

import hashlib
import hmac

from schemas.model_package import PackageSignature


def key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:16]


def sign(manifest_bytes: bytes, key: bytes) -> PackageSignature:
    return PackageSignature(
        key_id=key_id(key),
        manifest_sha256=hashlib.sha256(manifest_bytes).hexdigest(),
        signature=hmac.new(key, manifest_bytes, hashlib.sha256).hexdigest(),
    )


def signature_matches(manifest_bytes: bytes, signature: PackageSignature, key: bytes) -> bool:
    expected = hmac.new(key, manifest_bytes, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature.signature)
