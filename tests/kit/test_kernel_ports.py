"""The test processes' kernels take their ports from blocks of their own (kernel_ports.py)."""

from __future__ import annotations

import json
import os
import socket

import nbformat
import pytest
from kernel_ports import block_for, ephemeral_low, picker
from nbclient import NotebookClient

PORTS = ("shell_port", "iopub_port", "stdin_port", "hb_port", "control_port")


def test_each_test_process_has_its_own_block_below_the_ephemeral_range():
    blocks = [block_for(None), block_for("gw0"), block_for("gw1"), block_for("gw7")]
    assert all(b.stop <= ephemeral_low() and b.start >= 1024 for b in blocks), blocks
    for i, a in enumerate(blocks):
        for b in blocks[i + 1:]:
            assert a.stop <= b.start or b.stop <= a.start, (a, b)


def free_window(ports: range, size: int = 3) -> range:
    """``size`` neighbouring ports of ``ports`` that bind now. Not simply the block's last
    three: a port a kernel of this process used a moment ago can wait in TIME_WAIT, and
    then binding it fails (this test once failed so, after a run of kernel tests)."""
    for start in range(ports.stop - size, ports.start - 1, -1):
        window, probes = range(start, start + size), []
        try:
            for port in window:
                probes.append(socket.socket())
                probes[-1].bind(("127.0.0.1", port))
            return window
        except OSError:
            continue
        finally:
            for probe in probes:
                probe.close()  # bound, never connected: free again at once
    raise RuntimeError(f"no {size} free neighbouring ports in {ports}")


def test_a_port_held_or_handed_out_is_skipped_and_a_full_block_says_so():
    three = free_window(block_for(os.environ.get("PYTEST_XDIST_WORKER")))
    used: set[int] = set()
    pick = picker(three, used, start=0)
    with socket.socket() as held:
        held.bind(("127.0.0.1", three[1]))  # someone else's
        assert [pick("127.0.0.1"), pick("127.0.0.1")] == [three[0], three[2]]
        assert used == {three[0], three[2]}
        with pytest.raises(RuntimeError, match=f"no free kernel port in {three[0]}-{three[2]}"):
            pick("127.0.0.1")


def test_a_kernel_started_here_binds_ports_of_this_process_block():
    """The kernel reports the ports it bound: five, each in this process's block."""
    ports = block_for(os.environ.get("PYTEST_XDIST_WORKER"))
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import json, ipykernel.connect as c\n"
        f"info = json.load(open(c.get_connection_file()))\nprint(json.dumps([info[k] for k in {PORTS!r}]))")])
    NotebookClient(nb, kernel_name="python3", timeout=120).execute()
    bound = json.loads(nb.cells[0].outputs[0]["text"])
    assert len(set(bound)) == 5 and all(p in ports for p in bound), (bound, ports)
