"""A throwaway JupyterLab on 127.0.0.1 for the kernel-path browser tests.

It gets fresh config, data, runtime and IPython folders (nothing is written to the home
folder). It serves a folder the tests fill: copy a chapter there (never serve ``book/``
itself: autosave would write outputs into the committed notebook) or write a notebook of
the test's own. The tests share one Lab (the ``lab`` fixture, in tests/conftest.py) and one
page of it in Chromium (``lab_tab``): each test gets a folder of its own and opens its
notebook in a tab, as a reader opens a second notebook. When the test ends the tab is
closed as a reader closes it, and its kernel shut down; the page must raise no
error while it closes. Opening JupyterLab itself costs about 4 s of CPU, once per run.
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
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bookkit.paths import ROOT


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


def widget_notebook(chapter: str, call: str, folder: Path, *, prose: bool = False,
                    after: tuple[dict, ...] = ()) -> Path:
    """A notebook in ``folder`` named as ``book/<chapter>`` whose code is only what its
    widget needs: the widget cell (the first code cell with ``call``), then ``after``.

    The widget's setup is found by reading the code, as the course finds an exercise's
    (:func:`bookkit.course.needed_cells`), and trimmed as the course trims it: statements
    that only show something, or compute what nothing kept reads, and unused imports go.
    The rest of the chapter (its plots, derivations, trained models) changes nothing the
    widget shows, and the build and nbval run it in full. With ``prose`` every Markdown
    cell stays where the chapter has it (what jupyterlab-myst renders), else the title
    cell only. The book's ``images/`` come along.
    """
    from bookkit.anatomy import cell_text, names_used
    from bookkit.course import needed_cells, trim_setup

    notebook = json.loads((ROOT / "book" / chapter).read_text())
    cells = notebook["cells"]
    at = next(i for i, c in enumerate(cells) if c["cell_type"] == "code" and call in cell_text(c))
    setup = needed_cells(cells[:at], names_used(cell_text(cells[at])))
    assert setup, f"{call} needs no earlier cell of {chapter}: the chapter changed shape"
    code = {i: dict(cells[i], outputs=[], execution_count=None) for i in [*setup, at]}
    trim_setup([code[i] for i in setup], [cell_text(c) for c in [code[at], *after]])
    kept = [code.get(i, c) for i, c in enumerate(cells)
            if i in code or c["cell_type"] == "markdown" and (prose or i == 0)]
    notebook["cells"] = [*kept, *after]
    work = copy_chapter(chapter, folder)
    work.write_text(json.dumps(notebook))
    return work


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
            # its kernels on local sockets, not TCP ports another process can take first
            "--KernelManager.transport=ipc", f"--KernelManager.ip={tmp / 'kernel'}",
        ],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{base}/api/status?token={token}", proc, 180, "JupyterLab", tmp / "lab.log")
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

    def url(self, workspace: str) -> str:
        """JupyterLab in a workspace of its own (so no tab of another run comes back)."""
        return f"{self.base}/lab/workspaces/{workspace}?token={self.token}"

    def path(self, notebook: Path) -> str:
        """``notebook``'s path as JupyterLab names it (relative to ``root``)."""
        return notebook.relative_to(self.root).as_posix()

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


#: jupyterlab-myst 2.7 renders Markdown cells with its own widget; JupyterLab 4.6's cell
#: toolbar then fails to measure them (a TypeError in ``_markdownOverlapsToolbar``). The
#: toolbar is cosmetic and still works; only that one upstream error, known by its stack,
#: is let through.
TOOLBAR_OVERLAP = "_markdownOverlapsToolbar"


#: jupyterlab-myst 2.7 renders a Markdown cell asynchronously and, when the render ends,
#: puts it into the cell's input area. A render still running when its notebook closes ends
#: on a disposed cell, whose input area is gone (JupyterLab sets it to null on dispose, and
#: only then: a cell not yet laid out is skipped, as a placeholder, before any render), and
#: logs this. It can arrive after the next test has opened its notebook; it says nothing
#: about that one.
CLOSED_CELL_RENDER = "Failed to render TypeError: Cannot read properties of null (reading 'renderInput')"


