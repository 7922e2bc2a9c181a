"""`make worksheets`: one PDF per student with their own exercise numbers, and the key.

``--students roster.txt`` (one id per line, as for ``make_handouts.py``) writes
``_build/worksheets/<id>.pdf`` (every exercise of the book with that student's given
numbers and space to answer) and ``_build/worksheets/key.pdf`` (every student's numbers
and the right answers, as the exercise checkers compute them). Printed by Debian's
Chromium, offline; math is typeset by the book's own MathJax (``make assets``).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import yaml
from make_handouts import read_roster, toc_notebooks

from backprop_book import print_edition as pe
from backprop_book import worksheets as ws

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "_build" / "worksheets"
MATHJAX = ROOT / "web" / "dist" / "_static" / "vendor" / "mathjax"


def chapter_title(notebook: dict) -> str:
    """The text of the notebook's first ``# `` heading."""
    for cell in notebook["cells"]:
        for line in "".join(cell.get("source", "")).splitlines():
            if cell["cell_type"] == "markdown" and line.startswith("# "):
                return line[2:].strip()
    return "Untitled"


def student_chapters(notebooks: list[dict], student_id: str) -> list[tuple[str, list]]:
    """(chapter title, sheets) for every chapter with exercises, for one student."""
    chapters = []
    for nb in notebooks:
        found = ws.sheets(nb, student_id)
        if found:
            chapters.append((chapter_title(nb), found))
    return chapters


def print_all(pages: dict[str, str], out: Path) -> None:
    """Write each page's HTML into out/html and print it to out/<name>.pdf."""
    html_dir = out / "html"
    html_dir.mkdir(parents=True)
    (html_dir / "mathjax").symlink_to(MATHJAX, target_is_directory=True)
    for name, markup in pages.items():
        (html_dir / f"{name}.html").write_text(markup)
    with pe.serve(html_dir) as base, pe.chromium() as b:
        for name in pages:
            page = pe.offline_page(b, base)
            page.goto(f"{base}/{name}.html", wait_until="load", timeout=120_000)
            pe.wait_ready(page, timeout_s=90)
            page.emulate_media(media="print")
            page.pdf(path=str(out / f"{name}.pdf"), format="A4", print_background=True,
                     prefer_css_page_size=True, tagged=True)
            page.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=Path, required=True, help="one student id per line")
    parser.add_argument("--out", type=Path, default=OUT, help="default: _build/worksheets")
    args = parser.parse_args(argv)
    roster = read_roster(args.students)
    if not roster:
        print(f"{args.students}: no student ids", file=sys.stderr)
        return 1
    if not MATHJAX.is_dir():
        print("The book's MathJax is missing: run `make assets` first.", file=sys.stderr)
        return 1
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    macros = config["sphinx"]["config"]["mathjax3_config"]["tex"]["macros"]
    notebooks = [json.loads(p.read_text()) for p in toc_notebooks()]
    students = {sid: student_chapters(notebooks, sid) for sid in roster}
    shutil.rmtree(args.out, ignore_errors=True)
    pages = {sid: ws.worksheet_html(sid, chapters, macros) for sid, chapters in students.items()}
    pages["key"] = ws.key_html(students, macros)
    print_all(pages, args.out)
    count = sum(len(s) for _, s in next(iter(students.values())))
    print(f"{len(roster)} worksheets of {count} exercises and key.pdf in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
