"""An nbgrader course from the chapter notebooks: one lean assignment per chapter.

A chapter's exercises are turned into an nbgrader *source* notebook (what an instructor
keeps under ``source/<assignment>/``); ``nbgrader generate_assignment`` then makes the
student release from it. The assignment holds:

* the chapter's title cell (with its picture), a short note, and a locked cell that takes
  the student's numbers from their class identity (:func:`use_class_identity`);
* only the setup the exercises need: the earlier cells that define a name the exercise
  cells use, found by reading the code (:func:`needed_cells`), not the demonstrations;
* each exercise's statement and given numbers (locked), its solution cell (nbgrader's
  ``### BEGIN SOLUTION`` markers, already in the chapter) and, for every checker call, a
  locked, graded test cell worth one point that *displays* the checker's verdict.

Written solutions (the Markdown between ``{solution-start}`` and ``{solution-end}``) are left
out. The exercise text lives once, in the chapter notebook and its checker module.

Per-student numbers: :func:`class_student` is the student id nbgrader grades under during
``nbgrader autograde`` (passed to the kernel by :class:`backprop_book.nbgrader_hooks.
StudentIdentity`) and the hub login (``JUPYTERHUB_USER``) while the student works, so the
numbers a student is given are the numbers the autograder checks.
"""

from __future__ import annotations

import ast
import copy
import os
import re

from .checkers import set_student
from .handouts import BEGIN, GATE_END, GATE_START, HandoutError, _source

#: The environment variable through which the autograder tells the kernel whose work it is.
STUDENT_ENV = "BACKPROP_BOOK_STUDENT"
HUB_USER_ENV = "JUPYTERHUB_USER"
EXERCISE = re.compile(r"^\s*[`:]{3,}\s*\{exercise\}", re.M)
HEADING = re.compile(r"^##\s", re.M)
SOLUTION_REGION = re.compile(r"^([ \t]*)### BEGIN SOLUTION.*?### END SOLUTION[^\n]*\n?", re.M | re.S)
IMAGE = re.compile(r"(images/[\w./-]+\.(?:svg|png|jpe?g|gif))")

INTRO = """\
**This assignment** holds the exercises of the chapter (read the chapter itself in the
book). Run the cells from the top. Write each answer in the cell marked `YOUR CODE HERE`
(replace the line `raise NotImplementedError()`), then run the check below it: it says
*right*, *not done yet*, or what is wrong. Your numbers are your own: they come from your
login on the class hub, and the grader checks your answers against the same numbers.
"""
IDENTITY = """\
# Your exercise numbers come from your login; the grader uses the same ones.
from backprop_book.course import use_class_identity

use_class_identity()
"""


# ------------------------------------------------------------------ identity


class IdentityError(RuntimeError):
    """The autograder ran without telling the kernel whose submission it grades."""


def class_student() -> str | None:
    """The student whose numbers this kernel should use, or ``None`` (the book's numbers).

    Under ``nbgrader autograde`` it is nbgrader's student id (``STUDENT_ENV``, set by the
    course's config); otherwise it is the JupyterHub login (``JUPYTERHUB_USER``), which
    the hub sets in every server it spawns, or ``None`` outside a hub.
    """
    if os.environ.get("NBGRADER_EXECUTION") == "autograde":
        student = os.environ.get(STUDENT_ENV, "").strip()
        if not student:
            raise IdentityError(
                f"nbgrader autograde ran without {STUDENT_ENV}: grade with the course's "
                "nbgrader_config.py (it adds backprop_book.nbgrader_hooks.StudentIdentity), "
                "or every student would be checked against someone else's numbers."
            )
        return student
    return os.environ.get(HUB_USER_ENV) or None


def use_class_identity() -> str | None:
    """Set the exercises' numbers from :func:`class_student`; return the id used."""
    student = class_student()
    set_student(student)
    return student


# ------------------------------------------------------------------ reading code


def _parse(code: str) -> ast.Module | None:
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        return ast.parse(TransformerManager().transform_cell(code))
    except SyntaxError:
        return None


def _bindings(body: list[ast.stmt]) -> tuple[set[str], set[str]]:
    """Names module-level ``body`` binds, and names whose attributes or items it sets."""
    bound: set[str] = set()
    mutated: set[str] = set()
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign | ast.For):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for sub in ast.walk(target):
                    if isinstance(sub, ast.Name):
                        (bound if isinstance(sub.ctx, ast.Store) else mutated).add(sub.id)
        for field in ("body", "orelse", "finalbody"):
            inner = getattr(node, field, None)
            if inner and not isinstance(node, ast.FunctionDef | ast.ClassDef):
                b, m = _bindings(inner)
                bound |= b
                mutated |= m
        if isinstance(node, ast.With):
            for item in node.items:
                if isinstance(item.optional_vars, ast.Name):
                    bound.add(item.optional_vars.id)
    return bound, mutated - bound


