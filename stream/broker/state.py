"""The record a detached broker leaves behind, so that a later command can find and stop it."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from stream.broker.errors import BrokerStateError
from stream.broker.launcher import BROKER_MAIN_CLASS
from stream.broker.process import pid_alive, pid_cmdline, terminate_pid


@dataclass(frozen=True)
class BrokerState:
    pid: int
    bootstrap: str
    port: int
    controller_port: int
    work_dir: str
    properties_path: str
    kafka_version: str
    started_at: str

    def is_running(self) -> bool:
        """True only if `pid` is alive AND is the kafka.Kafka JVM started with our properties.

        A pid from a state file may have been reused by an unrelated process since; that one
        must never be signalled.
        """
        if not pid_alive(self.pid):
            return False
        argv = pid_cmdline(self.pid)
        return argv is not None and BROKER_MAIN_CLASS in argv and self.properties_path in argv

    def stop(self, timeout: float = 30.0) -> bool:
        """Stop the recorded broker if it runs; True if it stopped on SIGTERM alone."""
        if not self.is_running():
            return True
        return terminate_pid(self.pid, timeout)


def write_state(path: Path, state: BrokerState) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_suffix(".tmp")
    scratch.write_text(json.dumps(asdict(state), indent=2) + "\n")
    scratch.replace(path)


def read_state(path: Path) -> BrokerState | None:
    """The recorded broker, or None if nothing was recorded."""
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise BrokerStateError(f"cannot read broker state {path}: {exc}") from exc
    try:
        return BrokerState(**raw)
    except TypeError as exc:
        raise BrokerStateError(f"broker state {path} has unexpected fields: {exc}") from exc


def clear_state(path: Path) -> None:
    path.unlink(missing_ok=True)
