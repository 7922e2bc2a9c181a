"""An nbgrader course from the chapter notebooks: one lean assignment per chapter.

A chapter's exercises are turned into an nbgrader *source* notebook (what an instructor
keeps under ``source/<assignment>/``); ``nbgrader generate_assignment`` then makes the
student release from it. The assignment holds:

* the chapter's title cell (with its picture), a short note, and a locked cell that takes
  the student's numbers from their class identity (:func:`backprop_book.classroom.use_class_identity`);
* only the setup the exercises need: the earlier cells that define a name the exercise
  cells use, found by reading the code (:func:`needed_cells`), not the demonstrations;
* each exercise's statement and given numbers (locked), its solution cell (nbgrader's
  ``### BEGIN SOLUTION`` markers, already in the chapter) and, for every checker call, a
  locked, graded test cell worth one point, ``graded("<module>.check_x", answer)``, that shows
  the checker's verdict and records the answer for the grader to check again
  (:mod:`backprop_book.grading`); a code exercise whose checker lists ``parts`` (the arrays
  its function returns) gets one such cell per array, ``graded(..., answer, part="dW1")``:
  credit per right array.

Written solutions (the Markdown between ``{solution-start}`` and ``{solution-end}``) are left
out. The exercise text lives once, in the chapter notebook and its checker module.

Per-student numbers: :func:`backprop_book.classroom.class_student` is the student id nbgrader grades under during
``nbgrader autograde`` (passed to the kernel by :class:`bookkit.nbgrader_hooks.
StudentIdentity`) and the hub login (``JUPYTERHUB_USER``) while the student works, so the
numbers a student is given are the numbers the autograder checks.
"""

from __future__ import annotations

import argparse
import ast
import copy
import importlib
import json
import re
from pathlib import Path

from . import course_folder, plain_markdown, toc
from .anatomy import (
    EXERCISE,
    EXERCISE_IMPORT,
    GATE_END,
    GATE_START,
    IMAGE,
    HandoutError,
    as_python,
    cell_text,
    checked_names,
    exercise_span,
    names_bound,
    names_used,
    parse,
    require_placeholders,
)
from .paths import ROOT

INTRO = """\
**This assignment** holds the exercises of the chapter (read the chapter itself in the
book). Run all the cells from the top: every exercise shows its given numbers, and each
check says *not done yet* until you answer. Write each answer in the cell marked
`YOUR CODE HERE` (in a function, in place of the line `raise NotImplementedError()`), then
run the check below it: it says *right*, *not done yet*, or what is wrong. Your numbers are
your own: they come from your login on the class hub, and the grader checks your answers
against the same numbers.
"""
IDENTITY = """\
# Your exercise numbers come from your login; the grader uses the same ones.
from backprop_book.classroom import use_class_identity
from backprop_book.grading import graded

use_class_identity()
"""