def names_used(code: str) -> set[str]:
    """The free names of ``code``: what it reads without binding it itself (builtins too)."""
    import symtable

    from IPython.core.inputtransformer2 import TransformerManager

    try:
        top = symtable.symtable(TransformerManager().transform_cell(code), "cell", "exec")
    except SyntaxError:
        return set()
    free = {s.get_name() for s in top.get_symbols()
            if s.is_referenced() and not (s.is_assigned() or s.is_imported())}
    bound = {s.get_name() for s in top.get_symbols() if s.is_assigned() or s.is_imported()}
    todo = list(top.get_children())
    while todo:
        table = todo.pop()
        todo += table.get_children()
        free |= {s.get_name() for s in table.get_symbols()
                 if s.is_global() and s.is_referenced() and s.get_name() not in bound}
    return free


def names_bound(code: str) -> tuple[set[str], set[str]]:
    """(names ``code`` binds at module level, names it extends by attribute or item)."""
    tree = _parse(code)
    return _bindings(tree.body) if tree is not None else (set(), set())


def needed_cells(cells: list[dict], wanted: set[str]) -> list[int]:
    """Indices of the code ``cells`` that define the names in ``wanted``, transitively.

    For each name, the last cell that binds it is taken, and every later cell that sets one
    of its attributes or items (``Value.__mul__ = ...``). The cells those need come too.
    """
    info = [
        names_bound(_source(c)) if c["cell_type"] == "code" else (set(), set()) for c in cells
    ]
    chosen: set[int] = set()
    todo, seen = list(wanted), set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        binders = [i for i, (bound, _) in enumerate(info) if name in bound]
        if not binders:
            continue
        last = binders[-1]
        for i in [last] + [j for j, (_, mut) in enumerate(info) if j > last and name in mut]:
            if i not in chosen:
                chosen.add(i)
                todo.extend(names_used(_source(cells[i])))
    return sorted(chosen)


def without_unused_imports(code: str, needed: set[str]) -> str:
    """``code`` without its top-level imports of which no name is in ``needed`` or used by
    the cell's other statements (a chapter's setup cell imports for its demonstrations too;
    an assignment's kernel need not spend a third of a second importing matplotlib).

    An import binding several names stays if any one is used; code with IPython syntax
    (magics) is left as it is.
    """
    from IPython.core.inputtransformer2 import TransformerManager

    if TransformerManager().transform_cell(code) != code.rstrip("\n") + "\n":
        return code
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code
    imports = [s for s in tree.body if isinstance(s, ast.Import | ast.ImportFrom)]
    lines = code.splitlines(keepends=True)
    rest = "".join(line for i, line in enumerate(lines, 1)
                   if not any(s.lineno <= i <= s.end_lineno for s in imports))
    used = needed | names_used(rest)
    drop = [s for s in imports
            if not any((a.asname or a.name.split(".")[0]) in used for a in s.names)]
    kept = [line for i, line in enumerate(lines, 1)
            if not any(s.lineno <= i <= s.end_lineno for s in drop)]
    return re.sub(r"\n{3,}", "\n\n", "".join(kept)).lstrip("\n")


# ------------------------------------------------------------------ the assignment


def exercise_span(cells: list[dict], name: str) -> tuple[int, int]:
    """[start, end) of the chapter's exercise section: its heading to the next heading."""
    firsts = [i for i, c in enumerate(cells) if c["cell_type"] == "markdown"
              and EXERCISE.search(_source(c))]
    if not firsts:
        raise HandoutError(f"{name}: no {{exercise}} in this notebook")
    start = firsts[0]
    before = _source(cells[start - 1]) if start else ""
    if HEADING.search(before) and "xercise" in before:
        start -= 1
    end = next((i for i in range(firsts[0] + 1, len(cells)) if cells[i]["cell_type"] ==
                "markdown" and HEADING.search(_source(cells[i]))
                and not EXERCISE.search(_source(cells[i]))), len(cells))
    return start, end


def _meta(cell: dict, **nbgrader) -> dict:
    cell = copy.deepcopy(cell)
    cell["metadata"] = {k: v for k, v in cell.get("metadata", {}).items() if k == "tags"}
    cell["metadata"]["nbgrader"] = {"schema_version": 3, "grade": False, "solution": False,
                                    "locked": False, **nbgrader}
    if cell["cell_type"] == "code":
        cell["outputs"], cell["execution_count"] = [], None
    return cell


def locked(cell: dict) -> dict:
    """``cell`` read-only in the assignment (nbgrader restores it at grading)."""
    return _meta(cell, locked=True, grade_id=f"locked-{cell['id']}")


