"""A throwaway JupyterLab on 127.0.0.1 for the kernel-path browser tests.

It gets fresh config, data, runtime and IPython folders (nothing is written to the home
folder). It serves a folder the tests fill: copy a chapter there (never serve ``book/``
itself: autosave would write outputs into the committed notebook) or write a notebook of
the test's own. The tests share one Lab (the ``lab`` fixture, in tests/conftest.py): each
gets a folder of its own, opens its notebook in a workspace of its own (so no tab of an
earlier test comes back), and its kernels are shut down when it ends.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from conftest import ROOT


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def copy_chapter(name: str, work: Path) -> Path:
    """Copy ``book/<name>`` into ``work`` (created) and return the copy.

    The book's ``images/`` come along: jupyterlab-myst shows the chapters' figures.
    """
    work.mkdir(parents=True, exist_ok=True)
    if not (work / "images").exists():
        shutil.copytree(ROOT / "book" / "images", work / "images")
    return Path(shutil.copy(ROOT / "book" / name, work / name))


def wait_until_up(url: str, proc: subprocess.Popen, seconds: float, what: str,
                  log: Path) -> None:
    """Poll ``url`` until it answers 200; fail with ``log`` if ``proc`` exits or time runs out."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start; its log:\n{log.read_text()}")
        time.sleep(0.3)


@contextmanager
def jupyter_lab(work: Path):
    """Yield ``(base_url, token)`` of a JupyterLab serving the folder ``work``.

    Its state folders and log go beside ``work``; the server is stopped by process group.
    ``window.jupyterapp`` is exposed so a test may run commands as a last resort.
    """
    tmp = work.parent
    env = dict(os.environ)
    for var in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        env[var] = str(tmp / var.lower())
    # The kernel must find the venv's own kernelspec, not one in a fresh data dir.
    env["JUPYTER_PATH"] = str(Path(sys.prefix) / "share" / "jupyter")
    port, token = _free_port(), secrets.token_hex(16)
    lab = Path(sys.executable).parent / "jupyter-lab"
    log = open(tmp / "lab.log", "w")
    proc = subprocess.Popen(
        [
            str(lab), "--no-browser", "--ip=127.0.0.1", f"--port={port}", "--allow-root",
            f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={work}",
            "--LabApp.news_url=", "--LabApp.expose_app_in_browser=True", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{base}/api/status?token={token}", proc, 60, "JupyterLab", tmp / "lab.log")
        yield base, token
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


@dataclass
class Lab:
    """A running JupyterLab: its address, its token and the folder it serves."""

    base: str
    token: str
    root: Path

    def url(self, notebook: Path) -> str:
        """Where ``notebook`` (under ``root``) opens, in a workspace named after its folder."""
        path = notebook.relative_to(self.root).as_posix()
        workspace = notebook.parent.name
        return f"{self.base}/lab/workspaces/{workspace}/tree/{path}?token={self.token}"

    def _api(self, method: str, path: str) -> bytes:
        request = urllib.request.Request(f"{self.base}/api/{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.read()

    def stop_kernels(self) -> None:
        """Shut down every session and kernel (a test's notebooks must not outlive it)."""
        for session in json.loads(self._api("GET", "sessions")):
            self._api("DELETE", f"sessions/{session['id']}")
        for kernel in json.loads(self._api("GET", "kernels")):
            self._api("DELETE", f"kernels/{kernel['id']}")


# The toolbar can show the kernel's name and "idle" before the session has its kernel; a
# Run All issued then fails with "Session has no kernel." So the session is asked too.
KERNEL_IDLE = """() => {
  const k = document.querySelector('.jp-NotebookPanel-toolbar .jp-Toolbar-kernelName');
  const s = document.querySelector('.jp-NotebookPanel-toolbar .jp-Notebook-ExecutionIndicator');
  const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const kernel = w && w.sessionContext && w.sessionContext.session
    && w.sessionContext.session.kernel;
  return k && k.textContent.trim() && !/No Kernel/.test(k.textContent)
    && s && /idle/i.test(s.getAttribute('data-status') || s.title || s.textContent)
    && kernel && kernel.connectionStatus === 'connected' && kernel.status === 'idle';
}"""


def run_all_until(page, selector: str, debug_folder: Path, attempts: int = 3, timeout_ms: int = 60_000):
    """Run All Cells once the kernel is idle, until ``selector`` appears; return its locator.

    A run issued while JupyterLab is still connecting the kernel can be lost, so the run is
    repeated (at most ``attempts`` times); a screenshot of each failed wait is kept.
    """
    for attempt in range(attempts):
        page.wait_for_function(KERNEL_IDLE, timeout=90_000)
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
        found = page.locator(selector).first
        try:
            found.wait_for(timeout=timeout_ms)
            return found
        except Exception:
            page.screenshot(path=str(debug_folder / f"lab-no-widget-{attempt}.png"))
    raise AssertionError(f"no {selector} after {attempts} runs; see {debug_folder}/lab-no-widget-*.png")