def needed_cells(cells: list[dict], wanted: set[str]) -> list[int]:
    """Indices of the code ``cells`` that define the names in ``wanted``, transitively.

    For each name, the last cell that binds it is taken, and every later cell that sets one
    of its attributes or items (``Value.__mul__ = ...``). The cells those need come too.
    """
    info = [
        names_bound(cell_text(c)) if c["cell_type"] == "code" else (set(), set()) for c in cells
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
                todo.extend(names_used(cell_text(cells[i])))
    return sorted(chosen)


def _plain_python(code: str) -> ast.Module | None:
    """``code``'s syntax tree, or None when it is not plain Python (IPython's magics, a
    syntax error): the cell-pruning functions below leave such code as it is."""
    if as_python(code) != code.rstrip("\n") + "\n":
        return None
    try:
        return ast.parse(code)
    except SyntaxError:
        return None


def without_unused_imports(code: str, needed: set[str]) -> str:
    """``code`` without its top-level imports of which no name is in ``needed`` or used by
    the cell's other statements (a chapter's setup cell imports for its demonstrations too;
    an assignment's kernel need not spend a third of a second importing matplotlib).

    An import binding several names stays if any one is used; code with IPython syntax
    (magics) is left as it is.
    """
    tree = _plain_python(code)
    if tree is None:
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


#: Calls that only show something: a setup statement that makes one shows the chapter's
#: reader a result, and a student of the assignment an unexplained one.
SHOW_ONLY = frozenset({"display", "print", "glue"})
#: Modules whose functions compute without a side effect (NumPy's random functions aside,
#: but for making a generator).
PURE_MODULES = frozenset({"np", "sp", "math", "time"})


def _pure(node: ast.AST, functions: frozenset[str] = frozenset(),
          modules: set[str] | frozenset[str] = frozenset()) -> bool:
    """Whether evaluating ``node`` has no effect but its value: every call in it (outside a
    ``lambda``'s body, which does not run) is a function of NumPy (not ``np.random``, but
    ``np.random.default_rng``), SymPy, ``math`` or ``time``, of one of ``modules`` (an
    exercise module: its given numbers), or one of ``functions`` (lambdas of such calls)."""
    if isinstance(node, ast.Lambda):
        return True
    if isinstance(node, ast.Call):
        root, chain = node.func, []
        while isinstance(root, ast.Attribute):
            chain.append(root.attr)
            root = root.value
        module = isinstance(root, ast.Name) and (
            root.id in modules and chain
            or root.id in PURE_MODULES and ("random" not in chain
                                            or chain == ["default_rng", "random"]))
        if not (module or isinstance(root, ast.Name) and not chain and root.id in functions):
            return False
    return all(_pure(child, functions, modules) for child in ast.iter_child_nodes(node))


def _loaded(node: ast.AST) -> list[str]:
    """Every name ``node`` reads, once per reading."""
    return [n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)]


def _configures_unused(stmt: ast.stmt, needed: set[str], modules: set[str]) -> bool:
    """``torch.set_num_threads(1)``: a call with constant arguments of a function of a
    module this cell imports (``modules``) that nothing in ``needed`` uses. Its only
    effect is on that module, which nothing after it reads."""
    call = stmt.value if isinstance(stmt, ast.Expr) else None
    return (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
            and isinstance(call.func.value, ast.Name) and call.func.value.id in modules
            and call.func.value.id not in needed
            and all(isinstance(a, ast.Constant) for a in call.args)
            and all(isinstance(k.value, ast.Constant) for k in call.keywords))


def _optional_import(stmt: ast.stmt, needed: set[str]) -> bool:
    """``try: import torch`` / ``except ImportError: torch = None; print(...)``, where
    nothing in ``needed`` uses a name it binds."""
    if not (isinstance(stmt, ast.Try) and stmt.handlers and not stmt.orelse
            and not stmt.finalbody
            and all(isinstance(s, ast.Import | ast.ImportFrom) for s in stmt.body)):
        return False
    bound = {(a.asname or a.name.split(".")[0]) for s in stmt.body for a in s.names}
    for handler in stmt.handlers:
        if not (isinstance(handler.type, ast.Name)
                and handler.type.id in ("ImportError", "ModuleNotFoundError")):
            return False
        for s in handler.body:
            if isinstance(s, ast.Assign) and isinstance(s.value, ast.Constant):
                bound |= {n.id for t in s.targets for n in ast.walk(t) if isinstance(n, ast.Name)}
            elif not _droppable(s, needed, frozenset()):
                return False
    return not bound & needed


