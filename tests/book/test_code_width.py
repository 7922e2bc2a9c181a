"""Visible code fits its column at 1280 px, read from the sources (no browser needed).

The browser test (tests/browser/test_pages.py) measures the page as drawn; this one names
the line to wrap before the book is built. At 1280 px the chapter column holds 77
characters of code; a solution's dropdown, inside its padded box, holds 69. Cells a
reader sees only on request (hide-input) or never (remove-input) are not checked here.
"""

from __future__ import annotations

import json
import re

import pytest

from bookkit.paths import ROOT

COLUMN = 77
DROPDOWN = 69
UNSEEN = {"remove-input", "remove-cell", "hide-input", "hide-cell"}
START = re.compile(r"^```\{solution-start\}", re.M)
END = re.compile(r"^```\{solution-end\}", re.M)


def notebooks() -> list[str]:
    return sorted(str(p.relative_to(ROOT)) for p in (ROOT / "book").rglob("*.ipynb")
                  if ".ipynb_checkpoints" not in p.parts)


def too_wide(cells: list[dict]) -> list[str]:
    """Each code line wider than its column, as 'cell i (width > limit): line'."""
    found, in_solution = [], False
    for i, cell in enumerate(cells):
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            if START.search(source):
                in_solution = True
            if END.search(source):
                in_solution = False
            continue
        if cell["cell_type"] != "code" or UNSEEN & set(cell.get("metadata", {}).get("tags", [])):
            continue
        limit = DROPDOWN if in_solution else COLUMN
        found += [f"cell {i} ({len(line)} > {limit}): {line.strip()}"
                  for line in source.splitlines() if len(line) > limit]
    return found


def test_the_scan_sees_a_solution_and_the_column():
    cells = [{"cell_type": "code", "source": ["x" * 78], "metadata": {}},
             {"cell_type": "markdown", "source": ["```{solution-start} ex\n```"]},
             {"cell_type": "code", "source": ["y" * 70], "metadata": {}},
             {"cell_type": "markdown", "source": ["```{solution-end}\n```"]},
             {"cell_type": "code", "source": ["z" * 70], "metadata": {}},
             {"cell_type": "code", "source": ["w" * 99], "metadata": {"tags": ["hide-input"]}}]
    assert [line.split(" (")[0] for line in too_wide(cells)] == ["cell 0", "cell 2"]


@pytest.mark.parametrize("notebook", notebooks())
def test_visible_code_fits_its_column(notebook):
    cells = json.loads((ROOT / notebook).read_text())["cells"]
    wide = too_wide(cells)
    assert not wide, (f"{notebook}: {len(wide)} code lines would scroll sideways at 1280 px "
                      f"(wrap them): " + "; ".join(wide))
