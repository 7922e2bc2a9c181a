"""Build the HTML book: offline assets, then Jupyter Book with warnings as errors.

The one build entry point (``python -m bookkit book``), used by ``make book`` and by the tests' ``built_book``
fixture, so both build the same way.

Why a script and not a bare ``jupyter-book build``: notebooks are executed through
jupyter-cache, keyed on the notebook's code cells only. When the helper package changes
(say a widget's JavaScript, which the executed notebook embeds in the page), no notebook
changed, so neither the cache nor Sphinx would run it again and the page would keep the
old code. We fingerprint the package and, when it changed, clear the cache and rebuild
every page.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

from . import assets
from .paths import BUILD, HTML, ROOT

CACHE = BUILD / ".jupyter_cache"
STAMP = BUILD / ".package-fingerprint"
FLAGS = ["-W", "-n", "--keep-going"]


WRITER_STAMP = BUILD / ".writer-fingerprint"


def fingerprint(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def package_fingerprint() -> str:
    """A hash of everything executed notebooks import or embed: the package and the pins.

    Only ``backprop_book/``: what makes, prints and grades the book (``bookkit``) is never
    imported by a chapter, so changing it never re-executes one.
    """
    return fingerprint([*sorted((ROOT / "backprop_book").rglob("*")), ROOT / "requirements.txt"])


def writer_fingerprint() -> str:
    """A hash of what turns read pages into HTML: the book's Sphinx extensions and the math
    renderer with its pinned KaTeX. Sphinx does not see a change there (it rewrites only
    pages whose sources changed), so when it changes every page is read and written again;
    no notebook runs again (their outputs come from the cache)."""
    files = sorted((ROOT / "bookkit" / "sphinx").rglob("*"))
    return fingerprint([*files, ROOT / "bookkit" / "katex.py", ROOT / "bookkit" / "katex-render.js",
                        ROOT / "web" / "package-lock.json"])


REWRITE_ALL = BUILD / ".rewrite-every-page"


def prepare_cache() -> bool:
    """Clear the execution cache if it was made with another package; return whether every
    page must be read and written again (until a build succeeds).

    Called by the build, and by ``make test`` before nbval stores its runs of the chapters
    in the cache (tests/support/nbval_run.py): the runs stored after this call are made with
    the package as it is, so the fingerprint is written at once, and a marker keeps
    ``--all`` for the next build, which Sphinx needs to see pages whose outputs changed.
    """
    package = package_fingerprint()
    if STAMP.exists() and STAMP.read_text() != package:
        print("build_book: the helper package changed since the last build; "
              "re-executing every notebook")
        shutil.rmtree(CACHE, ignore_errors=True)
        REWRITE_ALL.touch()
        STAMP.write_text(package)
    return REWRITE_ALL.exists()


def main(argv: list[str] | None = None) -> int:
    assets.main()
    extra = ["--all"] if prepare_cache() else []
    writer = writer_fingerprint()
    if not extra and WRITER_STAMP.exists() and WRITER_STAMP.read_text() != writer:
        print("build_book: the book's Sphinx extensions changed since the last build; "
              "rewriting every page")
        extra = ["--all"]
    # Sphinx copies web/dist into the output but never deletes from it: an asset the book no
    # longer ships (MathJax, before the math was rendered at build time) would linger.
    shutil.rmtree(HTML / "_static" / "vendor", ignore_errors=True)
    jb = Path(sys.executable).parent / "jupyter-book"
    result = subprocess.run([str(jb), "build", str(ROOT), "--builder", "html", *FLAGS, *extra])
    if result.returncode == 0:
        STAMP.write_text(package_fingerprint())
        WRITER_STAMP.write_text(writer)
        REWRITE_ALL.unlink(missing_ok=True)
    return result.returncode

