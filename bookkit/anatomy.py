"""The anatomy of a chapter notebook: the one place its markers are defined and read.

A chapter is an ordinary notebook; a few conventions mark its parts, and every tool that
turns chapters into something else (the handouts, the nbgrader course, the worksheets,
the claim ledger, the print edition) reads them from here:

* an exercise is a Markdown cell with a ``{exercise}`` directive (``:label:`` names it),
  under a ``## ...Exercises`` heading; the code cells after it print the given numbers;
* its solution sits between a ``{solution-start}`` and a ``{solution-end}`` directive (the
  book folds it behind a toggle); in a code cell the solution lines are marked as nbgrader
  marks them, ``### BEGIN SOLUTION`` to ``### END SOLUTION``, below a placeholder line that
  binds the answer (``answer = None``), so an untouched answer says "not done yet";
* the code cell right after ``{solution-end}`` calls the exercise's checkers
  (``ex.check_...(answer)``): the handouts tag it ``exercise-check``, the course turns each
  call into a graded test cell;
* a claim is a labelled display equation (``$$ ... $$ (eq-name)``); the cell that proves it
  starts ``# proves: eq-name`` (see :mod:`bookkit.ledger`);
* images live in ``book/images/`` and are shown by relative path.
"""

from __future__ import annotations

import ast
import functools
import re

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
GATE_START = re.compile(r"^\s*[`:]{3,}\s*\{solution-start\}")
GATE_END = re.compile(r"^\s*[`:]{3,}\s*\{solution-end\}")
#: The opening line of an exercise directive.
EXERCISE = re.compile(r"^\s*[`:]{3,}\s*\{exercise\}", re.M)
#: A whole exercise directive: its title, its options (``:label:``) and its statement.
EXERCISE_BLOCK = re.compile(
    r"^[`:]{3,}\s*\{exercise\}\s*(?P<title>[^\n]*)\n(?P<options>(?::[^\n]*\n)*)\n?"
    r"(?P<body>.*?)\n[`:]{3,}\s*$",
    re.S | re.M,
)
HEADING = re.compile(r"^##\s", re.M)
SOLUTION_REGION = re.compile(r"^([ \t]*)### BEGIN SOLUTION.*?### END SOLUTION[^\n]*\n?", re.M | re.S)
IMAGE = re.compile(r"(images/[\w./-]+\.(?:svg|png|jpe?g|gif))")
#: The chapter's exercise module: ``from backprop_book.exercises import <module> as <alias>``.
EXERCISE_IMPORT = re.compile(r"^from backprop_book\.exercises import (\w+) as (\w+)", re.M)
#: The tag the handouts give each exercise's checker cell.
CHECK_TAG = "exercise-check"


class HandoutError(ValueError):
    """A notebook whose solution markers cannot be stripped safely."""


def cell_text(cell: dict) -> str:
    """A cell's source as one string (nbformat allows a list of lines)."""
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


@functools.lru_cache(maxsize=8192)
def as_python(code: str) -> str:
    """``code`` with IPython's syntax (magics, ``!cmd``) turned into Python, as IPython
    runs it. Cached: the course, the handouts and the worksheets read the same cells many
    times, and IPython's tokenizing is most of what reading them costs."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(code)


def parse(code: str) -> ast.Module | None:
    try:
        return ast.parse(as_python(code))
    except SyntaxError:
        return None


def _target_names(target: ast.expr, bound: set[str], mutated: set[str]) -> None:
    """Add what an assignment's ``target`` binds (``a``, ``a, b``, ``*rest``) to ``bound``,
    and the name whose attribute or item it sets (``d`` of ``d[k] = v``, ``Value`` of
    ``Value.tanh = f``) to ``mutated``; names only read inside it (``sp`` of
    ``d[sp.latex(f)] = v``) are neither."""
    if isinstance(target, ast.Name):
        bound.add(target.id)
    elif isinstance(target, ast.Tuple | ast.List):
        for element in target.elts:
            _target_names(element, bound, mutated)
    elif isinstance(target, ast.Starred):
        _target_names(target.value, bound, mutated)
    elif isinstance(target, ast.Attribute | ast.Subscript):
        base = target.value
        while isinstance(base, ast.Attribute | ast.Subscript):
            base = base.value
        if isinstance(base, ast.Name):
            mutated.add(base.id)


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
                _target_names(target, bound, mutated)
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

    try:
        top = symtable.symtable(as_python(code), "cell", "exec")
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
    tree = parse(code)
    return _bindings(tree.body) if tree is not None else (set(), set())


def exercise_span(cells: list[dict], name: str) -> tuple[int, int]:
    """[start, end) of the chapter's exercise section: its heading to the next heading."""
    firsts = [i for i, c in enumerate(cells) if c["cell_type"] == "markdown"
              and EXERCISE.search(cell_text(c))]
    if not firsts:
        raise HandoutError(f"{name}: no {{exercise}} in this notebook")
    start = firsts[0]
    before = cell_text(cells[start - 1]) if start else ""
    if HEADING.search(before) and "xercise" in before:
        start -= 1
    end = next((i for i in range(firsts[0] + 1, len(cells)) if cells[i]["cell_type"] ==
                "markdown" and HEADING.search(cell_text(cells[i]))
                and not EXERCISE.search(cell_text(cells[i]))), len(cells))
    return start, end


def checked_names(cell: dict) -> list[str]:
    """The names a checker cell passes to its checkers: the exercise's answers.

    A chapter's ``ex.check_x(answer)`` and a course's test cell
    ``graded("<module>.check_x", answer)`` alike."""
    tree = parse(cell_text(cell))
    names = []
    for node in ast.walk(tree) if tree else []:
        func = getattr(node, "func", None)
        called = getattr(func, "attr", None) or getattr(func, "id", "")
        if isinstance(node, ast.Call) and (called.startswith("check") or called == "graded"):
            names += [a.id for a in node.args if isinstance(a, ast.Name)]
    return names


def require_placeholders(answers: list[str], cells: list[dict], label: str) -> None:
    """Every answer must be bound by the exercise's own code outside the solution region."""
    bound: set[str] = set()
    for cell in cells:
        text = cell_text(cell)
        outside = SOLUTION_REGION.sub(r"\1pass\n", text)
        bound |= names_bound(outside)[0]
    missing = [a for a in answers if a not in bound]
    if missing:
        raise HandoutError(
            f"{label}: {missing} must be set by the exercise itself above {BEGIN} (a "
            "placeholder such as `answer = None`), or an untouched answer would be checked "
            "with a value from an earlier cell"
        )
