"""Model packages: write, sign, verify and load. Nothing is unpickled before it is verified."""

from models.package.errors import (
    FileTampered,
    ManifestInvalid,
    PackageError,
    PackageMissingFile,
    PackageUnsigned,
    SignatureInvalid,
)
from models.package.store import (
    MODEL_FILE,
    VerifiedPackage,
    load_model,
    read_manifest_unverified,
    verify_package,
    write_package,
)

__all__ = [
    "MODEL_FILE",
    "FileTampered",
    "ManifestInvalid",
    "PackageError",
    "PackageMissingFile",
    "PackageUnsigned",
    "SignatureInvalid",
    "VerifiedPackage",
    "load_model",
    "read_manifest_unverified",
    "verify_package",
    "write_package",
]
