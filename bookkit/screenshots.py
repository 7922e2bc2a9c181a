"""`make screenshots`: every page of the built book, whole, as a reader's browser draws it.

One JPEG per page of ``_toc.yml``, 1280 px wide and as tall as the page, once its fonts
are in and every widget has drawn, in ``_build/screenshots/whole/`` (``book__intro.jpg``
for ``book/intro``). Offline, from the built book (``make book``), by Debian's Chromium.

``make test`` saves only the top of each page, at 1280 px and at 390 px (a phone): a whole
chapter is some 40,000 px tall, and drawing one costs about as much CPU as testing it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import print_edition as pe
from . import toc
from .browser import chromium, offline_page, serve
from .paths import BUILD, HTML, ROOT
from .pdf import no_built_book

OUT = BUILD / "screenshots" / "whole"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", nargs="+", metavar="ENTRY",
                        help="only these toc entries (e.g. book/intro); default: every page")
    parser.add_argument("--out", type=Path, default=OUT, help=f"default: {OUT.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    if no_built_book():
        return 1
    entries = toc.entries()
    unknown = sorted(set(args.pages or []) - set(entries))
    if unknown:
        print(f"Not in _toc.yml: {', '.join(unknown)} (entries look like {entries[0]})",
              file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    with serve(HTML) as base, chromium() as browser:
        for entry in args.pages or entries:
            page = offline_page(browser, width=1280, height=900)
            page.goto(f"{base}/{entry}.html", wait_until="load", timeout=120_000)
            pe.wait_ready(page, timeout_s=90)
            shot = args.out / (entry.replace("/", "__") + ".jpg")
            page.screenshot(path=str(shot), full_page=True, type="jpeg", quality=80)
            page.close()
            print(f"  {shot.relative_to(ROOT) if shot.is_relative_to(ROOT) else shot}")
    return 0

