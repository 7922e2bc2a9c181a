"""How ``make test`` runs the book's notebooks with nbval: a plugin tests/conftest.py registers.

nbval runs every chapter cell by cell in a fresh kernel, one chapter to one worker, and fails
the cell that raises. That run is also the build's: every message the kernel sends for a cell
is handed to nbclient's own message handling (what the build's executor uses), so the chapter
comes out exactly as ``jupyter-book`` would have executed it, its outputs, its widget state
and all; a chapter whose every cell passed is stored in the build's jupyter-cache, and the
build (started early by tests/conftest.py, waiting for these runs) finds every chapter
there and executes none again. Before, the build and nbval each executed every chapter, a
fifth of the suite's CPU.

Each checker cell must also say "Right!" once per check it makes: the build does not fail
on a solution that prints "Not quite right" (it raises nothing for an answer left at its
placeholder, either), so that is checked here. That the solutions are right with any
student's numbers, not only the book's, is checked by the graded class
(tests/class/test_grading.py: Ada's submission, with her own numbers, scores every point).

A plugin, not hooks in tests/conftest.py: a conftest.py applies only to the folder it is in,
and nbval's items are under book/.
"""

from __future__ import annotations

import contextlib
import copy
import fcntl
import functools
import json
import os
import time
from pathlib import Path

import pytest

#: Where a run started by ``make test`` says which chapters nbval will run (``expected``, one
#: stem per line, written once the workers have collected) and which it has run (``ran/<stem>``:
#: ``cached``, or ``failed``). The early build waits for them (tests/conftest.py).
RUNS = "BACKPROP_BOOK_NBVAL_RUNS"
#: The jupyter-cache the runs go to: the build's, unless this names another (a test's).
CACHE_AT = "BACKPROP_BOOK_NBVAL_CACHE"


def _is_nbval_cell(item: pytest.Item) -> bool:
    return type(item).__name__ == "IPyNbCell"


def pytest_configure(config: pytest.Config) -> None:
    """Let every iopub message nbval reads for a chapter be seen here too."""
    from nbval.plugin import IPyNbFile

    if getattr(IPyNbFile.get_kernel_message, "bp_recording", False):
        return
    read = IPyNbFile.get_kernel_message

    def get_kernel_message(self, timeout=None, stream="iopub"):
        msg = read(self, timeout=timeout, stream=stream)
        if stream == "iopub":
            self.__dict__.setdefault("bp_messages", []).append(msg)
        return msg

    get_kernel_message.bp_recording = True
    IPyNbFile.get_kernel_message = get_kernel_message


def pytest_itemcollected(item: pytest.Item) -> None:
    """nbval's cells of one notebook run in one kernel, in order: one worker runs them all."""
    if _is_nbval_cell(item):
        item.add_marker(pytest.mark.xdist_group("nbval " + item.nodeid.split("::")[0]))


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each chapter's last cell that will run; tell the early build what to wait for."""
    last = {}
    for item in items:
        if _is_nbval_cell(item):
            last[item.parent] = item
    for notebook, item in last.items():
        notebook.bp_last = item
    folder = os.environ.get(RUNS)
    if folder and hasattr(config, "workerinput"):  # every worker collects the same items
        stems = sorted(Path(str(nb.path)).stem for nb in last)
        tmp = Path(folder) / f"expected.{config.workerinput['workerid']}"
        tmp.write_text("".join(f"{s}\n" for s in stems))
        tmp.replace(Path(folder) / "expected")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item):
    """The first cell's setup starts the chapter's kernel: the run's record starts with it."""
    notebook = item.parent
    if _is_nbval_cell(item) and not hasattr(notebook, "bp_run"):
        notebook.bp_run = {"start": time.perf_counter(), "failed": False, "client": None}
    return (yield)


@functools.lru_cache
def checker_cells(path: Path) -> dict[str, int]:
    """A chapter's checker cells, found as the handouts find them: cell id -> checks made."""
    from bookkit.handouts import CHECK_TAG, make_handout

    text = path.read_text()
    if "{solution-start}" not in text:
        return {}
    cells = make_handout(json.loads(text), f"book/{path.stem}").notebook["cells"]
    return {c["id"]: max(1, "".join(c["source"]).count(".check_"))
            for c in cells if CHECK_TAG in c["metadata"].get("tags", [])}


