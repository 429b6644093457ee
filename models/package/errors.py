"""Why a package was refused. Each message says what to do next."""

from __future__ import annotations


class PackageError(Exception):
    """Root of every model-package failure."""


class ManifestInvalid(PackageError):
    """manifest.json is missing, not JSON, or not a valid ModelManifest."""


class PackageUnsigned(PackageError):
    """signature.json is missing: an unsigned package is never loaded."""


class SignatureInvalid(PackageError):
    """The signature does not match the manifest under the configured key."""


class PackageMissingFile(PackageError):
    """A file the manifest lists is not in the package."""


class FileTampered(PackageError):
    """A file's sha256 differs from the one the signed manifest records."""
