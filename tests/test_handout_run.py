"""Handouts run as a student meets them.

For every chapter with exercises, the student handout (placeholders everywhere) executes
top to bottom; a cell may fail only if it is an exercise's own cell, and every checker says
"not done yet".

(That the solutions stay right with a student's own numbers is checked where nbval runs
each chapter: it runs them with student ``NBVAL_STUDENT``'s numbers, and every checker cell
must say "Right!"; see tests/nbval_student.py.)
"""

from __future__ import annotations

import json

import nbformat
import pytest
from conftest import ROOT, toc_entries
from nbclient import NotebookClient

from backprop_book.handouts import CHECK_TAG, make_handout

CHAPTERS = [
    entry
    for entry in toc_entries()
    if (ROOT / f"{entry}.ipynb").exists() and "{solution-start}" in (ROOT / f"{entry}.ipynb").read_text()
]



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
    source = json.loads((ROOT / f"{entry}.ipynb").read_text())
    nb = run(make_handout(source, entry).notebook, allow_errors=True)
    checks = [c for c in nb.cells if CHECK_TAG in c.metadata.get("tags", [])]
    assert checks, f"{entry}: the handout has no tagged checker cells"
    for index, cell in enumerate(nb.cells):
        errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
        if errors and CHECK_TAG not in cell.metadata.get("tags", []):
            raise AssertionError(
                f"{entry}, handout cell {index} failed before any exercise was attempted: "
                f"{errors[0].ename}: {errors[0].evalue}\n{cell.source}"
            )
    for cell in checks:
        assert "Not done yet" in text_of(cell), f"{entry}: {cell.source!r} did not say not done"


def test_make_handouts_writes_the_zip_without_leaks():
    import subprocess
    import sys
    import zipfile

    roster = ROOT / "_build" / "roster-for-test.txt"
    roster.parent.mkdir(exist_ok=True)
    roster.write_text("ada\nbea  # a comment\n")
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "make_handouts.py"),
                             "--students", str(roster)],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    archive = ROOT / "_build" / "handouts" / "backprop-book-handouts.zip"
    names = zipfile.ZipFile(archive).namelist()
    for entry in CHAPTERS:
        stem = entry.split("/")[-1]
        assert f"student/{stem}.ipynb" in names and f"instructor/{stem}.ipynb" in names
    assert "README.txt" in names
    figures = [n.split("/", 1)[1] for n in names if n.startswith("student/images/")]
    assert figures, "the student folder has no images/"
    for student in ("ada", "bea"):  # each student's folder shows the same figures
        for figure in figures:
            assert f"student/{student}/{figure}" in names
