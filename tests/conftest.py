"""Shared fixtures: the book's table of contents, a built book, a local web server."""

from __future__ import annotations

import functools
import http.server
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "_build"
HTML = BUILD / "html"


def toc_entries() -> list[str]:
    """Every document the toc lists, as paths without suffix (``book/intro``), in reading order."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    entries = [toc["root"]]

    def walk(items):
        for item in items or []:
            if "file" in item:
                entries.append(item["file"])
            walk(item.get("sections"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return entries


def source_of(entry: str) -> Path:
    for suffix in (".ipynb", ".md"):
        path = ROOT / (entry + suffix)
        if path.exists():
            return path
    raise FileNotFoundError(
        f"_toc.yml lists {entry!r} but neither {entry}.ipynb nor {entry}.md exists"
    )


@pytest.fixture(scope="session")
def built_book() -> Path:
    """Build the HTML book once per test run, warnings as errors, and return its folder.

    Same entry point as ``make book`` (scripts/build_book.py). Notebooks are executed
    through the jupyter-cache, so a rebuild with no changes is quick.
    """
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_book.py")], capture_output=True, text=True
    )
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-60:])
        pytest.fail(f"The book did not build with warnings as errors:\n{tail}", pytrace=False)
    return HTML


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output readable
        pass


@pytest.fixture(scope="session")
def book_server(built_book: Path):
    """Serve the built book on 127.0.0.1 (a free port) for the browser tests."""
    handler = functools.partial(_QuietHandler, directory=str(built_book))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="session")
def torch():
    """PyTorch, for the comparisons with torch.autograd.

    Not in requirements.txt (``pip install torch==2.13.0`` adds it). CI installs it
    (.ci/run), so there a missing torch fails the run instead of skipping the comparison.
    """
    try:
        import torch
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must run the torch comparisons: .ci/run installs torch==2.13.0")
        pytest.skip("PyTorch is not installed (pip install torch==2.13.0 adds it)")
    return torch
