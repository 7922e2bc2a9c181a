"""Student handouts from the chapter notebooks: the same notebooks, solutions taken out.

Solutions are marked once, in the source, the way nbgrader marks them:

* in a code cell, the lines between ``### BEGIN SOLUTION`` and ``### END SOLUTION``;
* in the book's HTML, the cells between a ``{solution-start}`` and a ``{solution-end}``
  directive (sphinx-exercise's gated solution) are folded behind a toggle.

A handout keeps every cell but those two kinds of content. A removed region becomes a
placeholder a student can run: at the top level, a ``# YOUR CODE HERE`` line (the answer's
own placeholder, ``answer = None`` written above the markers in the source, stays, so the
checker that follows says "not done yet"); inside a function body, a friendly
``NotImplementedError``. Markdown inside a solution gate (a written solution) is
dropped, and so are the gate's own directive cells, which mean nothing in a notebook.
"""

from __future__ import annotations

import argparse
import ast
import copy
import json
import shutil
import sys
import textwrap
import zipfile
from dataclasses import dataclass
from pathlib import Path

from . import toc
from .anatomy import (
    BEGIN,
    CHECK_TAG,
    END,
    EXERCISE,
    GATE_END,
    GATE_START,
    HandoutError,
    cell_text,
    checked_names,
    require_placeholders,
)
from .paths import BOOK, BUILD, ROOT
from .roster import read_roster

YOUR_CODE = "# YOUR CODE HERE\n"
FUNCTION_STUB = (
    'raise NotImplementedError("Exercise: write this part, then run the checker below.")'
)

STUDENT_CELL = """\
# Your exercise numbers: set your student id (a name or a number) to get numbers of your
# own, then run the notebook from the top. With None you get the book's numbers.
STUDENT_ID = {student_id!r}

from backprop_book.checkers import set_student

set_student(STUDENT_ID)
"""


def student_cell(student_id: str | None = None) -> dict:
    """The code cell a handout starts with: it sets the student id for ``checkers.given``."""
    return {
        "cell_type": "code",
        "id": "student-id",
        "metadata": {"tags": ["student-id"]},
        "source": STUDENT_CELL.format(student_id=student_id),
        "outputs": [],
        "execution_count": None,
    }


@dataclass
class Stripped:
    """A handout notebook and the solution lines taken out of it (to check none leaked)."""

    notebook: dict
    removed: list[str]
    exercises: int


def assigned_names(code: str) -> list[str]:
    """Names a block of top-level code assigns, in order: what its placeholder sets to None."""
    try:
        tree = ast.parse(textwrap.dedent(code))
    except SyntaxError:
        return []
    names: list[str] = []
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign | ast.AugAssign):
            targets = [node.target]
        for target in targets:
            for name in ast.walk(target):
                if isinstance(name, ast.Name) and name.id not in names:
                    names.append(name.id)
    return names


def placeholder(solution: list[str], indent: str) -> list[str]:
    """What replaces a solution region whose marker lines were indented by ``indent``.

    Nothing of the solution shows, not even the names it uses on the way: the answer's
    placeholder is the line above the markers, written in the source.
    """
    return [indent + FUNCTION_STUB + "\n"] if indent else [YOUR_CODE]


def strip_code(source: str, where: str) -> tuple[str, list[str]]:
    """``source`` with every BEGIN/END SOLUTION region replaced; also return the removed lines."""
    out: list[str] = []
    removed: list[str] = []
    region: list[str] | None = None
    indent = ""
    for line in source.splitlines(keepends=True):
        stripped = line.strip()
        if stripped == BEGIN:
            if region is not None:
                raise HandoutError(f"{where}: a second {BEGIN} before {END}")
            region, indent = [], line[: len(line) - len(line.lstrip())]
        elif stripped == END:
            if region is None:
                raise HandoutError(f"{where}: {END} without {BEGIN}")
            out += placeholder(region, indent)
            removed += region
            region = None
        elif region is not None:
            region.append(line)
        else:
            out.append(line)
    if region is not None:
        raise HandoutError(f"{where}: {BEGIN} is never closed by {END}")
    return "".join(out), removed


def make_handout(
    notebook: dict, name: str = "notebook", student_id: str | None = None
) -> Stripped:
    """A copy of ``notebook`` (nbformat 4 JSON as a dict) with its solutions taken out.

    A notebook with exercises also gets :func:`student_cell` after its first cell (the
    title), and the code cell after each solution gate (the checker) the tag ``CHECK_TAG``.
    """
    nb = copy.deepcopy(notebook)
    cells, removed, in_gate, exercises, own = [], [], False, 0, []
    check_next = False
    for index, cell in enumerate(nb["cells"]):
        text = cell_text(cell)
        where = f"{name}, cell {index}"
        if cell["cell_type"] == "markdown" and GATE_START.match(text):
            if in_gate:
                raise HandoutError(f"{where}: solution-start inside another solution")
            in_gate, exercises = True, exercises + 1
            continue
        if cell["cell_type"] == "markdown" and GATE_END.match(text):
            if not in_gate:
                raise HandoutError(f"{where}: solution-end without solution-start")
            in_gate, check_next = False, True
            continue
        if in_gate and cell["cell_type"] == "markdown":
            removed += text.splitlines(keepends=True)
            continue
        if in_gate and cell["cell_type"] == "code" and BEGIN not in text:
            raise HandoutError(
                f"{where}: a code cell inside a solution gate must mark its solution with "
                f"{BEGIN} / {END}, or it would reach students as it is"
            )
        if cell["cell_type"] == "code" and BEGIN in text:
            new, lines = strip_code(text, where)
            cell["source"], cell["outputs"], cell["execution_count"] = new, [], None
            removed += lines
        if cell["cell_type"] == "markdown" and EXERCISE.search(text):
            own = []
        elif cell["cell_type"] == "code" and not check_next:
            own.append(cell)
        if check_next and cell["cell_type"] == "code":
            require_placeholders(checked_names(cell), own, where)
            tags = cell.setdefault("metadata", {}).setdefault("tags", [])
            tags.append(CHECK_TAG)
            check_next = False
        cells.append(cell)
    if in_gate:
        raise HandoutError(f"{name}: a solution-start is never closed by solution-end")
    if exercises:
        cells.insert(1, student_cell(student_id))
    nb["cells"] = cells
    return Stripped(nb, removed, exercises)


