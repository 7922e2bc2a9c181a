"""Shared fixtures: a built book, a local web server, Chromium, JupyterLab, torch.

The tests are laid out by tier, and each folder says what its tests need:

* ``reader/``: the package chapters import (no build, no browser, no kernel): the fast loop;
* ``kit/``: the machinery that makes handouts, the course, the ledger, without running it;
* ``book/``: the built book (``built_book``);
* ``browser/``: the built book as Chromium shows it, offline;
* ``class/``: kernels, JupyterLab, nbgrader and JupyterHub, as a class uses them;
* ``print/``: the printed book and the worksheets.

Helpers the tests import live in ``support/`` (on ``sys.path``, see pyproject.toml).
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from bookkit.paths import HTML, ROOT


def _build_book() -> tuple[int, str]:
    result = subprocess.run([sys.executable, "-m", "bookkit", "book"], cwd=ROOT,
                            capture_output=True, text=True)
    return result.returncode, "\n".join((result.stdout + result.stderr).splitlines()[-60:])


EARLY_BUILD = "BACKPROP_BOOK_EARLY_BUILD"  # a folder where the early build leaves log and rc


def pytest_configure(config: pytest.Config) -> None:
    """Register how nbval runs the notebooks (nbval_run.py), and under ``make test``
    (xdist, whole suite) start the build before the workers start.

    nbval's run of each chapter is the build's (nbval_run.py stores it in the build's
    cache), so the build waits for nbval to have run every chapter it collected, then writes
    the pages; meanwhile both workers run the tests that do not need it. The workers inherit
    the folder's name and wait for its ``rc`` file.

    Every kernel this process starts takes its ports from a block no other process uses
    (kernel_ports.py: a port picked free could be taken before the kernel bound it).
    """
    import nbval_run
    from kernel_ports import use_private_kernel_ports

    use_private_kernel_ports(os.environ.get("PYTEST_XDIST_WORKER"))
    if not config.pluginmanager.is_registered(nbval_run):
        config.pluginmanager.register(nbval_run, "nbval-run")
    distributed = getattr(config.option, "numprocesses", None)
    whole_suite = config.args_source == pytest.Config.ArgsSource.TESTPATHS
    if hasattr(config, "workerinput") or not distributed or not whole_suite:
        return
    if EARLY_BUILD in os.environ:
        return
    from bookkit import build

    build.prepare_cache()  # a cache made with another package is cleared before nbval fills it
    folder = Path(tempfile.mkdtemp(prefix="backprop-book-build-"))
    runs = folder / "nbval"
    runs.mkdir()
    # The workers write nbval/expected (the chapters nbval will run, maybe none) once they
    # have collected, and nbval/ran/<stem> as each chapter is done; if pytest stops first,
    # the build stops waiting.
    wait = (f'while [ ! -f "{runs}/expected" ]; do kill -0 {os.getpid()} 2>/dev/null || exit 3;'
            f' sleep 0.5; done; for stem in $(cat "{runs}/expected"); do'
            f' while [ ! -f "{runs}/ran/$stem" ]; do kill -0 {os.getpid()} 2>/dev/null || exit 3;'
            f' sleep 0.5; done; done')
    script = (f'({wait}) && cd "{ROOT}" && "{sys.executable}" -m bookkit book > "{folder}/log" 2>&1;'
              f' echo $? > "{folder}/rc.tmp"; mv "{folder}/rc.tmp" "{folder}/rc"')
    subprocess.Popen(["bash", "-c", script], cwd=folder, start_new_session=True)
    os.environ[EARLY_BUILD] = str(folder)
    os.environ[nbval_run.RUNS] = str(runs)


PRINTED_BOOK = "tests/print/test_pdf.py::"
GRADING = "tests/class/test_grading.py::"


def pytest_itemcollected(item: pytest.Item) -> None:
    """Tests that share something expensive share an xdist group, so one worker runs them.

    The JupyterLab tests share one group, so two Labs never start side by side: two Labs
    with a kernel and a Chromium each, at once on a busy 2-core machine, ran past their
    60 s wait. The tests of the printed book share one (the book is printed once), and so
    do each chapter's graded-class tests (the class is graded once per chapter). (nbval's
    cells are grouped in nbval_run.py.)

    Marked here, as each item is collected, so the marks are there before xdist's worker
    reads them (in its own ``pytest_collection_modifyitems``).
    """
    if item.get_closest_marker("kernel"):
        item.add_marker(pytest.mark.xdist_group("jupyterlab"))
    elif item.nodeid.startswith(PRINTED_BOOK):
        item.add_marker(pytest.mark.xdist_group("pdf"))
    elif item.nodeid.startswith(GRADING) and "graded" in getattr(
        getattr(item, "callspec", None), "params", {}
    ):
        item.add_marker(pytest.mark.xdist_group("course-" + item.callspec.params["graded"]))
    elif shared := _module_fixtures(item):
        # Any other module-scoped fixture (a class graded for the cheats, a page held open,
        # the worksheets printed) is made once per worker that runs one of its tests: the
        # tests that share it share a worker, or it is made twice.
        item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0] + "::" + shared))


def _module_fixtures(item: pytest.Item) -> str:
    """The module-scoped fixtures ``item`` needs, directly or not, joined by commas."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return ""
    return ",".join(sorted(name for name in info.names_closure
                           if (defs := info.name2fixturedefs.get(name))
                           and defs[-1].scope == "module"))


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Fail a grouped test if ``--dist loadgroup`` silently ignored its group.

    xdist's worker names a test's group by appending ``@group`` to its node id. pytest 9.2
    keeps node ids elsewhere, so the suffix is lost and grouped tests spread over both
    workers: each chapter's class was graded twice, the book printed twice, and two
    JupyterLabs ran at once (pytest-xdist issue 1386). requirements.txt pins a pytest
    where grouping works; this check fails loudly if an upgrade breaks it again.
    """
    config = item.config
    if (hasattr(config, "workerinput") and config.getvalue("loadgroup")
            and item.get_closest_marker("xdist_group") and "@" not in item.nodeid):
        pytest.fail(
            "--dist loadgroup ignored this test's xdist_group, so tests that share an"
            " expensive fixture would each make it: this pytest and pytest-xdist do not"
            " group; install the versions pinned in requirements.txt", pytrace=False)


#: The two longest runs of the suite: the class on JupyterHub (about 50 s on a quiet machine)
#: and the printed book (about 60 s). Each is started first in its part of the run.
LONGEST = ("tests/class/test_hub.py::", "tests/print/test_pdf.py::")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """nbval's runs of the chapters first, the tests that need the built book last, and the
    longest first in each part.

    A stable sort, otherwise in order. Under xdist both workers start on the chapters the
    build waits for (nbval_run.py); the build then writes the pages beside the tests that do
    not need it, and no worker sits waiting for it; and neither worker is left alone with a
    long run at the end while the other has nothing to do.
    """
    items.sort(key=lambda item: ("built_book" in getattr(item, "fixturenames", ()),
                                 type(item).__name__ != "IPyNbCell",
                                 not item.nodeid.startswith(LONGEST)))


def _wait_for_early_build(folder: Path) -> tuple[int, str]:
    while not (folder / "rc").exists():
        time.sleep(0.5)
    tail = "\n".join((folder / "log").read_text().splitlines()[-60:])
    return int((folder / "rc").read_text()), tail


@pytest.fixture(scope="session")
def built_book(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the HTML book once per test run, warnings as errors, and return its folder.

    Same entry point as ``make book`` (``python -m bookkit book``). Notebooks are executed
    through the jupyter-cache, so a rebuild with no changes is quick. Under pytest-xdist
    (``make test`` runs two workers) the first worker to ask builds while holding a lock
    in the run's shared temporary folder; the others wait for it and reuse its result.
    """
    if EARLY_BUILD in os.environ:  # make test started it (pytest_configure)
        code, tail = _wait_for_early_build(Path(os.environ[EARLY_BUILD]))
    elif not hasattr(request.config, "workerinput"):  # not distributed
        code, tail = _build_book()
    else:
        shared = tmp_path_factory.getbasetemp().parent
        with open(shared / "built_book.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            result = shared / "built_book.json"
            if not result.exists():
                code, tail = _build_book()
                result.write_text(json.dumps([code, tail]))
            code, tail = json.loads(result.read_text())
    if code != 0:
        pytest.fail(f"The book did not build with warnings as errors:\n{tail}", pytrace=False)
    return HTML


@pytest.fixture(scope="session")
def book_server(built_book: Path):
    """Serve the built book on 127.0.0.1 (a free port) for the browser tests."""
    from bookkit.browser import serve

    with serve(built_book) as base:
        yield base


@pytest.fixture(scope="session")
def worker_chromium():
    """One Chromium per pytest process, started when a test first needs one.

    Launching costs about a second of CPU; the suite's browser tests used to launch fifteen.
    A module-scoped fixture that keeps a page open across tests opens it here, and closes it.
    """
    from browser import browser

    with browser() as b:
        yield b


@pytest.fixture
def chromium(worker_chromium):
    """The worker's Chromium; whatever this test opens in it is closed when the test ends.

    pytest sets up module-scoped fixtures before function-scoped ones, so a page a module
    fixture holds is open before this one looks, and is left alone.
    """
    before = set(worker_chromium.contexts)
    yield worker_chromium
    for context in worker_chromium.contexts:
        if context not in before:
            context.close()


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory):
    """One JupyterLab for the run's kernel tests (one xdist group, so on one worker)."""
    from lab_server import Lab, jupyter_lab

    root = tmp_path_factory.mktemp("lab") / "work"
    root.mkdir()
    with jupyter_lab(root) as (base, token):
        yield Lab(base, token, root)


