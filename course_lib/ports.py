"""Free TCP ports on this machine, chosen by the operating system.

The prediction service (:class:`course_lib.serving.ServiceProcess`) and the multi-worker
launcher (:func:`course_lib.distributed.launch_workers`) start processes that each need a port
nobody else is using; binding to port 0 lets the operating system pick one.
"""

from __future__ import annotations

import socket
from contextlib import ExitStack

from course_lib._validate import positive_int

__all__ = ["LOOPBACK", "free_port", "free_ports"]

#: The loopback address: a port bound there is reachable from this machine only.
LOOPBACK = "127.0.0.1"


def free_ports(count: int, host: str = LOOPBACK) -> list[int]:
    """``count`` distinct TCP ports on ``host`` that were free a moment ago.

    All sockets are held open until every port is chosen, so the ports differ; another program
    could still take one before the caller binds it, so a caller should be ready to retry.

    Raises:
        TypeError: ``count`` is not an integer.
        ValueError: ``count`` is below 1.
    """
    count = positive_int("count", count)
    with ExitStack() as stack:
        ports = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind((host, 0))
            ports.append(int(sock.getsockname()[1]))
    return ports


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port on ``host`` that was free a moment ago (see :func:`free_ports`)."""
    return free_ports(1, host)[0]