def leaked_lines(
    handout: dict, removed: list[str], min_length: int = 12, source: dict | None = None
) -> list[str]:
    """Solution lines (long enough to be telling) that still appear somewhere in ``handout``.

    With ``source`` (the notebook the handout was made from), a line the chapter also shows
    outside its solutions (a formula taught in the text, then asked for in an exercise) is
    allowed as often as it appears there: a leak is a line that occurs in the handout more
    often than in the source minus the times it was removed.
    """
    text = [line.strip() for cell in handout["cells"] for line in cell_text(cell).splitlines()]
    original = (
        [line.strip() for cell in source["cells"] for line in cell_text(cell).splitlines()]
        if source is not None else None
    )
    stripped = [line.strip() for line in removed if len(line.strip()) >= min_length]
    leaks = []
    for line in sorted(set(stripped)):
        in_handout = sum(line in t for t in text)
        allowed = 0 if original is None else sum(line in t for t in original) - stripped.count(line)
        if in_handout > allowed:
            leaks.append(line)
    return leaks


# ------------------------------------------------------------------ `make handouts`
# `make handouts`: student notebooks without solutions, the instructor's with, and a zip.
#
# Writes ``_build/handouts/student/*.ipynb`` (solutions replaced by placeholders, outputs
# cleared), ``_build/handouts/instructor/*.ipynb`` (the book's notebooks as they are) and
# two zips: ``backprop-book-students.zip`` (``student/`` and a short README, no solution:
# the one to upload where students download) and ``backprop-book-instructor.zip``
# (``instructor/``, with the solutions: for teachers only).
# Refuses to write a handout that still contains a line of a solution.
#
# ``--students roster.txt`` (one id per line) also writes ``student/<id>/*.ipynb`` with each
# student's id already set, so neighbours work the same exercises with different numbers.

OUT = BUILD / "handouts"
README = """Backpropagation, nudge by nudge: class handouts

student/     the chapter notebooks (and student/<id>/ per student, when a roster was given) with every exercise's solution replaced by a placeholder.
             Run a notebook top to bottom: it stops at the first exercise you have not done,
             and each checker says "not done yet" until you replace the placeholder.
instructor/  the same notebooks with the solutions (marked ### BEGIN SOLUTION / ### END
             SOLUTION, as nbgrader marks them). For nbgrader on a JupyterHub, do not copy
             these: `make course` in the book's repository writes a course whose
             assignments nbgrader grades right (see the book's page For instructors).

The notebooks import the book's helper package `backprop_book`; install it with the book's
requirements.txt (see the README of the book's repository).
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=Path, help="a roster: one student id per line")
    args = parser.parse_args(argv)
    roster = read_roster(args.students) if args.students else []
    shutil.rmtree(OUT, ignore_errors=True)
    (OUT / "student").mkdir(parents=True)
    (OUT / "instructor").mkdir()
    total = 0
    for path in toc.notebooks():
        notebook = json.loads(path.read_text())
        handout = make_handout(notebook, path.name)
        leaks = leaked_lines(handout.notebook, handout.removed, source=notebook)
        if leaks:
            print(
                f"{path.name}: solution lines would leak into the handout: {leaks}", file=sys.stderr
            )
            return 1
        (OUT / "student" / path.name).write_text(json.dumps(handout.notebook, indent=1) + "\n")
        for student_id in roster:
            own = make_handout(notebook, path.name, student_id=student_id).notebook
            (OUT / "student" / student_id).mkdir(exist_ok=True)
            (OUT / "student" / student_id / path.name).write_text(json.dumps(own, indent=1) + "\n")
        shutil.copy(path, OUT / "instructor" / path.name)
        total += handout.exercises
        print(
            f"{path.name}: {handout.exercises} exercises, {len(handout.removed)} solution lines removed"
        )
    folders = ["student", "instructor", *(f"student/{s}" for s in roster)]
    for folder in folders:  # the figures the notebooks show, beside every notebook
        shutil.copytree(BOOK / "images", OUT / folder / "images")
    (OUT / "README.txt").write_text(README)
    students, instructor = write_zips(OUT)
    print(f"{total} exercises; handouts in {OUT.relative_to(ROOT)}; for students: "
          f"{students.relative_to(ROOT)}; for teachers only (solutions): "
          f"{instructor.relative_to(ROOT)}")
    return 0


STUDENT_README = (README.split("instructor/")[0].rstrip() + "\n\n"
                  + README.rsplit("\n\n", 1)[1])


def write_zips(out: Path) -> tuple[Path, Path]:
    """The students' zip (``student/`` only: no solution) and the instructor's, in ``out``."""
    students = out / "backprop-book-students.zip"
    instructor = out / "backprop-book-instructor.zip"
    for archive, folder, readme in ((students, "student", STUDENT_README),
                                    (instructor, "instructor", README)):
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("README.txt", readme)
            for file in sorted((out / folder).rglob("*")):
                if file.is_file():
                    z.write(file, file.relative_to(out))
    return students, instructor