@pytest.fixture
def lab_folder(lab, request: pytest.FixtureRequest) -> Path:
    """A folder of this test's own in the shared Lab; its kernels stop when the test ends."""
    folder = lab.root / request.node.name.translate(str.maketrans("[]/ ", "----"))
    folder.mkdir()
    yield folder
    lab.stop_kernels()


@pytest.fixture(scope="session")
def lab_page(lab, worker_chromium):
    """The run's one JupyterLab page, opened on its launcher (see ``lab_tab``)."""
    from browser import open_logged_page

    page, log = open_logged_page(worker_chromium, lab.base, width=1400, height=1000)
    errors: list = []
    page.on("pageerror", lambda error: errors.append(error))
    page.goto(lab.url("tests"))
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.started")
    yield page, log, errors
    page.close()


@pytest.fixture
def lab_tab(lab_page, lab, lab_folder):
    """JupyterLab for this test: ``lab_tab.open(notebook)``; closed again when it ends.

    The page's log and its uncaught errors start empty of earlier tests' problems. The
    test's tabs are closed as a reader closes them (lab_server.CLOSE), then its kernels shut
    down (``lab_folder``); an error the page raises while they close fails the test.
    """
    from lab_server import LabTab

    page, log, errors = lab_page
    log.clear()
    errors.clear()
    tab = LabTab(page, log, lab, errors)
    yield tab
    problems = tab.close()
    assert not problems, f"closing the test's notebook: {'; '.join(problems)}"


@pytest.fixture(scope="session")
def torch():
    """PyTorch, for the comparisons with torch.autograd (see support/optional.py)."""
    from optional import torch_or_skip

    return torch_or_skip()
