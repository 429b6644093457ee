"""Errors of the dataset store: one root, small typed subclasses."""

from __future__ import annotations


class DatasetError(Exception):
    """Root of every dataset-store error."""


class DatasetNotFoundError(DatasetError):
    """No dataset (or split) with that id in the store."""


class DatasetIntegrityError(DatasetError):
    """A stored file's sha256 no longer matches its id: it was changed or damaged."""