def test_cells(cell: dict, label: str, points: int = 1) -> list[dict]:
    """One locked, graded test cell per checker call in ``cell``; each shows its verdict.

    ``ex.check_x(answer)`` becomes ``display(ex.check_x(answer))``: a displayed verdict is
    full credit to nbgrader, a raised one (wrong, or not done while grading) is none.
    """
    tree = _parse(_source(cell))
    if tree is None or not tree.body:
        raise HandoutError(f"{label}: the checker cell {cell['id']} is not Python")
    out = []
    for k, stmt in enumerate(tree.body):
        code = ast.unparse(stmt)
        if isinstance(stmt, ast.Expr) and not code.startswith("display("):
            code = f"display({code})"
        new = _meta(dict(cell, source=code), grade=True, locked=True, points=points,
                    grade_id=f"check-{label}" + (f"-{k + 1}" if k else ""))
        new["id"] = cell["id"] + (f"-{k + 1}" if k else "")
        out.append(new)
    return out


def checked_names(cell: dict) -> list[str]:
    """The names a checker cell passes to its checkers: the exercise's answers."""
    tree = _parse(_source(cell))
    names = []
    for node in ast.walk(tree) if tree else []:
        func = getattr(node, "func", None)
        if isinstance(node, ast.Call) and (
            getattr(func, "attr", None) or getattr(func, "id", "")
        ).startswith("check"):
            names += [a.id for a in node.args if isinstance(a, ast.Name)]
    return names


def require_placeholders(answers: list[str], cells: list[dict], label: str) -> None:
    """Every answer must be bound by the exercise's own code outside the solution region."""
    bound: set[str] = set()
    for cell in cells:
        text = _source(cell)
        outside = SOLUTION_REGION.sub(r"\1pass\n", text)
        bound |= names_bound(outside)[0]
    missing = [a for a in answers if a not in bound]
    if missing:
        raise HandoutError(
            f"{label}: {missing} must be set by the exercise itself above {BEGIN} (a "
            "placeholder such as `answer = None`), or an untouched answer would be checked "
            "with a value from an earlier cell"
        )


def exercises(cells: list[dict], name: str) -> tuple[list[dict], list[str]]:
    """The exercise section as assignment cells; also the grade ids of the test cells."""
    out, grade_ids, label, in_gate, own = [], [], None, False, []
    for cell in cells:
        text = _source(cell)
        if cell["cell_type"] == "markdown" and GATE_START.match(text):
            label, in_gate = text.split("}", 1)[1].split()[0], True
            continue
        if cell["cell_type"] == "markdown" and GATE_END.match(text):
            in_gate = False
            continue
        if in_gate and cell["cell_type"] == "markdown":
            continue  # a written solution: never released
        if in_gate:
            out.append(_meta(cell, solution=True, grade_id=cell["metadata"]["nbgrader"]
                             ["grade_id"]))
            own.append(cell)
        elif label and cell["cell_type"] == "code":
            require_placeholders(checked_names(cell), own, f"{name}, {label}")
            tests = test_cells(cell, label)
            out += tests
            grade_ids += [t["metadata"]["nbgrader"]["grade_id"] for t in tests]
            label, own = None, []
        else:
            out.append(locked(cell))
            if cell["cell_type"] == "code":
                own.append(cell)
            if EXERCISE.search(text):
                own = [] if cell["cell_type"] == "markdown" else own
    return out, grade_ids


def assignment(notebook: dict, name: str) -> tuple[dict, list[str]]:
    """The nbgrader source notebook of one chapter, and the grade ids of its test cells."""
    cells = notebook["cells"]
    start, end = exercise_span(cells, name)
    section, grade_ids = exercises(cells[start:end], name)
    code = [_source(c) for c in cells[start:end] if c["cell_type"] == "code"]
    own = set().union(*(names_bound(c)[0] for c in code))
    wanted = set().union(*(names_used(c) for c in code)) - own
    setup = [locked(cells[i]) for i in needed_cells(cells[1:start], wanted)
             for i in [i + 1]]
    head = [
        locked(cells[0]),
        locked({"cell_type": "markdown", "id": "course-intro", "metadata": {},
                "source": INTRO}),
        locked({"cell_type": "code", "id": "course-identity", "metadata": {},
                "source": IDENTITY}),
    ]
    for cell in setup:
        if cell["cell_type"] == "code":
            others = [c for c in head + setup + section if c is not cell]
            needed = set().union(*(names_used(_source(c)) for c in others
                                   if c["cell_type"] == "code"))
            cell["source"] = without_unused_imports(_source(cell), needed)
    nb = copy.deepcopy({k: v for k, v in notebook.items() if k != "cells"})
    nb["cells"] = head + setup + section
    return nb, grade_ids


def images(notebook: dict) -> list[str]:
    """The image files (relative paths) the notebook's Markdown shows."""
    return sorted({m for c in notebook["cells"] if c["cell_type"] == "markdown"
                   for m in IMAGE.findall(_source(c))})
