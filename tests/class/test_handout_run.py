"""Handouts run as a student meets them.

For every chapter with exercises, the student handout (placeholders everywhere) runs top to
bottom as a student runs it: a cell may fail only if it is an exercise's own cell, and
every checker says "not done yet".

What runs here is the part of the handout that is not the book. A handout is the chapter
with an identity cell added after the title (no student id: the book's numbers) and each
solution replaced by a placeholder; its code cells before the first replaced one are the
chapter's own, in the same order, with the same numbers. nbval runs exactly that code
(and its run is the build's, which fails on any error), so here those cells run only if a later cell needs
what they define (``needed_cells``, the course's rule for a lean assignment), and without
their statements and imports nothing later uses (``without_unneeded_statements`` and
``without_unused_imports``, the course's rules too: a chapter's setup cell imports torch,
scikit-learn and the widgets for its demonstrations, a second or more of each kernel's
CPU). From the first replaced cell on, every cell runs as the handout has it. (Before,
every chapter ran in full a third time: the suite's longest notebook runs, for cells that
are the book's.)

(That the solutions stay right with a student's own numbers, not only the book's, is
checked by the graded class: tests/class/test_grading.py grades Ada's submission, her own
numbers, in nbgrader, and it scores every point.)
"""

from __future__ import annotations

import json

import nbformat
import pytest
from nbclient import NotebookClient

from bookkit import toc
from bookkit.course import names_used, needed_cells, trim_setup
from bookkit.handouts import CHECK_TAG, make_handout, student_cell
from bookkit.paths import ROOT

CHAPTERS = [
    entry
    for entry in toc.entries()
    if (ROOT / f"{entry}.ipynb").exists() and "{solution-start}" in (ROOT / f"{entry}.ipynb").read_text()
]