def lab_errors(tab: LabTab) -> list[str]:
    """The tab's problems, but for two that a chapter in JupyterLab always has.

    jupyterlab-myst renders one notebook at a time, so a reference to another chapter
    ({doc}, {ref}) has no target there; it logs that as a console error. And the cell
    toolbar's measuring error above, known by its stack.
    """
    known = {f"uncaught exception: {e.message}" for e in tab.errors
             if TOOLBAR_OVERLAP in (e.stack or "")}
    return [e for e in tab.problems()
            if "favicon" not in e and "Cross reference target was not found" not in e
            and e not in known]


# The notebook JupyterLab shows is ``path``, in the page, and its tab is the current one.
SHOWS = """path => {
  const w = window.jupyterapp.shell.currentWidget;
  return w && w.context && w.context.path === path && w.isVisible && w.content
    && w.content.widgets.length > 0 && w.node.isConnected;
}"""

# Close the tab of ``path`` as a reader does, discarding its outputs (the Discard of
# JupyterLab's "Save your work" dialog); returns how many notebook tabs are left.
#
# First the notebook scrolls to its active cell. Run All leaves that cell at the end and,
# in JupyterLab 4.6, asks the notebook to scroll there and then to take the focus
# (NotebookActions' handleRunState). Until the windowed notebook has laid that cell out the
# request waits; a notebook closed before then is handed the focus after its disposal, and
# JupyterLab throws "Cannot read properties of null (reading 'footer')" from
# Notebook._ensureFocus. Scrolling there lets the request finish while the notebook lives.
CLOSE = """async path => {
  const w = [...window.jupyterapp.shell.widgets('main')]
    .find(w => w.context && w.context.path === path);
  const idle = () => new Promise(r => requestIdleCallback(() => r(), {timeout: 2000}));
  if (w) {
    const nb = w.content;
    await nb.scrollToItem(nb.activeCellIndex);
    await idle();
    await idle();
    w.context.model.dirty = false;
    const gone = new Promise(resolve => w.disposed.connect(() => resolve()));
    w.close();
    await gone;
  }
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  return document.querySelectorAll('.jp-NotebookPanel').length;
}"""


@dataclass
class LabTab:
    """The run's JupyterLab page, for one test: its log and uncaught errors are the test's own."""

    page: object
    log: object  # browser.PageLog, emptied when the test begins
    lab: Lab
    errors: list = field(default_factory=list)  # uncaught errors, with their stacks
    opened: list = field(default_factory=list)

    def open(self, notebook: Path, width: int = 1400, height: int = 1000):
        """Open ``notebook`` (under the Lab's root) in a tab at this window size; the page."""
        self.page.set_viewport_size({"width": width, "height": height})
        path = self.lab.path(notebook)
        self.page.evaluate(
            "p => { window.jupyterapp.commands.execute('docmanager:open', {path: p}); }", path)
        self.page.wait_for_function(SHOWS, arg=path)
        self.opened.append(path)
        return self.page

    def problems(self) -> list[str]:
        """What the page logged since the test began, but for an earlier notebook's renders."""
        return [p for p in self.log.problems()
                if not (p.startswith(f"console error: {CLOSED_CELL_RENDER}")
                        and "onRenderedChanged" in p)]

    def close(self) -> list[str]:
        """Close this test's tabs (see ``CLOSE``); the problems the page had while they closed."""
        before = Counter(lab_errors(self))
        for path in reversed(self.opened):
            left = self.page.evaluate(CLOSE, path)
            assert left == 0, f"{left} notebook tabs still open after closing {path}"
        self.opened.clear()
        return list((Counter(lab_errors(self)) - before).elements())


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


def run_all_until(page, selector: str):
    """Run All Cells once the session's kernel is connected and idle; ``selector``'s locator.

    Run All is issued once. Issued before the session had its kernel it used to be lost, so
    it waits for the kernel itself (``KERNEL_IDLE``), not for the toolbar's word. Its promise
    is not handed back to Playwright: Chromium holds a promise it is asked to await only
    weakly, and Run All's, pending for seconds on a busy machine, was once collected before
    it settled ("Page.evaluate: Resulting promise was garbage collected", in a run with three
    workers). What the test reads is ``selector``, which it waits for.
    """
    page.wait_for_function(KERNEL_IDLE)
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
    found = page.locator(selector).first
    found.wait_for()
    return found
