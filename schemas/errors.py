"""Exceptions of the schemas package: one root, small typed subclasses."""

from __future__ import annotations

from schemas.categories import ErrorCategory


class SchemaError(Exception):
    """Root of every exception raised by the schemas package."""


class UpgradeError(SchemaError):
    """An older record version could not be turned into the current shape."""


class RecordRejected(SchemaError):
    """A record failed to decode; raised by `decode_record` (the stream edge returns a DeadLetter
    instead). Carries the same category and detail a dead letter would."""

    def __init__(self, category: ErrorCategory, detail: str, field: str | None = None) -> None:
        super().__init__(f"{category}: {detail}")
        self.category = category
        self.detail = detail
        self.field = field
