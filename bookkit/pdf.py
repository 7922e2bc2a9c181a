"""`make pdf`: the whole book as one PDF, printed from the built HTML by Chromium, offline.

Every page of ``_toc.yml`` in order, a title page with the contents, page numbers, an
outline (an entry per chapter and section) and the solutions in an appendix at the end
(``--no-solutions`` leaves them out). Needs the built book (``make book``) and Debian's
Chromium. Writes ``_build/pdf/backprop-book.pdf``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from pathlib import Path

import yaml

from . import print_edition as pe
from . import toc
from .browser import chromium, offline_page, serve
from .paths import BUILD, HTML, ROOT

OUT = BUILD / "pdf" / "backprop-book.pdf"
ABOUT = (
    "The print edition of the web book. The widgets are printed as they first appear; "
    "they are live in the web and notebook versions. Page numbers are those of this file."
)


def no_built_book() -> bool:
    """True, after saying so on stderr, when ``make book`` has not built the HTML yet."""
    if (HTML / "book").is_dir():
        return False
    print("No built book in _build/html: run `make book` first.", file=sys.stderr)
    return True


def page_title(entry: str) -> str:
    """The first <h1> of a built page, as text (its permalink sign dropped)."""
    markup = (HTML / f"{entry}.html").read_text()
    found = re.search(r"<h1[^>]*>(.*?)</h1>", markup, re.S)
    if not found:
        raise SystemExit(f"{entry}.html has no <h1> title")
    text = re.sub(r"<a class=\"headerlink\".*?</a>|<[^>]+>", "", found.group(1))
    return " ".join(text.replace("#", " ").split())


def print_pages(browser, base: str, tmp: Path, solutions: bool) -> list[pe.Piece]:
    """Print every toc page (and the appendix) into ``tmp``."""
    note = (
        f"Solution: see the appendix, {pe.APPENDIX_TITLE}." if solutions
        else "The solution is left out of this edition."
    )
    pieces = []
    for index, (part, entry) in enumerate(toc.pages()):
        piece = pe.Piece(page_title(entry), tmp / f"{index:02d}.pdf", part)
        page = offline_page(browser)
        piece.solutions, piece.cut, piece.sections = pe.print_book_page(
            page, f"{base}/{entry}.html", piece.pdf, note)
        page.close()
        piece.pages = len(piece.reader.pages)
        print(f"  {entry}: {piece.pages} pages, {len(piece.solutions)} solutions")
        pieces.append(piece)
    if solutions and any(p.solutions for p in pieces):
        appendix = pe.Piece(pe.APPENDIX_TITLE, tmp / "appendix.pdf", "Appendix")
        page = offline_page(browser)
        appendix.cut, appendix.sections = pe.print_appendix(
            page, f"{base}/{toc.pages()[0][1]}.html", appendix.pdf, pieces)
        page.close()
        appendix.pages = len(appendix.reader.pages)
        print(f"  appendix: {appendix.pages} pages")
        pieces.append(appendix)
    return pieces


def front_matter(browser, pieces: list[pe.Piece], path: Path) -> int:
    """Print the title page and contents (numbers as printed later); return its page count."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    page = browser.new_page()

    def markup(front: int) -> str:
        entries, start = [], front + 1
        for piece in pieces:
            entries.append((piece.part, piece.title, start))
            start += piece.pages
        return pe.title_html(config["title"], config.get("author", ""), ABOUT, entries)

    front = pe.print_html(page, markup(1), path)
    if pe.print_html(page, markup(front), path) != front:
        raise RuntimeError("the contents changed length when its page numbers were filled in")
    page.close()
    return front


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-solutions", action="store_true", help="leave the solutions out")
    parser.add_argument("--out", type=Path, default=OUT, help=f"default: {OUT.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    if no_built_book():
        return 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    title = yaml.safe_load((ROOT / "_config.yml").read_text())["title"]
    with tempfile.TemporaryDirectory() as tmp, serve(HTML) as base, chromium() as b:
        pieces = print_pages(b, base, Path(tmp), solutions=not args.no_solutions)
        front = front_matter(b, pieces, Path(tmp) / "front.pdf")
        total = front + sum(p.pages for p in pieces)
        page = b.new_page()
        pe.print_html(page, pe.numbers_html(total), Path(tmp) / "numbers.pdf")
        page.close()
        count = pe.merge(Path(tmp) / "front.pdf", pieces, Path(tmp) / "numbers.pdf", args.out,
                         title)
    size = args.out.stat().st_size / 1e6
    print(f"{count} pages, {size:.1f} MB: {args.out}")
    cut = {p.title: p.cut for p in pieces if p.cut}
    cut_report(args.out).write_text(json.dumps(cut, indent=1, ensure_ascii=False))
    for title, boxes in cut.items():
        print(f"warning: the paper cuts {len(boxes)} boxes of {title!r}, e.g. {boxes[0]}")
    return 0


def cut_report(pdf: Path) -> Path:
    """Where :func:`main` lists, per printed page, what the paper cut (``{}``: nothing)."""
    return pdf.with_name(pdf.stem + "-cut.json")