def source(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def cells_to_run(book: dict, handout: dict) -> tuple[list[int], int]:
    """The handout cells this test runs, and how many code cells it shares with the book.

    The identity cell; of the code cells the handout shares with the book before its first
    changed one, those the rest needs; then every cell from the first changed one on.
    """
    code = [i for i, c in enumerate(handout["cells"]) if c["cell_type"] == "code"]
    identity, rest = code[0], code[1:]
    assert source(handout["cells"][identity]) == source(student_cell(None)), (
        "a handout's first code cell should be the identity cell, with no student id")
    book_code = [source(c) for c in book["cells"] if c["cell_type"] == "code"]
    assert len(book_code) == len(rest), "a handout should keep every code cell of the book"
    shared = next((k for k, (b, h) in enumerate(zip(book_code, rest, strict=True))
                   if b != source(handout["cells"][h])), None)
    assert shared is not None, "the handout changed no code cell: it has no placeholder"
    start = rest[shared]
    wanted = set().union(*(names_used(source(c)) for c in handout["cells"][start:]
                           if c["cell_type"] == "code"))
    before = [handout["cells"][i] for i in rest[:shared]]
    return [identity, *(rest[k] for k in needed_cells(before, wanted)),
            *range(start, len(handout["cells"]))], shared


def test_cells_to_run_keeps_what_the_changed_part_needs():
    def cell(kind, text):
        return {"cell_type": kind, "source": text, "metadata": {}, "outputs": []}

    book = {"cells": [
        cell("markdown", "# Title"),
        cell("code", "import numpy as np\nrng = np.random.default_rng(1)"),
        cell("code", "W = rng.normal(size=3)"),
        cell("code", "slow = sum(range(10**6))"),  # a demonstration nothing later reads
        cell("code", "W[0] = 2.0"),  # changes W in place: needed too
        cell("code", "n = len(W)\nanswer = None\n### BEGIN SOLUTION\nanswer = W @ W / n\n"
                     "### END SOLUTION"),
        cell("code", "print(answer, slow_too)"),
        cell("code", "slow_too = 3"),  # after the change: runs whatever it is
    ]}
    handout = json.loads(json.dumps(book))
    handout["cells"].insert(1, student_cell(None))
    handout["cells"][6]["source"] = "n = len(W)\nanswer = None"  # reads W: W's cells run
    run_these, shared = cells_to_run(book, handout)
    assert shared == 4
    assert run_these == [1, 2, 3, 5, 6, 7, 8], run_these
    unchanged = json.loads(json.dumps(book))
    unchanged["cells"].insert(1, student_cell(None))
    with pytest.raises(AssertionError, match="no placeholder"):
        cells_to_run(book, unchanged)


def lean(handout: dict, run_these: list[int], shared: int) -> list[dict]:
    """The cells ``run_these`` (from :func:`cells_to_run`), with each of the book's own
    cells before the first changed one cut to the statements and imports that the cells run
    after it use, as a lean assignment's setup is."""
    code = [i for i, c in enumerate(handout["cells"]) if c["cell_type"] == "code"]
    start = code[1 + shared]  # the first changed cell (code[0] is the identity cell)
    cells = {i: dict(handout["cells"][i], source=source(handout["cells"][i]))
             for i in run_these}
    book = [i for i in run_these[1:] if i < start and cells[i]["cell_type"] == "code"]
    trim_setup([cells[i] for i in book], [c["source"] for i, c in cells.items()
                                          if i not in book and c["cell_type"] == "code"])
    return [cells[i] for i in run_these]


def run(notebook: dict, allow_errors: bool) -> nbformat.NotebookNode:
    nb = nbformat.reads(json.dumps(notebook), as_version=4)  # joins list sources
    NotebookClient(
        nb, timeout=180, kernel_name="python3", allow_errors=allow_errors,
        resources={"metadata": {"path": str(ROOT / "book")}},
    ).execute()
    return nb


def text_of(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        parts.append(out.get("text", ""))
        data = out.get("data", {})
        parts.append(data.get("text/plain", "") + data.get("text/html", ""))
        parts.extend(out.get("traceback", []))
    return "\n".join(parts)


def test_there_are_chapters_with_exercises():
    assert CHAPTERS, "no notebook in the toc has exercises"


@pytest.mark.parametrize("entry", CHAPTERS)
def test_handout_runs_with_placeholders(entry):
    book = json.loads((ROOT / f"{entry}.ipynb").read_text())
    handout = make_handout(book, entry).notebook
    run_these, shared = cells_to_run(book, handout)
    tagged = [i for i, c in enumerate(handout["cells"])
              if CHECK_TAG in c["metadata"].get("tags", [])]
    assert tagged, f"{entry}: the handout has no tagged checker cells"
    assert set(tagged) <= set(run_these), f"{entry}: a checker cell would not run"
    cells = lean(handout, run_these, shared)
    nb = run({**handout, "cells": cells}, allow_errors=True)
    for index, cell in zip(run_these, nb.cells, strict=True):
        errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
        if errors and CHECK_TAG not in cell.metadata.get("tags", []):
            raise AssertionError(
                f"{entry}, handout cell {index} failed before any exercise was attempted: "
                f"{errors[0].ename}: {errors[0].evalue}\n{cell.source}"
            )
    for cell in nb.cells:
        if CHECK_TAG in cell.metadata.get("tags", []):
            assert "Not done yet" in text_of(cell), f"{entry}: {cell.source!r} did not say not done"
    print(f"\n{entry}: {len(run_these)} of {len(handout['cells'])} cells run; the first "
          f"{shared} code cells are the book's")


def test_make_handouts_writes_a_students_zip_without_solutions():
    import subprocess
    import sys
    import zipfile

    roster = ROOT / "_build" / "roster-for-test.txt"
    roster.parent.mkdir(exist_ok=True)
    roster.write_text("ada\nbea  # a comment\n")
    result = subprocess.run([sys.executable, "-m", "bookkit", "handouts",
                             "--students", str(roster)],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    out = ROOT / "_build" / "handouts"
    names = zipfile.ZipFile(out / "backprop-book-students.zip").namelist()
    teachers = zipfile.ZipFile(out / "backprop-book-instructor.zip").namelist()
    assert not [n for n in names if not n.startswith("student/") and n != "README.txt"], names
    for entry in CHAPTERS:
        stem = entry.split("/")[-1]
        assert f"student/{stem}.ipynb" in names and f"instructor/{stem}.ipynb" in teachers
    assert "README.txt" in names
    figures = [n.split("/", 1)[1] for n in names if n.startswith("student/images/")]
    assert figures, "the student folder has no images/"
    for student in ("ada", "bea"):  # each student's folder shows the same figures
        for figure in figures:
            assert f"student/{student}/{figure}" in names
