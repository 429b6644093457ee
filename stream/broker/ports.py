"""Choosing ports for a broker and checking that they are free before the JVM tries them."""

from __future__ import annotations

import contextlib
import socket

from stream.broker.errors import PortInUseError

LOOPBACK = "127.0.0.1"


def free_ports(count: int, host: str = LOOPBACK) -> list[int]:
    """Return `count` distinct ports the kernel reports free on `host` right now.

    All sockets stay open until every port is chosen, so the kernel cannot hand out one twice.
    Another process may still take a port before the caller binds it; the launcher's bind-failure
    detection covers that window.
    """
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind((host, 0))
        return [int(sock.getsockname()[1]) for sock in sockets]


def free_port(host: str = LOOPBACK) -> int:
    """Return one port that is free on `host` right now."""
    return free_ports(1, host)[0]


def port_is_free(port: int, host: str = LOOPBACK) -> bool:
    """Tell whether a server socket could bind `host:port` now.

    SO_REUSEADDR mirrors what the JVM sets on its server sockets, so a port whose old
    connections linger in TIME_WAIT counts as free, as it does for the broker.
    """
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def ensure_ports_free(ports: dict[str, int], host: str = LOOPBACK) -> None:
    """Raise PortInUseError naming every port in `ports` (role -> port) that is taken."""
    taken = [f"{role} port {port}" for role, port in ports.items() if not port_is_free(port, host)]
    if taken:
        raise PortInUseError(
            f"{' and '.join(taken)} on {host} already in use; stop whatever holds it "
            "or choose other ports (see `fraudstream broker up --help`)"
        )
