"""Errors of the monitor process."""

from __future__ import annotations


class MonitorError(Exception):
    """Root of every error raised by stream.monitor."""


class PublishFailed(MonitorError):
    """A drift report was not delivered; nothing was committed for its window."""


class ReportsUnreadable(MonitorError):
    """Drift reports could not be read from their topic or file."""