def _droppable(stmt: ast.stmt, needed: set[str], functions: frozenset[str],
               modules: set[str] | frozenset[str] = frozenset()) -> bool:
    """A setup statement the assignment does without: one that only shows something, a
    side-effect-free assignment of names nothing later reads (the chapter's colours), a
    function nothing later calls, a call that only configures a module nothing later uses
    (``torch.set_num_threads(1)``: the import then goes too), or an optional import of
    names nothing later uses."""
    if isinstance(stmt, ast.Expr):
        call = stmt.value
        return (isinstance(call, ast.Name | ast.Constant) or isinstance(call, ast.Call)
                and isinstance(call.func, ast.Name) and call.func.id in SHOW_ONLY
                or _configures_unused(stmt, needed, modules))
    if isinstance(stmt, ast.FunctionDef):  # defining it has no effect but its name
        defaults = stmt.args.defaults + [d for d in stmt.args.kw_defaults if d is not None]
        return (not stmt.decorator_list and stmt.name not in needed
                and all(_pure(d, functions) for d in defaults))
    if isinstance(stmt, ast.Try):
        return _optional_import(stmt, needed)
    if isinstance(stmt, ast.Assign | ast.AnnAssign) and stmt.value is not None:
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        names = [n for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
        plain = all(isinstance(n, ast.Name | ast.Tuple | ast.List | ast.Starred)
                    for t in targets for n in ast.walk(t) if isinstance(n, ast.expr)
                    and not isinstance(n, ast.expr_context))
        return plain and not {n.id for n in names} & needed and _pure(stmt.value, functions)
    return False


def without_unneeded_statements(code: str, needed: set[str]) -> str:
    """``code`` (a setup cell) without its top-level statements that only show something,
    compute or define names that nothing in ``needed`` and no statement above reads, or
    only configure a module nothing else uses (:func:`_droppable`), with the comment lines
    right above them.

    A chapter's setup cell defines what the exercises use and, beside it, what its own
    demonstrations use; the assignment keeps the first. Code with IPython syntax is left as
    it is, and so is a statement that shares a line with another."""
    tree = _plain_python(code)
    if tree is None:
        return code
    lines = code.splitlines(keepends=True)
    functions = frozenset(t.id for s in tree.body if isinstance(s, ast.Assign)
                          and isinstance(s.value, ast.Lambda) and _pure(s.value.body)
                          for t in s.targets if isinstance(t, ast.Name))
    modules = {(a.asname or a.name.split(".")[0]) for s in tree.body
               if isinstance(s, ast.Import | ast.ImportFrom) for a in s.names}
    owners: dict[int, int] = {}
    for stmt in tree.body:
        for line in range(stmt.lineno, stmt.end_lineno + 1):
            owners[line] = owners.get(line, 0) + 1
    drop: set[int] = set()
    kept_needs = set(needed)
    for stmt in reversed(tree.body):
        alone = all(owners[ln] == 1 for ln in range(stmt.lineno, stmt.end_lineno + 1))
        # (a name a statement above reads, even in a function's body, is needed too)
        above = {n for s in tree.body[:tree.body.index(stmt)] for n in _loaded(s)}
        if alone and _droppable(stmt, kept_needs | above, functions, modules):
            drop.update(range(stmt.lineno, stmt.end_lineno + 1))
            above = stmt.lineno - 1
            while above >= 1 and lines[above - 1].lstrip().startswith("#"):
                drop.add(above)
                above -= 1
        else:
            kept_needs |= names_used(ast.unparse(stmt))
    kept = [line for i, line in enumerate(lines, 1) if i not in drop]
    return re.sub(r"\n{3,}", "\n\n", "".join(kept)).strip("\n") + "\n"


# ------------------------------------------------------------------ the assignment



def trim_setup(setup: list[dict], later: list[str]) -> None:
    """Cut the chapter's cells ``setup`` (in place) to what the code ``later`` needs, as a
    lean assignment's setup is cut: from the last cell back, the statements nothing after
    them reads (:func:`without_unneeded_statements`); then in each code cell the imports no
    other cell uses (:func:`without_unused_imports`). A cell may end up empty."""
    code = [c for c in setup if c["cell_type"] == "code"]
    needed = set().union(*(names_used(t) for t in later))
    for cell in reversed(code):  # what the later code needs, back to where it is defined
        cell["source"] = without_unneeded_statements(cell_text(cell), needed)
        needed |= names_used(cell_text(cell))
    for cell in code:
        others = [cell_text(c) for c in code if c is not cell] + list(later)
        cell["source"] = without_unused_imports(cell_text(cell),
                                                set().union(*(names_used(t) for t in others)))

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


def _checker_call(stmt: ast.stmt, modules: dict[str, str]) -> tuple[str, ast.Call] | None:
    """``("<module>.check_x", call)`` for a statement ``ex.check_x(...)`` (or ``display``
    of it), when ``ex`` is a chapter's exercise module (``modules``: alias -> module)."""
    call = stmt.value if isinstance(stmt, ast.Expr) else None
    if (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
            and call.func.id == "display" and len(call.args) == 1):
        call = call.args[0]
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
            and isinstance(call.func.value, ast.Name) and call.func.value.id in modules
            and all(k.arg not in (None, "part") for k in call.keywords)):
        return None
    return f"{modules[call.func.value.id]}.{call.func.attr}", call


