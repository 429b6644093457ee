"""Errors of the drift monitor's statistics and state."""

from __future__ import annotations


class DriftError(Exception):
    """Root of every error raised by models.drift."""


class ReferenceMismatch(DriftError):
    """The reference (a package's profile) does not fit what is being compared with it."""
