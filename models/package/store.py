"""A package on disk: manifest.json + signature.json + the files the manifest lists."""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
from pydantic import ValidationError

from models.package.errors import (
    FileTampered,
    ManifestInvalid,
    PackageMissingFile,
    PackageUnsigned,
    SignatureInvalid,
)
from models.package.signing import key_id, sign, signature_matches
from schemas.model_package import ModelManifest, PackageSignature

MANIFEST_FILE = "manifest.json"
SIGNATURE_FILE = "signature.json"
MODEL_FILE = "model.joblib"


def canonical_json(payload: Any) -> bytes:
    """One byte form per value: sorted keys, fixed separators, UTF-8."""
    return json.dumps(payload, sort_keys=True, indent=1, ensure_ascii=False).encode() + b"\n"


def write_package(
    directory: Path, manifest: ModelManifest, files: dict[str, bytes], key: bytes
) -> ModelManifest:
    """Write the files, record their hashes in the manifest, write and sign it."""
    directory.mkdir(parents=True, exist_ok=False)
    digests = {}
    for relative, content in sorted(files.items()):
        target = directory / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        digests[relative] = hashlib.sha256(content).hexdigest()
    final = manifest.model_copy(update={"files": digests})
    manifest_bytes = canonical_json(final.model_dump(mode="json"))
    (directory / MANIFEST_FILE).write_bytes(manifest_bytes)
    signature = sign(manifest_bytes, key)
    (directory / SIGNATURE_FILE).write_bytes(canonical_json(signature.model_dump(mode="json")))
    return final


@dataclass(frozen=True)
class VerifiedPackage:
    """A package whose signature and file hashes were checked; `files` are the checked bytes."""

    directory: Path
    manifest: ModelManifest
    files: dict[str, bytes]

    @property
    def content_hash(self) -> str:
        return self.manifest.content_hash


def read_manifest_unverified(directory: Path) -> ModelManifest:
    """For display only (`show`); never use it to decide what to load."""
    return _parse_manifest(directory, _read(directory / MANIFEST_FILE, ManifestInvalid))


def verify_package(directory: Path, key: bytes) -> VerifiedPackage:
    """Check the signature, then every file's hash; return the verified bytes."""
    manifest_bytes = _read(directory / MANIFEST_FILE, ManifestInvalid)
    signature_bytes = _read(directory / SIGNATURE_FILE, PackageUnsigned)
    try:
        signature = PackageSignature.model_validate_json(signature_bytes)
    except ValidationError as error:
        raise SignatureInvalid(
            f"{directory / SIGNATURE_FILE} is not a signature: {error}"
        ) from None
    if signature.key_id != key_id(key):
        raise SignatureInvalid(
            f"{directory} was signed with key {signature.key_id}, not the configured key "
            f"{key_id(key)}; set FRAUD_SIGNING_KEY to the registry's key"
        )
    if not signature_matches(manifest_bytes, signature, key):
        raise SignatureInvalid(f"{directory / MANIFEST_FILE} was changed after it was signed")
    manifest = _parse_manifest(directory, manifest_bytes)
    files: dict[str, bytes] = {}
    for relative, expected in manifest.files.items():
        content = _read(directory / relative, PackageMissingFile)
        actual = hashlib.sha256(content).hexdigest()
        if actual != expected:
            raise FileTampered(
                f"{directory / relative} has sha256 {actual}, the signed manifest says {expected}"
            )
        files[relative] = content
    return VerifiedPackage(directory, manifest, files)


def load_model(package: VerifiedPackage) -> Any:
    """Unpickle the model from the bytes that were verified (not from the file again)."""
    return joblib.load(io.BytesIO(package.files[MODEL_FILE]))


def _read(path: Path, missing: type[Exception]) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise missing(f"{path} is missing") from None


def _parse_manifest(directory: Path, manifest_bytes: bytes) -> ModelManifest:
    try:
        return ModelManifest.model_validate_json(manifest_bytes)
    except ValidationError as error:
        raise ManifestInvalid(
            f"{directory / MANIFEST_FILE} is not a valid manifest: {error}"
        ) from None
