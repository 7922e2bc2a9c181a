"""Where things are: the repository's folders, in one place."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
BUILD = ROOT / "_build"
HTML = BUILD / "html"
WEB = ROOT / "web"
#: The offline browser assets `make assets` assembles (given to Sphinx as html_extra_path).
DIST = WEB / "dist"
VENDOR = DIST / "_static" / "vendor"
