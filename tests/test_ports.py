"""course_lib.ports: free TCP ports chosen by the operating system."""

from __future__ import annotations

import socket

import pytest

from course_lib import distributed, serving
from course_lib.ports import LOOPBACK, free_port, free_ports


def test_free_ports_are_distinct_and_bindable():
    ports = free_ports(4)
    assert len(set(ports)) == 4 and all(isinstance(p, int) and 0 < p < 65536 for p in ports)
    for port in ports + [free_port()]:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((LOOPBACK, port))


@pytest.mark.parametrize("count, error", [(0, ValueError), (-2, ValueError), (2.0, TypeError), (True, TypeError)])
def test_free_ports_rejects_a_bad_count(count, error):
    with pytest.raises(error, match="count must be a positive integer"):
        free_ports(count)


def test_the_service_and_the_launcher_use_the_same_helpers():
    assert serving.free_port is free_port and distributed.free_ports is free_ports