def graded_call(stmt: ast.stmt, modules: dict[str, str], part: str | None = None) -> str | None:
    """``ex.check_x(a, engine=Value)`` as ``graded("<module>.check_x", a, engine=Value)``,
    when ``ex`` is a chapter's exercise module (``modules``: alias -> module); with
    ``part``, the call judges that one array: ``graded("<module>.check_x", a, part="dW1")``.
    ``None`` for any other statement."""
    found = _checker_call(stmt, modules)
    if found is None:
        return None
    path, call = found
    keywords = call.keywords + ([] if part is None else [ast.keyword("part", ast.Constant(part))])
    return ast.unparse(ast.Call(ast.Name("graded"), [ast.Constant(path), *call.args], keywords))


def parts_of(path: str) -> list[str]:
    """The ``parts`` of the checker ``"<module>.check_x"`` (the arrays a code exercise's
    function returns, each graded on its own); ``[]`` for a checker without parts."""
    module, name = path.rsplit(".", 1)
    found = getattr(importlib.import_module(f"backprop_book.exercises.{module}"), name, None)
    return list(getattr(found, "parts", None) or [])


def test_cells(cell: dict, label: str, points: int = 1,
               modules: dict[str, str] | None = None) -> list[dict]:
    """One locked, graded test cell per checker call in ``cell``; each shows its verdict.

    ``ex.check_x(answer)`` becomes ``graded("<module>.check_x", answer)``
    (:func:`backprop_book.grading.graded`): it shows the verdict and records the answer,
    which the course's grader checks again in its own process. When the checker names
    ``parts`` (the arrays a code exercise returns), the call becomes one cell per part,
    ``graded("<module>.check_x", answer, part="dW1")``: credit per right array. Any other
    statement is displayed: a displayed verdict is full credit to nbgrader, a raised one none.
    """
    tree = parse(cell_text(cell))
    if tree is None or not tree.body:
        raise HandoutError(f"{label}: the checker cell {cell['id']} is not Python")
    modules = modules or {}
    out = []
    for k, stmt in enumerate(tree.body):
        suffix = f"-{k + 1}" if k else ""
        found = _checker_call(stmt, modules)
        split = [(graded_call(stmt, modules, part),
                  f"{suffix}-{re.sub(r'[^A-Za-z0-9]+', '-', part)}")
                 for part in (parts_of(found[0]) if found else [])]
        for code, tail in split or [(graded_call(stmt, modules) or ast.unparse(stmt), suffix)]:
            if isinstance(stmt, ast.Expr) and not code.startswith(("display(", "graded(")):
                code = f"display({code})"
            new = _meta(dict(cell, source=code), grade=True, locked=True, points=points,
                        grade_id=f"check-{label}{tail}")
            new["id"] = cell["id"] + tail
            out.append(new)
    return out


def given_again(given: list[dict], answer: str, aliases: set[str]) -> str:
    """The statements of an exercise's ``given`` cells that bind the numbers its ``answer``
    cell reads (``nums = ex.chain_numbers()``), to run again at the top of that cell; ``""``
    when there are none, or when one does more than read the exercise module.

    Every exercise names its numbers ``nums``: a student who runs an earlier exercise's
    answer after a later exercise's given cell would check it against the wrong numbers.
    With its own numbers at its top, an answer cell is right whatever ran before it.
    """
    stmts = []
    for cell in given:
        text = cell_text(cell)
        tree = parse(text) if "BEGIN SOLUTION" not in text else None
        stmts += [(stmt, ast.get_source_segment(text, stmt)) for stmt in (tree.body if tree else [])]
    wanted, chosen = names_used(answer), []
    for stmt, code in reversed(stmts):
        if not isinstance(stmt, ast.Assign):
            continue
        bound = {n.id for t in stmt.targets for n in ast.walk(t) if isinstance(n, ast.Name)}
        if not bound & wanted:
            continue
        if not _pure(stmt.value, frozenset(), aliases):
            return ""  # it does more than read the given numbers: leave the order to the student
        chosen.insert(0, code)
        wanted = (wanted - bound) | names_used(code)
    if not chosen:
        return ""
    return ("# this exercise's given numbers, again (so the order you run cells in never "
            "matters)\n" + "\n".join(chosen) + "\n")


