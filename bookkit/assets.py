"""Assemble the third-party browser assets the built book ships with.

The book must work with no network: in a classroom with bad Wi-Fi, or opened
from a USB stick. A default Jupyter Book page loads MathJax, require.js and the
ipywidgets HTML manager from CDNs. We render the math at build time (KaTeX's
stylesheet and fonts are all a page needs of it, installed from the npm registry,
pinned by ``web/package-lock.json``), and the widgets run on the book's own small
runtime (``web/src/static-widgets.js``): both are copied into
``web/dist/_static/vendor/``. Sphinx receives ``web/dist`` as
``html_extra_path``: its files are copied into the output, never injected into
pages, so only the scripts named in ``_config.yml`` load.

Run it through ``make assets`` (``python -m bookkit assets``); it is idempotent and fast when nothing changed.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from .paths import ROOT, VENDOR, WEB

MODULES = WEB / "node_modules"

# The book's math is rendered at build time by KaTeX (bookkit/katex.py); a page needs only
# KaTeX's stylesheet and the fonts it names (each loaded only where a glyph uses it). No
# math script is shipped: no page typesets in the browser.
KATEX_PARTS = ["katex.min.css", "fonts"]


def npm_install() -> None:
    """Install web/node_modules from the lock file unless it is already current."""
    stamp = MODULES / ".package-lock.json"
    lock = WEB / "package-lock.json"
    if stamp.exists() and stamp.stat().st_mtime >= lock.stat().st_mtime:
        return
    npm = shutil.which("npm")
    if npm is None:
        sys.exit("npm was not found: install Node.js 20 (it ships npm) to build the book's assets.")
    subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"], cwd=WEB, check=True)


def copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    if src.is_dir():
        shutil.copytree(src, dst, dirs_exist_ok=True)
    else:
        shutil.copy2(src, dst)


def main(argv: list[str] | None = None) -> int:
    npm_install()
    if VENDOR.exists():
        shutil.rmtree(VENDOR)
    for part in KATEX_PARTS:
        copy(MODULES / "katex" / "dist" / part, VENDOR / "katex" / part)
    # The widgets' runtime in the static book: the book's own few kilobytes (every widget is
    # an anywidget that carries its own module), not the ipywidgets HTML manager.
    copy(WEB / "src" / "static-widgets.js", VENDOR / "static-widgets.js")
    # The book's own stylesheet (phone width, print), named in _config.yml's html_css_files.
    copy(WEB / "src" / "book.css", VENDOR.parent / "book.css")
    size = sum(f.stat().st_size for f in VENDOR.rglob("*") if f.is_file())
    print(f"assets: {size / 1e6:.1f} MB in {VENDOR.relative_to(ROOT)}")
    return 0
