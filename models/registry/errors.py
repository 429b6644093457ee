"""Why the registry refused something."""

from __future__ import annotations


class RegistryError(Exception):
    """Root of every registry failure."""


class UnknownPackage(RegistryError):
    """No registered package has that name and version (or content hash)."""


class GateFailed(RegistryError):
    """The package does not pass a promotion gate or does not fit the target profile."""


class PlanInvalid(RegistryError):
    """The change would leave no valid plan (a shadow with no champion, no earlier champion)."""