def exercise_modules(cells: list[dict]) -> dict[str, str]:
    """The chapter's exercise modules, by the alias its code imports them as."""
    return {alias: module for c in cells if c["cell_type"] == "code"
            for module, alias in EXERCISE_IMPORT.findall(cell_text(c))}


def exercises(cells: list[dict], name: str,
              modules: dict[str, str] | None = None) -> tuple[list[dict], list[str]]:
    """The exercise section as assignment cells; also the grade ids of the test cells."""
    out, grade_ids, label, in_gate, own = [], [], None, False, []
    for cell in cells:
        text = cell_text(cell)
        if cell["cell_type"] == "markdown" and GATE_START.match(text):
            label, in_gate = text.split("}", 1)[1].split()[0], True
            continue
        if cell["cell_type"] == "markdown" and GATE_END.match(text):
            in_gate = False
            continue
        if in_gate and cell["cell_type"] == "markdown":
            continue  # a written solution: never released
        if in_gate:
            answer = _meta(cell, solution=True, grade_id=cell["metadata"]["nbgrader"]
                           ["grade_id"])
            again = given_again(own, cell_text(cell), set(modules or {}))
            if again:
                answer["source"] = again + cell_text(cell)
            out.append(answer)
            own.append(cell)
        elif label and cell["cell_type"] == "code":
            require_placeholders(checked_names(cell), own, f"{name}, {label}")
            tests = test_cells(cell, label, modules=modules)
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


#: Sentences of the chapters that speak to a reader of the book or of a handout, and what
#: an assignment says instead (its numbers come from the student's login).
COURSE_WORDING = [
    (r"In a\s+handout\s+from\s+your\s+teacher\s+the\s+given\s+numbers"
     r"(\s+of\s+the\s+first\s+exercise)?\s+may\s+be\s+your\s+own\.",
     r"The given numbers\1 are your own, drawn for your login."),
    (r"\s*On\s+this\s+web\s+page\s+the\s+checker\s+cells\s+have\s+already\s+run[^.]*\.", ""),
    (r"\(Your\s+teacher's\s+handout\s+may\s+plant\s+the\s+bug\s+somewhere\s+else\.\)",
     "(Your numbers are your own, so the bug may sit in another array than the book's.)"),
]


def in_course_words(text: str) -> str:
    """``text`` (a chapter's Markdown) with the book's and the handouts' sentences about
    whose numbers these are said as they hold in the course (:data:`COURSE_WORDING`)."""
    for pattern, replacement in COURSE_WORDING:
        text = re.sub(pattern, replacement, text)
    return text


def from_the_chapter(setup: list[dict], used: set[str]) -> dict:
    """A locked note above the setup: it is the chapter's code, kept for the names the
    exercises use (a student meets it without the chapter's prose around it)."""
    bound = set().union(*(names_bound(cell_text(c))[0] for c in setup))
    names = sorted(n for n in used & bound if n not in EXERCISE_ALIASES)
    which = (" for the names the exercises use: " + ", ".join(f"`{n}`" for n in names)
             if names else " for the imports the exercises use")
    return locked({"cell_type": "markdown", "id": "course-setup", "metadata": {},
                   "source": f"**From the chapter.** The code below is the chapter's own, kept{which}. "
                             "The chapter in the book explains it; run it, there is nothing to "
                             "change.\n"})


