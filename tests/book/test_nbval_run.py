"""nbval's run of a chapter, stored for the build, is the chapter as the build would run it.

``make test`` executes each chapter once: nbval runs it cell by cell, and
tests/support/nbval_run.py hands every message the kernel sends to nbclient's own handling
(what the build's executor runs), into a copy of the chapter stored in the build's cache
(see that module). Here a small notebook with each kind of output a chapter makes (streams,
a display, ``clear_output(wait=True)``, a display updated from a later cell, an execution
result, an empty cell, a glued number, a widget) is run both ways: by nbval in a pytest of
its own, stored in a cache of this test's, and by nbclient as the build runs a chapter. The
two must be the same notebook: every output, every execution count, the widget's state.
And a notebook with a failing cell is not stored, so the build would run it itself.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import nbformat
import pytest
from jupyter_cache import get_cache
from nbclient import NotebookClient

from bookkit.paths import ROOT

CELLS = [
    'print("one")\nprint("two")',
    'from IPython.display import Markdown, clear_output, display\n'
    'display(Markdown("**shown**"))',
    'print("gone")\nclear_output(wait=True)\nprint("kept")',
    'handle = display("first", display_id=True)',
    'handle.update("second")',
    "",
    "1 + 1",
    'from myst_nb import glue\nglue("share", 0.25, display=False)',
    "from backprop_book.widgets import ChainNudge\nChainNudge()",
]


def notebook(cells: list[str]) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    return nb


def nbval(tmp_path, nb: nbformat.NotebookNode) -> tuple[subprocess.CompletedProcess, object]:
    """Run ``nb`` under nbval with the plugin, as make test does; return the run and the
    cache it stored into."""
    path = tmp_path / "chapter.ipynb"
    nbformat.write(nb, path)
    cache = tmp_path / "cache"
    env = dict(os.environ, BACKPROP_BOOK_NBVAL_CACHE=str(cache),
               PYTHONPATH=os.pathsep.join([str(ROOT / "tests" / "support"), str(ROOT)]))
    env.pop("BACKPROP_BOOK_NBVAL_RUNS", None)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "nbval_run", "-p", "no:cacheprovider",
         "-p", "no:xdist", "--nbval-lax", "--nbval-current-env", "-q", str(path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    return run, get_cache(str(cache))


def comparable(nb: nbformat.NotebookNode) -> dict:
    """Outputs with consecutive streams joined (the kernel may send one print as one message
    or two) and the random parts (widget model ids, object addresses) replaced."""
    def outputs(cell):
        joined = []
        for out in cell.get("outputs", []):
            if (out["output_type"] == "stream" and joined
                    and joined[-1]["output_type"] == "stream" and joined[-1]["name"] == out["name"]):
                joined[-1] = dict(joined[-1], text=joined[-1]["text"] + out["text"])
            else:
                joined.append(dict(out))
        return joined

    def anonymous(value) -> str:
        return re.sub(r"[0-9a-f]{32}|0x[0-9a-f]+", "ID", json.dumps(value, sort_keys=True))

    widgets = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    return {
        "cells": [(c.get("execution_count"), anonymous(outputs(c))) for c in nb.cells],
        "widgets": sorted(anonymous(s) for s in widgets.get("state", {}).values()),
    }


def test_nbvals_run_stored_for_the_build_is_nbclients_run(tmp_path):
    run, cache = nbval(tmp_path, notebook(CELLS))
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    stored = cache.get_cache_bundle(cache.match_cache_notebook(notebook(CELLS)).pk).nb
    built = notebook(CELLS)
    NotebookClient(built, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
                   ).execute()
    want, got = comparable(built), comparable(stored)
    assert got["widgets"] and got["widgets"] == want["widgets"], "the widget's state differs"
    for k, (mine, theirs) in enumerate(zip(got["cells"], want["cells"], strict=True)):
        assert mine == theirs, f"cell {k} ({CELLS[k]!r}): stored {mine}, nbclient {theirs}"
    assert stored.metadata["language_info"]["name"] == "python"
    assert cache.list_cache_records()[0].data["run_by"] == "nbval"


def test_a_notebook_with_a_failing_cell_is_not_stored(tmp_path):
    run, cache = nbval(tmp_path, notebook(['x = 1', 'raise ValueError("no")', 'print(x)']))
    assert run.returncode != 0, "nbval passed a cell that raises"
    with pytest.raises(KeyError):
        cache.match_cache_notebook(notebook(['x = 1', 'raise ValueError("no")', 'print(x)']))
