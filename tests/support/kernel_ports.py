"""Kernel ports that no other process takes while a kernel starts.

jupyter_client picks a kernel's five TCP ports by binding port 0, reading the port the OS
gave and letting it go; it writes them into the connection file and starts the kernel,
which binds them. In between, any process may take one (jupyter_client issue 487): the OS
hands out ports from the same ephemeral range to every outgoing connection (Chromium's,
a server's, a test's) and to every other test process picking ports for its own kernels.
A run of the suite starts some 150 kernels; in one of them nbgrader's grading kernel died
at start with ``zmq.error.ZMQError: Address already in use (addr='tcp://127.0.0.1:45651')``
("Kernel died before replying to kernel_info"), and seven graded-class tests failed.

:func:`use_private_kernel_ports` makes every kernel this test process starts
(nbval's, nbclient's, nbgrader's when it runs in the test process) take its ports from
below the ephemeral range (``/proc/sys/net/ipv4/ip_local_port_range``), where the OS never
hands out a port, from a block of its own per test process (pytest-xdist's worker number),
going round the block from a place set by the process id, each port checked free by
binding it before it is handed out. jupyter_client's own port cache
(``LocalPortCache.find_available_port``, which every locally started kernel goes through)
is where the ports are chosen; the rest of jupyter_client is unchanged. (nbgrader run
with the course's ``nbgrader_config.py``, in this process or as ``bookkit autograde
--jobs``, gives its kernels local sockets instead: no ports; so does the tests' JupyterLab,
lab_server.py.) Kernels the hub's servers start (tests/class/test_hub.py) still get theirs
from the OS.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

#: Ports per test process; the blocks lie just below the ephemeral range.
BLOCK = 2000
RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")


def ephemeral_low() -> int:
    """The lowest port the OS hands out for an unnamed bind or a connection."""
    try:
        return int(RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default


def block_for(worker: str | None) -> range:
    """The ports of a test process: ``worker`` is pytest-xdist's name (``gw0``) or None."""
    index = int(worker[2:]) + 1 if worker and worker.startswith("gw") else 0
    top = ephemeral_low() - index * BLOCK
    if top - BLOCK < 1024:
        raise RuntimeError(f"no private kernel ports below {ephemeral_low()} for {worker}")
    return range(top - BLOCK, top)


def picker(ports: range, used: set[int], start: int):
    """``find_available_port(ip)`` over ``ports``, going round from ``start``: the next port
    not in ``used`` (ports handed out and not yet returned) that binds; it joins ``used``."""
    state = {"next": start % len(ports)}

    def find_available_port(ip: str) -> int:
        for _ in range(len(ports)):
            port = ports[state["next"]]
            state["next"] = (state["next"] + 1) % len(ports)
            if port in used:
                continue
            with socket.socket() as probe:
                try:
                    probe.bind((ip, port))
                except OSError:
                    continue
            used.add(port)
            return port
        raise RuntimeError(f"no free kernel port in {ports.start}-{ports.stop - 1} on {ip}")

    return find_available_port


def use_private_kernel_ports(worker: str | None = None) -> range:
    """Make jupyter_client hand this process's kernels ports from its own block."""
    from jupyter_client.connect import LocalPortCache

    ports = block_for(worker)
    cache = LocalPortCache.instance()
    cache.find_available_port = picker(ports, cache.currently_used_ports, os.getpid())
    return ports