#: Module aliases a setup cell imports (their names say nothing to a student).
EXERCISE_ALIASES = frozenset({"np", "sp", "bb", "ex", "plt", "math", "torch", "time"})


def assignment(notebook: dict, name: str) -> tuple[dict, list[str]]:
    """The nbgrader source notebook of one chapter, and the grade ids of its test cells."""
    cells = notebook["cells"]
    start, end = exercise_span(cells, name)
    section, grade_ids = exercises(cells[start:end], name, exercise_modules(cells))
    code = [cell_text(c) for c in cells[start:end] if c["cell_type"] == "code"]
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
    later = [cell_text(c) for c in head + section if c["cell_type"] == "code"]
    used = set().union(*(names_used(t) for t in later))
    trim_setup(setup, later)
    setup = [c for c in setup if cell_text(c).strip()]
    if setup:
        head.append(from_the_chapter(setup, used))
    nb = copy.deepcopy({k: v for k, v in notebook.items() if k != "cells"})
    nb["cells"] = head + setup + section
    for cell in nb["cells"]:  # what the classic notebook, nbconvert and the formgrader show
        if cell["cell_type"] == "markdown":
            cell["source"] = in_course_words(plain_markdown.plain(cell_text(cell)))
    return nb, grade_ids


def images(notebook: dict) -> list[str]:
    """The image files (relative paths) the notebook's Markdown shows."""
    return sorted({m for c in notebook["cells"] if c["cell_type"] == "markdown"
                   for m in IMAGE.findall(cell_text(c))})


# ------------------------------------------------------------------ `make course`
# `make course`: the nbgrader course, one lean assignment per chapter, in the teacher's
# course folder (``course/`` at the repository's root unless ``--out`` names another).
#
# Writes ``nbgrader_config.py``, ``README.md`` and ``source/<chapter>/<chapter>.ipynb``
# (with the images it shows), built from the chapter notebooks, through
# :func:`bookkit.course_folder.update`: a file the teacher edited is never overwritten.
# Then, in the folder: ``nbgrader generate_assignment <chapter>`` makes the student
# release, ``nbgrader autograde <chapter>`` grades the submissions.

OUT = ROOT / "course"
CONFIG = '''\
"""nbgrader configuration of the backprop book's course (written by `make course`).

Edit it freely: rebuilding the course never overwrites a file you changed.
"""

import os
import tempfile

from bookkit.nbgrader_hooks import (
    FEEDBACK_TEMPLATE,
    autograde_preprocessors,
    feedback_preprocessors,
    feedback_template_dirs,
    generate_preprocessors,
)

c = get_config()  # noqa: F821 (nbgrader provides it)
here = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.root = here
c.CourseDirectory.course_id = "backprop-book"
# Tell each grading kernel whose submission it runs (the numbers depend on it), and check
# every answer again in nbgrader's own process, where a student's code cannot reach.
c.Autograde.autograde_preprocessors = autograde_preprocessors()
# Students' release: an answer at a cell's top level is left as its placeholder (`= None`,
# "not done yet"), without nbgrader's `raise`, so Run All runs the whole assignment.
c.GenerateAssignment.preprocessors = generate_preprocessors()
c.Execute.timeout = 120
# Each grading kernel talks to nbgrader over local sockets named after this nbgrader
# process (IPC), not over TCP: a port picked free for a kernel can be taken by another
# program before the kernel binds it ("Address already in use", the kernel dies and the
# submission is not graded), as by a second grader that `python -m bookkit autograde
# --jobs N` runs beside this one. (Windows has no such sockets: TCP there.)
if os.name != "nt":
    c.KernelManager.transport = "ipc"
    c.KernelManager.ip = os.path.join(tempfile.gettempdir(), f"nbgrader-kernel-{os.getpid()}")
# Feedback: each check listed under its exercise's name.
c.GenerateFeedback.preprocessors = feedback_preprocessors()
c.HTMLExporter.template_file = FEEDBACK_TEMPLATE
c.HTMLExporter.extra_template_basedirs = feedback_template_dirs()
# The feedback is a page on its own, in a folder without the assignment's images: each
# image of the notebook goes into the page itself.
c.HTMLExporter.embed_images = True
# Where releases and submissions meet; a hub points every server at the same folder.
c.Exchange.root = os.environ.get("BACKPROP_BOOK_EXCHANGE", os.path.join(here, "exchange"))
# Late work: uncomment to take one point per started hour after the due date, or write
# your own LateSubmissionPlugin (https://nbgrader.readthedocs.io/en/stable/plugins/).
# c.AssignLatePenalties.plugin_class = "nbgrader.plugins.LateSubmissionPlugin"
# c.LateSubmissionPlugin.penalty_method = "zero"
'''


