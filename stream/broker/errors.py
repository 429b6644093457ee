"""What can go wrong when fetching, starting or stopping the local broker.

Every failure is a `BrokerError`, so a caller can catch the package's problems in one place;
the subclasses say which step failed, and their messages say what to do about it.
"""

from __future__ import annotations


class BrokerError(Exception):
    """Root of every error raised by stream.broker."""


class JavaNotFoundError(BrokerError):
    """No `java` executable is on the PATH."""


class JavaTooOldError(BrokerError):
    """The `java` found is older than the broker needs."""


class MavenNotFoundError(BrokerError):
    """The broker jars are not cached and there is no `mvn` to fetch them."""


class JarFetchError(BrokerError):
    """Maven ran but did not deliver the broker jars."""


class StorageFormatError(BrokerError):
    """kafka.tools.StorageTool could not create a cluster id or format the data directory."""


class PortInUseError(BrokerError):
    """A port the broker needs is already bound by another process."""


class BrokerExitedError(BrokerError):
    """The broker process ended while it was starting."""

    def __init__(self, message: str, exit_code: int, log_tail: str) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.log_tail = log_tail


class BrokerStartTimeoutError(BrokerError):
    """The broker process runs but did not answer a metadata request in time."""


class BrokerStateError(BrokerError):
    """The recorded state of a detached broker is missing, unreadable or stale."""
