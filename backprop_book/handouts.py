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

import ast
import copy
import re
import textwrap
from dataclasses import dataclass

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
GATE_START = re.compile(r"^\s*[`:]{3,}\s*\{solution-start\}")
GATE_END = re.compile(r"^\s*[`:]{3,}\s*\{solution-end\}")
YOUR_CODE = "# YOUR CODE HERE\n"
FUNCTION_STUB = (
    'raise NotImplementedError("Exercise: write this part, then run the checker below.")'
)


CHECK_TAG = "exercise-check"
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


class HandoutError(ValueError):
    """A notebook whose solution markers cannot be stripped safely."""


@dataclass
class Stripped:
    """A handout notebook and the solution lines taken out of it (to check none leaked)."""

    notebook: dict
    removed: list[str]
    exercises: int


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


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
    from .course import EXERCISE, checked_names, require_placeholders

    nb = copy.deepcopy(notebook)
    cells, removed, in_gate, exercises, own = [], [], False, 0, []
    check_next = False
    for index, cell in enumerate(nb["cells"]):
        text = _source(cell)
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
    text = [line.strip() for cell in handout["cells"] for line in _source(cell).splitlines()]
    original = (
        [line.strip() for cell in source["cells"] for line in _source(cell).splitlines()]
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