def _text(outputs) -> str:
    return "\n".join(str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", ""))
                     for o in outputs or [])


def _client(notebook):
    """The chapter as the build would execute it: a copy of the file nbval read, and an
    nbclient client whose message handling fills it in."""
    from nbclient import NotebookClient

    run = notebook.bp_run
    if run["client"] is None:
        nb = copy.deepcopy(notebook.nb)
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        run["client"] = NotebookClient(nb, kernel_name="python3", record_timing=False)
    return run["client"]


def _record(item: pytest.Item) -> None:
    """Hand the messages nbval read for this cell to nbclient, into the chapter's copy."""
    from nbclient.exceptions import CellExecutionComplete

    notebook = item.parent
    messages, notebook.bp_messages = notebook.__dict__.get("bp_messages", []), []
    client = _client(notebook)
    index = next(i for i, cell in enumerate(notebook.nb.cells) if cell is item.cell)
    cell = client.nb.cells[index]
    if not cell.source.strip():  # nbclient does not send an empty cell to the kernel
        return
    started = [m["parent_header"].get("msg_id") for m in messages
               if m["msg_type"] == "execute_input"]
    if len(started) != 1:
        raise RuntimeError(f"{notebook.name}, cell {index}: expected one execute_input among "
                           f"the messages nbval read, found {len(started)}")
    cell.outputs, client.clear_before_next_output = [], False  # as nbclient starts a cell
    for msg in messages:
        if msg["parent_header"].get("msg_id") == started[0]:
            with contextlib.suppress(CellExecutionComplete):
                client.process_message(msg, cell, index)
    # nbval runs a cell without storing it in the kernel's history, so the kernel does not
    # count it: number it as the build's run does
    notebook.bp_run["count"] = count = notebook.bp_run.get("count", 0) + 1
    cell.execution_count = count
    for output in cell.outputs:
        if output.output_type == "execute_result":
            output.execution_count = count


def _store(notebook) -> str:
    """Put a chapter whose every cell passed into the build's cache; say what was done."""
    from ipykernel.ipkernel import IPythonKernel
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    from bookkit import build

    cache = Path(os.environ.get(CACHE_AT, build.CACHE))
    run = getattr(notebook, "bp_run", None)
    if run is None or run["failed"] or run["client"] is None:
        return "failed"
    client = run["client"]
    client.set_widgets_metadata()
    client.nb.metadata["language_info"] = dict(IPythonKernel.language_info)
    seconds = time.perf_counter() - run["start"]
    cache.parent.mkdir(parents=True, exist_ok=True)
    with open(cache.parent / ".jupyter_cache.lock", "w") as lock:  # both workers write
        fcntl.flock(lock, fcntl.LOCK_EX)
        get_cache(str(cache)).cache_notebook_bundle(
            CacheBundleIn(client.nb, str(notebook.path), data={"execution_seconds": seconds, "run_by": "nbval"}),
            check_validity=False, overwrite=True)
    return "cached"


def _done(notebook) -> None:
    said = _store(notebook)
    folder = os.environ.get(RUNS)
    if folder:
        ran = Path(folder) / "ran"
        ran.mkdir(exist_ok=True)
        (ran / Path(str(notebook.path)).stem).write_text(said + "\n")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    """Record the cell's run; a checker cell must say "Right!" once for each check it makes."""
    result = yield
    if _is_nbval_cell(item):
        _record(item)
        checks = checker_cells(Path(item.parent.path)).get(item.cell.get("id"), 0)
        said = _text(item.test_outputs)
        if checks and (said.count("Right!") < checks or "Not done yet" in said):
            pytest.fail(f"{item.parent.name}: a checker cell did not say Right! {checks}"
                        f" time(s); it said:\n{said}", pytrace=False)
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call):
    """A chapter with a cell that did not pass (failed, skipped, or not set up) is not
    stored: the build then runs it itself, and fails where nbval did."""
    report = yield
    if _is_nbval_cell(item) and not report.passed and hasattr(item.parent, "bp_run"):
        item.parent.bp_run["failed"] = True
    return report


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem):
    """After the chapter's last cell, store the chapter for the build (or say it failed)."""
    if _is_nbval_cell(item) and getattr(item.parent, "bp_last", None) is item:
        _done(item.parent)
    return (yield)
