"""Why a governed change was refused. Each message says what to do next."""

from __future__ import annotations


class GovernanceError(Exception):
    """Root of every governance failure."""


class PolicyInvalid(GovernanceError):
    """The policy file is missing or malformed."""


class RequestInvalid(GovernanceError):
    """A request's signature does not verify, its actor is unknown, or it is stale or reused."""


class NotPermitted(GovernanceError):
    """The actor's roles do not grant the action, or an approval rule is not met."""


class ChangeLogBroken(GovernanceError):
    """The change log was edited, truncated or reordered."""
