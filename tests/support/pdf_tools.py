"""Read PDFs with Debian's poppler-utils (pdfinfo, pdftotext, pdffonts, pdfimages).

Used by the print-edition tests. `.ci/run` installs poppler-utils when it is missing; a
local run without it skips those tests (CI fails instead).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path

import pytest


def poppler_or_skip() -> None:
    if shutil.which("pdftotext") and shutil.which("pdfinfo"):
        return
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail("poppler-utils is missing in CI: .ci/run must `apt-get install poppler-utils`")
    pytest.skip("poppler-utils is not installed (apt-get install -y poppler-utils)")


def run(*args: str | Path) -> str:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True,
                          check=True).stdout


@functools.lru_cache(maxsize=8)
def _pages(pdf: Path, _version: tuple[int, int]) -> list[str]:
    """Each page's text, from one pdftotext run (it ends every page with a form feed)."""
    return run("pdftotext", "-enc", "UTF-8", pdf, "-").split("\f")[:-1]


def text(pdf: Path, first: int | None = None, last: int | None = None) -> str:
    """The PDF's text (pages first..last, 1-based, inclusive), in reading order.

    The same text as ``pdftotext -f first -l last``, cut from one run over the whole file:
    a test that reads every page on its own ran pdftotext 338 times.
    """
    stat = Path(pdf).stat()
    pages = _pages(Path(pdf), (stat.st_mtime_ns, stat.st_size))
    return "".join(page + "\f" for page in pages[(first or 1) - 1:last])


def info(pdf: Path) -> dict[str, str]:
    lines = run("pdfinfo", pdf).splitlines()
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in lines)}


def fonts(pdf: Path) -> list[dict[str, str]]:
    """One row per font: name, type and whether it is embedded ("emb")."""
    rows = run("pdffonts", pdf).splitlines()[2:]
    out = []
    for row in rows:
        cells = row.split()
        # name type [encoding...] emb sub uni object ID: the flags are the last five cells
        out.append({"name": cells[0], "emb": cells[-5], "row": row})
    return out


def images_per_page(pdf: Path) -> dict[int, int]:
    """How many images (not soft masks) each page draws."""
    counts: dict[int, int] = {}
    for row in run("pdfimages", "-list", pdf).splitlines()[2:]:
        cells = row.split()
        if len(cells) > 2 and cells[2] == "image":
            counts[int(cells[0])] = counts.get(int(cells[0]), 0) + 1
    return counts


def words(pdf: Path) -> list[dict]:
    """Every word the PDF draws, with its page (1-based), box in points and page width."""
    import html
    import re

    out, page, width = [], 0, 0.0
    for line in run("pdftotext", "-bbox", pdf, "-").splitlines():
        if m := re.search(r'<page width="([\d.]+)"', line):
            page, width = page + 1, float(m.group(1))
        elif m := re.search(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" '
                            r'yMax="([\d.]+)">(.*)</word>', line):
            x0, y0, x1, y1 = map(float, m.groups()[:4])
            out.append({"page": page, "x0": x0, "y0": y0, "x1": x1, "y1": y1,
                        "width": width, "text": html.unescape(m.group(5))})
    return out
