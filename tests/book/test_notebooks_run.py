"""Every notebook runs top to bottom without an error: read off the build.

The build (``python -m bookkit book``, the ``built_book`` fixture) executes every notebook the
table of contents lists and stops at the first failing cell (``nb_execution_raise_on_error``).
It caches each executed notebook keyed on its code cells, and clears the cache whenever the
helper package or the pinned requirements change. So a cache record that matches a
notebook's current code is a passing run of exactly that code with this package, and its
recorded time is the notebook's execution time, which ``make bench`` reports (a test
judges correctness, never speed: a duration that passes here fails on a busier machine).
(In ``make test`` the run in the cache is nbval's: nbval runs every notebook cell by cell in
a fresh kernel, and each chapter whose every cell passed is stored in the build's cache,
so the build executes none again; see tests/support/nbval_run.py. The handout tests run
each chapter with placeholders.)
"""

from __future__ import annotations

import os

import nbformat
import pytest
from jupyter_cache import get_cache
from nbval_run import RUNS

from bookkit import toc
from bookkit.paths import BUILD, ROOT

NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))


def test_there_are_notebooks():
    assert NOTEBOOKS


@pytest.mark.build
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_ran_without_error_in_the_build(built_book, path):
    entry = f"book/{path.stem}"
    assert entry in toc.entries(), f"{entry} is not in _toc.yml, so the build never runs it"
    cache = get_cache(str(BUILD / ".jupyter_cache"))
    try:
        record = cache.match_cache_notebook(nbformat.read(path, as_version=4))
    except KeyError:
        pytest.fail(f"{entry}: the build holds no passing run of its current code", pytrace=False)
    assert record.data.get("execution_seconds") is not None, f"{entry}: no run time recorded"
    if os.environ.get(RUNS):  # make test: nbval's run of each chapter is the build's
        assert record.data.get("run_by") == "nbval", (
            f"{entry}: the build executed it again instead of using nbval's run")
