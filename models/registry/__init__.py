"""The model registry: which verified packages exist, who approved what, and the plan history
behind the live deployment plan. Storage is behind `RegistryStore` (files under the var dir)."""

from models.registry.errors import GateFailed, RegistryError, UnknownPackage
from models.registry.service import Registry
from models.registry.store import FileRegistryStore, RegistryEntry, RegistryStore

__all__ = [
    "FileRegistryStore",
    "GateFailed",
    "Registry",
    "RegistryEntry",
    "RegistryError",
    "RegistryStore",
    "UnknownPackage",
]