def chapters() -> list[tuple[Path, dict]]:
    """The chapters with exercises, in the book's order, each with its notebook."""
    found = []
    for path in toc.notebooks():
        text = path.read_text()
        if "{solution-start}" in text:
            found.append((path, json.loads(text)))
    return found


def assignment_name(number: int, stem: str) -> str:
    """The assignment of the ``number``-th chapter with exercises: ``01-one-neuron-chain``
    (nbgrader and its formgrader list assignments by name: this is the book's order)."""
    return f"{number:02d}-{stem}"


def assignment_names() -> dict[str, str]:
    """Each chapter's assignment name, by the chapter notebook's stem."""
    return {path.stem: assignment_name(k, path.stem)
            for k, (path, _) in enumerate(chapters(), start=1)}


def course_files() -> tuple[dict[str, bytes], dict[str, list[str]]]:
    """Every file of a fresh course (path in the folder -> contents), and each assignment's
    test-cell grade ids, by assignment name (``source/<name>/<name>.ipynb``)."""
    files: dict[str, bytes] = {"nbgrader_config.py": CONFIG.encode()}
    grades: dict[str, list[str]] = {}
    rows = []
    for k, (path, notebook) in enumerate(chapters(), start=1):
        name = assignment_name(k, path.stem)
        nb, grade_ids = assignment(notebook, path.name)
        folder = f"source/{name}"
        files[f"{folder}/{name}.ipynb"] = (json.dumps(nb, indent=1, ensure_ascii=False)
                                           + "\n").encode()
        for image in images(nb):
            files[f"{folder}/{image}"] = (path.parent / image).read_bytes()
        grades[name] = grade_ids
        points = sum(c["metadata"]["nbgrader"].get("points", 0) for c in nb["cells"]
                     if c["metadata"].get("nbgrader", {}).get("grade"))
        rows.append(f"| {k} | `{name}` | {len(grade_ids)} | {points:g} |")
    files["README.md"] = (README + "\n".join(rows) + "\n").encode()
    return files, grades


README = """\
# The backprop book's nbgrader course

Written by `python -m bookkit course` from the book's chapters. Yours to edit: rebuilding
never overwrites a file you changed (it writes the new version under `updates/` and says
what differs), and `make clean` never touches this folder.

- `source/<assignment>/`: the assignments **with their solutions** (never give these out);
  `nbgrader generate_assignment <assignment>` makes the students' version in `release/`.
- `nbgrader_config.py`: grade with it (run nbgrader in this folder). It adds the book's
  two grading steps: the student id handed to the grading kernel, and every answer checked
  again by the grader itself.
- The page *For instructors* of the book has the whole round: roster, release, collect,
  autograde, feedback, late work, regrading, exporting grades.

| # | assignment | graded checks | points |
|---|---|---|---|
"""


def write_course(out: Path = OUT) -> dict[str, list[str]]:
    """Write or update the course in ``out``; return each assignment's test-cell grade ids.

    Files the teacher edited are kept (:func:`bookkit.course_folder.update`)."""
    files, grades = course_files()
    report = course_folder.update(out, files)
    for stem, ids in grades.items():
        print(f"{stem}: {len(ids)} graded checks, {len(ids)} points")
    for line in report.lines():
        print(line)
    return grades


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT,
                        help="the course folder (default: course/ at the repository's root)")
    args = parser.parse_args(argv)
    write_course(args.out)
    print(f"course in {args.out}")
    return 0
