"""Worksheets on paper: each student's own exercise numbers, and the instructor's key.

An exercise has one source: its ``{exercise}`` cell in the chapter notebook (the prompt),
the code cells after it that print the given numbers, and its checker in
:mod:`backprop_book.exercises`. A worksheet runs the same "given" cells with the student's
id set (:func:`backprop_book.checkers.set_student`), so it shows exactly the numbers that
student's notebook shows. The key's answers are what the checker itself compares against:
the checker is called with its answer engines (``check_array``, ``check_expr``,
``check_function``, ``check_derivation``, ``check_code``) swapped for recorders, so the key
cannot drift from the checkers. Numbers and letters go on paper; a formula answer (a
derivation, a SymPy expression) is typed in the notebook, and the key lists it under its
chapter's table. Math is rendered by the book's KaTeX (:mod:`bookkit.katex`), as in the book.

A code exercise (the reader writes a function, judged by
:func:`backprop_book.codecheck.check_code`) goes on paper as a task: the function's
signature and docstring from the chapter's solution cell, the statement, and one of the
inputs the checker itself draws for this student (the smallest), rounded to
:data:`INPUT_DIGITS` significant digits, with a box per returned array. The key gives what
the checker's reference returns on exactly the printed (rounded) inputs, to :data:`DIGITS`.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import importlib
import io
import json
import re
import shutil
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from backprop_book import checkers, codecheck

from . import katex, toc
from . import print_edition as pe
from .anatomy import EXERCISE_BLOCK, EXERCISE_IMPORT, cell_text, parse
from .browser import chromium, offline_page, serve
from .paths import BUILD, VENDOR
from .roster import read_roster

ENGINES = ("check_array", "check_expr", "check_function", "check_derivation", "check_code")
#: Where an engine is looked up when a checker imports it as it runs (the dense networks'
#: backward checker imports check_code from codecheck inside its function).
HOMES = {"check_code": codecheck}


@dataclass
class Exercise:
    """One exercise of a chapter, as the notebook states it."""

    label: str
    title: str
    prompt: str  # Markdown with $math$
    given: str  # the code that prints the given numbers ("" when there are none)
    check: str  # the checker cell's code
    solution: str = ""  # the solution's code cells (a code exercise's function is there)


@dataclass
class CodeTask:
    """A code exercise on paper: the checker's own input for one student, as printed
    (rounded), and what the checker's reference returns on exactly that input."""

    inputs: dict  # the arguments by name, rounded to INPUT_DIGITS significant digits
    outputs: dict  # {name of a returned array: array}, from the checker's reference
    returns: str  # what the function returns, as the checker states it
    paper: str = ""  # what the task is on paper, when the inputs are not the arguments


@dataclass
class Answer:
    """What a checker compares an answer with: kind is "number", "expression", "function",
    "choice" or "code" (value: a :class:`CodeTask`)."""

    what: str
    kind: str
    value: Any


@dataclass
class Sheet:
    """One exercise for one student: the printed numbers and the checker's answers."""

    exercise: Exercise
    given_text: str
    answers: list[Answer] = field(default_factory=list)
    signature: str = ""  # a code exercise: its function's def line and docstring


def exercise_module(notebook: dict) -> tuple[str, str] | None:
    """(module name, alias) of the chapter's ``from backprop_book.exercises import m as ex``."""
    for cell in notebook["cells"]:
        found = EXERCISE_IMPORT.search(cell_text(cell)) if cell["cell_type"] == "code" else None
        if found:
            return found.group(1), found.group(2)
    return None


def exercises(notebook: dict) -> list[Exercise]:
    """Every exercise of the notebook in order, with its given cells and its checker cell."""
    found: list[Exercise] = []
    state = None
    for cell in notebook["cells"]:
        text = cell_text(cell)
        match = EXERCISE_BLOCK.search(text) if cell["cell_type"] == "markdown" else None
        if match:
            label = re.search(r":label:\s*(\S+)", match.group("options"))
            found.append(Exercise(label.group(1) if label else "", match.group("title").strip(),
                                  match.group("body").strip(), "", ""))
            state = "given"
        elif cell["cell_type"] == "markdown" and "{solution-start}" in text:
            state = "solution"
        elif cell["cell_type"] == "markdown" and "{solution-end}" in text:
            state = "check"
        elif cell["cell_type"] == "code" and state == "given":
            found[-1].given += text + "\n"
        elif cell["cell_type"] == "code" and state == "solution":
            found[-1].solution += text + "\n"
        elif cell["cell_type"] == "code" and state == "check":
            found[-1].check, state = text, None
    return found


def namespace(notebook: dict) -> dict:
    """What the given and checker cells need: numpy, sympy and the chapter's exercise module."""
    import sympy as sp

    ns: dict = {"np": np, "sp": sp, "display": print, "print": print}
    module = exercise_module(notebook)
    if module:
        ns[module[1]] = importlib.import_module(f"backprop_book.exercises.{module[0]}")
    return ns


NUMBER = re.compile(r"-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?")


def numbers_in(text: str) -> list[float]:
    """Every number written in ``text`` (ASCII or U+2212 minus)."""
    return [float(t) for t in NUMBER.findall(text.replace("\u2212", "-"))]


def _floats(value) -> list[float]:
    if isinstance(value, bool | str) or value is None:
        return []
    if isinstance(value, dict):
        return [f for v in value.values() for f in _floats(v)]
    if isinstance(value, list | tuple | np.ndarray):
        return [f for v in value for f in _floats(v)]
    return [float(value)] if isinstance(value, float | np.floating) else []


def not_shown(numbers: dict, text: str) -> dict:
    """The entries of ``numbers`` with a float that ``text`` does not show to full precision."""
    shown = numbers_in(text)
    return {
        k: v for k, v in numbers.items()
        if any(not any(abs(f - g) <= 1e-12 * max(1.0, abs(f)) for g in shown) for f in _floats(v))
    }


def given_text(exercise: Exercise, ns: dict, module) -> str:
    """What the exercise's given cells print for the current student, in full precision.

    The cells' own output comes first, as the notebook shows it; any drawn number it shows
    rounded (NumPy prints 8 digits) follows in full, so a sheet never gives fewer digits
    than the checker uses.
    """
    drawn: list[dict] = []
    original = getattr(module, "given", None)

    def recording(label, default, draw):
        numbers = original(label, default, draw)
        drawn.append(numbers)
        return numbers

    out = io.StringIO()
    try:
        if original is not None:
            module.given = recording
        with contextlib.redirect_stdout(out):
            exec(compile(exercise.given, exercise.label, "exec"), ns)  # the book's own cell
    finally:
        if original is not None:
            module.given = original
    text = out.getvalue().rstrip()
    extra = {k: v for numbers in drawn for k, v in not_shown(numbers, text).items()}
    if extra:
        text += "\n\nIn full:\n" + "\n".join(f"{k} = {v!r}" for k, v in extra.items())
    return text


def checker_calls(code: str, alias: str) -> list[str]:
    """The names of the ``alias.check_...`` functions a checker cell calls, in order."""
    calls = []
    for node in ast.walk(ast.parse(code)):
        f = node.func if isinstance(node, ast.Call) else None
        if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == alias:
            if f.attr.startswith("check_"):
                calls.append(f.attr)
    return calls


def _kind(engine: str) -> str:
    return {"check_array": "number", "check_expr": "expression",
            "check_derivation": "expression"}.get(engine, "function")


class _Probe:
    """An answer that is neither a placeholder nor a number: it gets a checker past both."""


def _size(value) -> int:
    """How many numbers an input holds (arrays, numbers, nested in dicts, lists, tuples)."""
    if isinstance(value, dict):
        return sum(_size(v) for v in value.values())
    if isinstance(value, list | tuple):
        return sum(_size(v) for v in value)
    if isinstance(value, np.ndarray):
        return int(value.size)
    return int(isinstance(value, int | float | np.number) and not isinstance(value, bool))


def _sig(x: float) -> float:
    return float(f"{x:.{INPUT_DIGITS}g}")


def on_paper_inputs(value):
    """An input with every float rounded to :data:`INPUT_DIGITS` significant digits, as printed
    (the same containers: dicts, named tuples such as the forward pass's Cache, lists)."""
    if isinstance(value, dict):
        return {k: on_paper_inputs(v) for k, v in value.items()}
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return type(value)(*(on_paper_inputs(v) for v in value))
    if isinstance(value, list | tuple):
        return type(value)(on_paper_inputs(v) for v in value)
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return np.vectorize(_sig, otypes=[float])(value) if value.size else value.copy()
    if isinstance(value, float | np.floating):
        return _sig(float(value))
    return value


def code_task(reference, *, cases, names, returns="", paper="", **_) -> CodeTask:
    """The paper task of a ``check_code`` call: its smallest case (the first of the
    smallest) rounded as printed, and the reference's arrays on exactly that."""
    case = min(cases, key=_size)
    inputs = on_paper_inputs(case)
    return CodeTask(inputs, codecheck.reference_outputs(reference, inputs, names), returns,
                    paper)


def recorded_answers(module, checker: str) -> list[Answer]:
    """What ``module.checker`` hands its answer engines as the right answer.

    The checker is called with ``None`` (a placeholder), then, if it stopped there, with an
    object that is no placeholder and no number, while its module's engines record their
    ``expected`` argument and accept. A checker that rejects both before it reaches an engine
    (a letter to choose, a SymPy matrix) records nothing. ``check_code`` records a
    :class:`CodeTask` (its reference on one of its own cases, rounded as printed).
    """
    recorded: list[Answer] = []
    homes = [(module, name) for name in ENGINES if hasattr(module, name)]
    homes += [(home, name) for name, home in HOMES.items()]
    saved = [(home, name, getattr(home, name)) for home, name in homes]
    paper = getattr(getattr(module, checker), "paper", "")

    def recorder(engine):
        def record(answer, expected, *args, what="answer", **kwargs):
            if engine == "check_code":
                recorded.append(Answer(what, "code", code_task(expected, paper=paper,
                                                               **kwargs)))
            else:
                recorded.append(Answer(what, _kind(engine), expected))
            return checkers.right(what)

        return record

    try:
        for home, name, _ in saved:
            setattr(home, name, recorder(name))
        for probe in (None, _Probe()):
            with contextlib.suppress(checkers.NotQuiteRight):
                getattr(module, checker)(probe)
            if recorded:
                break
    finally:
        for home, name, engine in reversed(saved):
            setattr(home, name, engine)
    return recorded


def chosen_answer(module, checker: str) -> list[Answer]:
    """For a multiple-choice checker: the one letter it accepts (none found: ``[]``)."""
    for letter in "ABCDEFGHIJ":
        with contextlib.suppress(checkers.NotQuiteRight, TypeError, ValueError):
            verdict = getattr(module, checker)(letter)
            if isinstance(verdict, checkers.Verdict) and verdict.ok:
                return [Answer(verdict.what, "choice", letter)]
    return []


def function_of(check: str, alias: str) -> str | None:
    """The function a checker cell hands its checker: ``backward_111`` in
    ``ex.check_backward_111(backward_111)``."""
    for node in ast.walk(ast.parse(check)):
        f = node.func if isinstance(node, ast.Call) else None
        if (isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name)
                and f.value.id == alias and node.args and isinstance(node.args[0], ast.Name)):
            return node.args[0].id
    return None


def _definition(solution: str, name: str | None) -> ast.FunctionDef | None:
    tree = parse(solution) if name else None
    return next((n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)
                 and n.name == name), None) if tree else None


def signature(solution: str, name: str | None) -> str:
    """``def name(...):`` and its docstring, as the solution cell writes them (no body);
    "" when the solution defines no such function."""
    found = _definition(solution, name)
    if found is None:
        return ""
    lines = solution.splitlines()
    doc = found.body[0] if ast.get_docstring(found) is not None else None
    end = doc.end_lineno if doc else found.body[0].lineno - 1
    return textwrap.dedent("\n".join(lines[found.lineno - 1:end]))


def by_parameter(task: CodeTask, definition: ast.FunctionDef | None) -> dict:
    """The task's inputs named as the function's parameters (the checker passes them by
    position: its ``Y`` is the solution's ``y``), when they are its arguments (a task
    with words of its own, ``paper``, passes a point instead)."""
    names = [a.arg for a in definition.args.args] if definition else []
    if task.paper or len(names) != len(task.inputs):
        return task.inputs
    return dict(zip(names, task.inputs.values(), strict=True))


def sheets(notebook: dict, student_id: str | None) -> list[Sheet]:
    """Every exercise of ``notebook`` with ``student_id``'s numbers and the checker's answers."""
    module = exercise_module(notebook)
    found = exercises(notebook)
    if not found or module is None:
        return []
    previous = checkers.student()
    checkers.set_student(student_id)
    try:
        ns = namespace(notebook)
        out = []
        for ex in found:
            mod = ns[module[1]]
            sheet = Sheet(ex, given_text(ex, ns, mod) if ex.given.strip() else "")
            for name in checker_calls(ex.check, module[1]):
                sheet.answers += recorded_answers(mod, name) or chosen_answer(mod, name)
            if any(a.kind == "code" for a in sheet.answers):  # the page's example stays there
                fn = function_of(ex.check, module[1])
                sheet.given_text = ""
                sheet.signature = signature(ex.solution, fn)
                for a in sheet.answers:
                    a.value.inputs = by_parameter(a.value, _definition(ex.solution, fn))
            out.append(sheet)
        return out
    finally:
        checkers.set_student(previous)


# ------------------------------------------------------------------ the printed pages

CSS = """
@page { size: A4; margin: 16mm 16mm 18mm; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", sans-serif; font-size: 10.5pt; line-height: 1.45;
       color: #222; margin: 0; padding: 0 1.5mm; }
h1 { font-size: 16pt; margin: 0 0 2mm; }
h2 { font-size: 13pt; margin: 5mm 0 2mm; border-bottom: 1px solid #bbb; break-after: avoid; }
.chapter { break-before: page; } .chapter:first-of-type { break-before: auto; }
.exercise { break-inside: avoid; margin: 0 0 5mm; }
.exercise h3 { font-size: 11pt; margin: 3mm 0 1mm; }
.label { color: #666; font-weight: normal; font-size: 9pt; }
pre { background: #f3f3f3; border-left: 3px solid #888; padding: 2mm 3mm; margin: 2mm 0;
      white-space: pre-wrap; overflow-wrap: anywhere; font-size: 9pt; max-width: 100%; }
.ask { margin: 2mm 0 1mm; font-size: 9.5pt; }
.line { border: 1px solid #999; height: 12mm; width: 70mm; padding: 1mm 2mm; color: #777;
        font-size: 9pt; }
table.grid { border-collapse: collapse; margin: 1mm 0; }
table.grid td { border: 1px solid #999; width: 24mm; height: 10mm; }
.work { border: 1px dashed #bbb; height: 30mm; margin-top: 2mm; padding: 1mm 2mm; color: #999;
        font-size: 8.5pt; }
.off { color: #555; font-size: 9.5pt; margin: 0 0 2mm; break-after: avoid; }
.student { break-before: page; } .student:first-of-type { break-before: auto; }
.intro { color: #444; }
table.key { border-collapse: collapse; font-size: 8.5pt; margin: 2mm 0 4mm; width: 100%; }
table.key th, table.key td { border: 1px solid #bbb; padding: 0.6mm 1.2mm; text-align: left;
                             vertical-align: top; }
table.key th { background: #eee; }
table.key tr { break-inside: avoid; }
.math .katex-display { text-align: left; margin: 1mm 0; }
.formulas { font-size: 9.5pt; margin: 1mm 0 4mm; } .formulas li { margin: 1mm 0; }
.exercise.code h3 { break-after: avoid; }
.statement, .exercise.code pre, .box, .in { break-inside: avoid; }
.exercise.code .ask { break-after: avoid; }
.inputs { display: flex; flex-wrap: wrap; gap: 1.5mm 6mm; align-items: center;
          margin: 1mm 0 2mm; }
.in { display: flex; align-items: center; gap: 1.5mm; font-size: 9pt; max-width: 100%; }
.in .name { font-family: "DejaVu Sans Mono", monospace; font-size: 8.5pt; white-space: nowrap; }
.shape { color: #777; font-family: "DejaVu Sans", sans-serif; font-size: 7.5pt; }
.num { font-family: "DejaVu Sans Mono", monospace; font-size: 8.5pt; }
table.arr { border-collapse: collapse; font-family: "DejaVu Sans Mono", monospace;
            font-size: 8.5pt; border-left: 1.2px solid #444; border-right: 1.2px solid #444;
            background: linear-gradient(#444, #444) left top / 1.2mm 1.2px no-repeat,
                        linear-gradient(#444, #444) left bottom / 1.2mm 1.2px no-repeat,
                        linear-gradient(#444, #444) right top / 1.2mm 1.2px no-repeat,
                        linear-gradient(#444, #444) right bottom / 1.2mm 1.2px no-repeat; }
table.arr td { padding: 0.2mm 1.4mm; text-align: right; white-space: nowrap; }
.answers { display: flex; flex-wrap: wrap; gap: 0 8mm; align-items: flex-start; }
.codekey { font-size: 9.5pt; font-weight: bold; margin: 3mm 0 1mm; break-after: avoid; }
table.key .inputs { margin: 0; }
table.key table.arr td { border: none; padding: 0.2mm 1.4mm; }
"""


def answer_tex(answer: Answer) -> str:
    """An expression answer as LaTeX."""
    import sympy as sp

    return sp.latex(answer.value)


def markdown_html(text: str) -> str:
    """Markdown as HTML, its $math$ rendered by the book's KaTeX (bookkit/katex.py)."""
    from markdown_it import MarkdownIt
    from mdit_py_plugins.dollarmath import dollarmath_plugin

    def math(content: str, options: dict) -> str:
        display = bool(options.get("display_mode"))
        rendered = katex.render(content, display)
        return f'<div class="math">{rendered}</div>' if display else rendered

    return MarkdownIt("commonmark").use(dollarmath_plugin, renderer=math).render(text)


def _page(title: str, body: str) -> str:
    from html import escape

    return (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{escape(title)}</title>"
        f'<link rel="stylesheet" href="katex/katex.min.css"><style>{CSS}</style></head>'
        f"<body>{body}</body></html>"
    )


#: Significant digits a paper answer is asked for; the key accepts one unit in the last.
DIGITS = 4
#: Significant digits a code task's inputs are printed to. More than the answers': the
#: forward pass's cache is an input, each of its numbers rounded on its own, and a student
#: may take a slope from z or from a. With 4 digits sigma'(z) and a(1 - a) from the printed
#: numbers move an answer by up to 3.6 units in its 4th digit (ex-111-backward, 15 students);
#: with 6, by under 0.03, so the key holds whichever way the student works.
INPUT_DIGITS = 6


def on_paper(sheet: Sheet) -> bool:
    """An exercise a pen can answer: numbers, a letter, or a code exercise worked on its
    printed inputs (no function to pass to a checker, no SymPy)."""
    return bool(sheet.answers) and all(a.kind in ("number", "choice", "code")
                                       for a in sheet.answers)


def paper_answers(sheet: Sheet) -> list[Answer]:
    """The numbers the sheet asks for, in order: a code exercise's are its returned arrays
    on the printed inputs (each an :class:`Answer` of kind "number", named as the checker
    names it)."""
    out = []
    for a in sheet.answers:
        if a.kind == "code":
            out += [Answer(name, "number", value) for name, value in a.value.outputs.items()]
        else:
            out.append(a)
    return out


def code_prompt(markdown: str) -> str:
    """A code exercise's statement for paper: the function's description stays (its code
    names in backticks are the task); what speaks of the checker goes (a paragraph that
    opens with it, or the one sentence)."""
    paragraphs = []
    for paragraph in markdown.split("\n\n"):
        sentences = re.split(r"(?<=[.!?])\s+(?=[A-Z(`])", paragraph.strip())
        if "checker" in sentences[0]:
            continue
        kept = [x for x in sentences if "checker" not in x]
        if kept:
            paragraphs.append(" ".join(kept))
    return "\n\n".join(paragraphs)


def paper_prompt(markdown: str) -> str:
    """The statement without the sentences that speak to the notebook (a sentence with
    code in backticks: "Store it in `slope`", "(not `forward_backward`)")."""
    paragraphs = []
    for paragraph in markdown.split("\n\n"):
        sentences = re.split(r"(?<=[.!?])\s+(?=[A-Z(])", paragraph.strip())
        kept = [x for x in sentences if "`" not in x]
        if kept:
            paragraphs.append(" ".join(kept))
    return "\n\n".join(paragraphs)


def _is_integer(value) -> bool:
    v = np.asarray(value, dtype=float)
    return bool(np.all(v == np.round(v)) and np.all(np.abs(v) < 1e15))


def tolerance(answer: Answer) -> float:
    """What the key accepts around a number asked to :data:`DIGITS` significant digits: one
    unit in the last digit of the largest entry (0 for whole numbers and letters)."""
    if answer.kind != "number" or _is_integer(answer.value):
        return 0.0
    big = float(np.max(np.abs(np.asarray(answer.value, dtype=float))))
    return 10.0 ** (np.floor(np.log10(big)) - (DIGITS - 1)) if big > 0 else 10.0 ** -DIGITS


def rounded(answer: Answer) -> str:
    """The answer as the key prints it: to :data:`DIGITS` significant digits."""
    if answer.kind == "choice":
        return str(answer.value)
    value = np.asarray(answer.value, dtype=float)
    if _is_integer(value):
        return str(value.astype(int).tolist()) if value.ndim else str(int(value))
    fmt = lambda x: f"{x:.{DIGITS}g}"  # noqa: E731
    if value.ndim == 0:
        return fmt(float(value))
    rows = value.reshape(1, -1) if value.ndim == 1 else value.reshape(value.shape[0], -1)
    return "[" + "; ".join(", ".join(fmt(x) for x in row) for row in rows) + "]"


#: The printable width of a page (A4 less the margins and the body's padding), in mm.
WIDTH_MM = 210 - 2 * 16 - 2 * 1.5


def _ask(answer: Answer, whole: bool = True) -> str:
    """The quantity asked and a box shaped like it. ``whole``: say when the answer is a
    whole number (a code exercise's arrays do not: a 0 there is worked out, not hinted)."""
    from html import escape

    what = escape(answer.what)
    if answer.kind == "choice":
        return f'<p class="ask">{what}: the letter of the right one.</p><div class="line"></div>'
    value = np.asarray(answer.value, dtype=float)
    digits = ("a whole number" if whole and _is_integer(value)
              else f"{DIGITS} significant digits")
    if value.ndim == 0:
        return f'<p class="ask">{what} = ? ({digits})</p><div class="line"></div>'
    rows, cols = (1, value.shape[0]) if value.ndim == 1 else value.shape[:2]
    width = min(24.0, (WIDTH_MM - 4) // cols)  # a wide array still fits the page
    cell = f'<td style="width: {width:g}mm"></td>'
    grid = "".join("<tr>" + cell * cols + "</tr>" for _ in range(rows))
    shape = f"{rows} by {cols}" if value.ndim == 2 else f"{cols} entries"
    return (f'<p class="ask">{what}: {shape} ({digits} each)</p>'
            f'<table class="grid">{grid}</table>')


def _number(x, digits: int) -> str:
    """A printed number: an integer as it is, a float to ``digits`` significant digits."""
    if isinstance(x, int | np.integer) and not isinstance(x, bool):
        return str(int(x))
    return f"{float(x):.{digits}g}"


def array_html(value, digits: int = DIGITS) -> str:
    """A number, a row (1-D) or a matrix (2-D, a column for n by 1) in brackets, each
    entry to ``digits`` significant digits (an input: :data:`INPUT_DIGITS`, which is what
    :func:`on_paper_inputs` rounded it to; a key's entry: :data:`DIGITS`)."""
    from html import escape

    arr = np.asarray(value)
    if arr.ndim == 0:
        return f'<span class="num">{escape(_number(arr.item(), digits))}</span>'
    rows = arr.reshape(1, -1) if arr.ndim == 1 else arr.reshape(arr.shape[0], -1)
    body = "".join("<tr>" + "".join(f"<td>{escape(_number(x, digits))}</td>" for x in row)
                   + "</tr>" for row in rows.tolist())
    return f'<table class="arr">{body}</table>'


def input_leaves(value, path: str) -> list[tuple[str, object]]:
    """(the name the function's code reads it by, value) for every number or array of an
    input: ``cache["a1"]``, ``params[0][1]``, ``cache.zs[1]``; a list of names (the
    activations) is one; None (``cache.zs[0]``) is left out."""
    if value is None:
        return []
    if isinstance(value, dict):
        return [leaf for k, v in value.items() for leaf in input_leaves(v, f"{path}[{k!r}]")]
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return [leaf for k, v in zip(value._fields, value, strict=True)
                for leaf in input_leaves(v, f"{path}.{k}")]
    if isinstance(value, list | tuple) and not all(isinstance(v, str) for v in value):
        return [leaf for i, v in enumerate(value) for leaf in input_leaves(v, f"{path}[{i}]")]
    return [(path, value)]


def inputs_html(inputs: dict) -> str:
    """The printed inputs of a code task, side by side where they fit."""
    from html import escape

    items = []
    for name, value in inputs.items():
        for path, leaf in input_leaves(value, name):
            shown = (escape(repr(list(leaf))) if isinstance(leaf, list | tuple)
                     else escape(str(leaf)) if isinstance(leaf, str)
                     else array_html(leaf, INPUT_DIGITS))
            shape = (f' <span class="shape">{" by ".join(map(str, np.shape(leaf)))}</span>'
                     if np.ndim(leaf) == 2 else "")
            items.append(f'<div class="in"><span class="name">{escape(path)}{shape} =</span> '
                         f"{shown}</div>")
    return f'<div class="inputs">{"".join(items)}</div>'


def _code_html(sheet: Sheet, task: CodeTask, head: str) -> str:
    """A code task: the heading, statement, signature and inputs (kept on one page where
    they fit), then a box per returned array."""
    from html import escape

    parts = [head, markdown_html(code_prompt(sheet.exercise.prompt))]
    if sheet.signature:
        parts.append(f"<pre>{escape(sheet.signature)}</pre>")
    if task.paper:
        parts.append(markdown_html(task.paper))
    parts.append('<p class="ask">Your inputs (drawn for you, as the checker draws them):</p>'
                 + inputs_html(task.inputs))
    asked = ("Your answers:" if task.paper else
             f"What the function returns on them, {escape(task.returns)}:")
    boxes = "".join(f'<div class="box">{_ask(Answer(name, "number", value), whole=False)}</div>'
                    for name, value in task.outputs.items())
    return (f'<div class="statement">{"".join(parts)}</div><p class="ask">{asked}</p>'
            f'<div class="answers">{boxes}</div>')


def _exercise_html(number: str, sheet: Sheet) -> str:
    from html import escape

    ex = sheet.exercise
    code = [a.value for a in sheet.answers if a.kind == "code"]
    head = (f'<h3>Exercise {number}: {escape(ex.title)} '
            f'<span class="label">({escape(ex.label)})</span></h3>')
    parts = [f'<div class="exercise{" code" if code else ""}">']
    if code:
        parts += [_code_html(sheet, task, head) for task in code]
    else:
        parts += [head, markdown_html(paper_prompt(ex.prompt))]
    if sheet.given_text:
        parts.append(f"<pre>{escape(sheet.given_text)}</pre>")
    parts += [_ask(a) for a in sheet.answers if a.kind != "code"]
    parts.append('<div class="work">Working:</div>')
    return "".join(parts + ["</div>"])


def _chapter_html(c: int, chapter: str, found: list[Sheet]) -> str:
    from html import escape

    parts = [f'<div class="chapter"><h2>{c}. {escape(chapter)}</h2>']
    off = [f"{c}.{i} {escape(s.exercise.title)}" for i, s in enumerate(found, start=1)
           if not on_paper(s)]
    if off:  # under the heading: after the last exercise it could fill a page of its own
        parts.append(f'<p class="off">In the notebook only (a function or a formula '
                     f'to write): {"; ".join(off)}.</p>')
    parts += [_exercise_html(f"{c}.{i}", s) for i, s in enumerate(found, start=1)
              if on_paper(s)]
    return "".join(parts + ["</div>"])


def sheet_body(student_id: str, chapters: list[tuple[str, list[Sheet]]],
               numbers: list[int] | None = None) -> str:
    """One student's paper exercises, a chapter a page: the numbers, the quantity asked,
    boxes that fit the answer, room to work. ``numbers``: the chapters' numbers in the book."""
    from html import escape

    parts = [f'<section class="student"><h1>Worksheet for {escape(student_id)}</h1>',
             '<p class="intro">These numbers are yours: the same as in your notebooks when you '
             f"log in as <code>{escape(student_id)}</code>.</p>"]
    numbers = numbers or list(range(1, len(chapters) + 1))
    parts += [_chapter_html(n, chapter, found)
              for n, (chapter, found) in zip(numbers, chapters, strict=True)]
    return "".join(parts + ["</section>"])


def worksheet_html(student_id: str, chapters: list[tuple[str, list[Sheet]]],
                   numbers: list[int] | None = None) -> str:
    """A student's worksheet as a page, its math rendered (KaTeX's stylesheet in ``katex/``)."""
    return _page(f"Worksheet: {student_id}", sheet_body(student_id, chapters, numbers))


def key_rows(students: dict[str, list[tuple[str, list[Sheet]]]]) -> list[dict]:
    """The key, one row per student and paper answer: chapter, exercise, what, the answer to
    :data:`DIGITS` significant digits, and the tolerance."""
    rows = []
    for sid, chapters in students.items():
        for c, (_, found) in enumerate(chapters, start=1):
            for i, sheet in enumerate(found, start=1):
                if not on_paper(sheet):
                    continue
                for k, a in enumerate(paper_answers(sheet)):
                    rows.append({"chapter": c, "exercise": f"{c}.{i}", "part": k,
                                 "title": sheet.exercise.title,
                                 "label": sheet.exercise.label, "what": a.what,
                                 "student": sid, "answer": rounded(a),
                                 "tolerance": f"{tolerance(a):g}"})
    return rows


def key_formulas(students: dict[str, list[tuple[str, list[Sheet]]]], c: int) -> list[tuple]:
    """Chapter ``c``'s formula answers (a derivation typed as a formula, a SymPy expression):
    (exercise, title, what, LaTeX, the students it is for: ``None`` for all of them)."""
    found: dict[tuple, dict[str, list[str]]] = {}
    for sid, chapters in students.items():
        for i, sheet in enumerate(chapters[c - 1][1], start=1):
            for a in sheet.answers:
                if a.kind == "expression":
                    key = (f"{c}.{i}", sheet.exercise.title, a.what)
                    found.setdefault(key, {}).setdefault(answer_tex(a), []).append(sid)
    return [(*key, tex, None if len(by_tex) == 1 else sids)
            for key, by_tex in found.items() for tex, sids in by_tex.items()]


def _formulas_html(formulas: list[tuple]) -> str:
    from html import escape

    if not formulas:
        return ""
    items = "".join(
        f"<li>{escape(number)} {escape(title)}: {escape(what)} = {katex.render(tex)}"
        + (f" ({escape(', '.join(sids))})" if sids else "") + "</li>"
        for number, title, what, tex, sids in formulas)
    return ('<p class="intro">Formulas (typed in the notebook, checked there by SymPy; '
            f'the same for every student unless named):</p><ul class="formulas">{items}</ul>')


def code_labels(students: dict[str, list[tuple[str, list[Sheet]]]]) -> set[str]:
    """The labels of the code exercises on paper."""
    return {s.exercise.label for chapters in students.values() for _, found in chapters
            for s in found if on_paper(s) and any(a.kind == "code" for a in s.answers)}


def _code_key_html(students: dict[str, list[tuple[str, list[Sheet]]]], c: int) -> str:
    """Chapter ``c``'s code exercises in the key: per exercise a row per student with
    the arrays the reference returns on that student's printed inputs."""
    from html import escape

    found: dict[str, tuple[str, dict[str, CodeTask]]] = {}
    for sid, chapters in students.items():
        for i, sheet in enumerate(chapters[c - 1][1], start=1):
            for a in sheet.answers:
                if a.kind == "code" and on_paper(sheet):
                    head = f"{c}.{i} {sheet.exercise.title}"
                    found.setdefault(sheet.exercise.label, (head, {}))[1][sid] = a.value
    parts = []
    for head, tasks in found.values():
        parts.append(f'<p class="codekey">{escape(head)}: what the reference returns on the '
                     "inputs printed on each student's sheet</p><table class=key>"
                     "<thead><tr><th>student</th><th>returned arrays (tolerance)</th></tr>"
                     "</thead>")
        for sid, task in tasks.items():
            outs = "".join(
                f'<div class="in"><span class="name">{escape(name)} (±'
                f'{tolerance(Answer(name, "number", value)):g}) =</span> '
                f"{array_html(value)}</div>" for name, value in task.outputs.items())
            parts.append(f'<tr><td>{escape(sid)}</td><td><div class="inputs">{outs}</div>'
                         "</td></tr>")
        parts.append("</table>")
    return "".join(parts)


def key_html(students: dict[str, list[tuple[str, list[Sheet]]]]) -> str:
    """The instructor's key: a table per chapter, a row per student, a column per answer
    (to the digits asked), and the tolerance each column allows; then the chapter's code
    exercises (a row per student, the arrays the reference returns on the inputs printed
    for that student) and formula answers (the derivation exercises'), rendered by KaTeX."""
    from html import escape

    code = code_labels(students)
    rows = [r for r in key_rows(students) if r["label"] not in code]
    titles = {c: t for chapters in students.values()
              for c, (t, _) in enumerate(chapters, start=1)}
    parts = ["<h1>Key</h1>", f'<p class="intro">Answers to {DIGITS} significant digits, '
             "whole numbers and letters exactly. Tolerance: accept one unit in the last digit "
             "shown (0.01602 accepts 0.01601 to 0.01603; for an array, one unit in the last "
             "digit of its largest entry). A code exercise's arrays are what the checker's "
             "reference returns on the inputs printed on that student's sheet, rounded as "
             "printed. key.csv has the same rows with each tolerance.</p>"]
    for c, title in titles.items():
        here = [r for r in rows if r["chapter"] == c]
        formulas = _code_key_html(students, c) + _formulas_html(key_formulas(students, c))
        if not here:
            if formulas:
                parts.append(f"<h2>{c}. {escape(title)}</h2>{formulas}")
            continue
        columns = list(dict.fromkeys((r["exercise"], r["part"]) for r in here))
        heads = {(r["exercise"], r["part"]): f'{r["exercise"]} {r["title"]}'
                 + (f' ({r["part"] + 1})' if r["part"] else "") for r in here}
        parts.append(f"<h2>{c}. {escape(title)}</h2><table class=key><thead><tr>"
                     "<th>student</th>" + "".join(f"<th>{escape(heads[k])}</th>"
                                                  for k in columns) + "</tr></thead>")
        for sid in students:
            got = {(r["exercise"], r["part"]): r["answer"] for r in here if r["student"] == sid}
            parts.append(f"<tr><td>{escape(sid)}</td>"
                         + "".join(f"<td>{escape(got.get(k, ''))}</td>" for k in columns)
                         + "</tr>")
        parts.append("</table>" + formulas)
    return _page("Key", "".join(parts))


# ------------------------------------------------------------------ `make worksheets`
# `make worksheets`: one PDF per student with their own exercise numbers, and the key.
#
# ``--students roster.txt`` (one id per line, as for the handouts) writes into
# ``_build/worksheets/``: ``<id>.pdf`` (every exercise a pen can answer, with that student's
# given numbers, a chapter a page), ``chapter-<NN>-<chapter>.pdf`` (one chapter's sheets for
# the whole class, to print for a week), ``key.pdf`` (a table per chapter: student, answer
# to the digits asked, tolerance) and ``key.csv`` (the same rows). Printed by Debian's
# Chromium, offline; math is rendered before printing by the book's KaTeX (bookkit/katex.py),
# styled by the stylesheet and fonts ``make assets`` ships; the key lists each chapter's
# formula answers (the derivation exercises') after its table.

OUT = BUILD / "worksheets"
KATEX_ASSETS = VENDOR / "katex"


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
        found = sheets(nb, student_id)
        if found:
            chapters.append((chapter_title(nb), found))
    return chapters


def print_all(pages: dict[str, str], out: Path) -> None:
    """Write each page's HTML into out/html and print it to out/<name>.pdf."""
    html_dir = out / "html"
    html_dir.mkdir(parents=True)
    (html_dir / "katex").symlink_to(KATEX_ASSETS, target_is_directory=True)
    for name, markup in pages.items():
        (html_dir / f"{name}.html").write_text(markup)
    with serve(html_dir) as base, chromium() as b:
        for name in pages:
            page = offline_page(b)
            page.goto(f"{base}/{name}.html", wait_until="load", timeout=120_000)
            pe.wait_ready(page, timeout_s=90)
            page.emulate_media(media="print")
            page.evaluate("() => document.fonts.ready.then(() => true)")  # KaTeX's fonts
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
    if not KATEX_ASSETS.is_dir():
        print("The book's KaTeX stylesheet is missing: run `make assets` first.",
              file=sys.stderr)
        return 1
    notebooks = [json.loads(p.read_text()) for p in toc.notebooks()]
    students = {sid: student_chapters(notebooks, sid) for sid in roster}
    shutil.rmtree(args.out, ignore_errors=True)
    pages = {sid: worksheet_html(sid, chapters) for sid, chapters in students.items()}
    first = next(iter(students.values()))
    stems = [p.stem for p in toc.notebooks() if sheets_of(p)]
    for c, stem in enumerate(stems, start=1):  # a chapter's sheets for the whole class
        body = "".join(sheet_body(sid, [chapters[c - 1]], [c])
                       for sid, chapters in students.items())
        pages[f"chapter-{c:02d}-{stem}"] = _page(f"Worksheets: {first[c - 1][0]}", body)
    pages["key"] = key_html(students)
    print_all(pages, args.out)
    write_key_csv(key_rows(students), args.out / "key.csv")
    count = sum(on_paper(s) for _, found in first for s in found)
    total = sum(len(found) for _, found in first)
    print(f"{len(roster)} worksheets ({count} of {total} exercises on paper), "
          f"{len(stems)} chapter files, key.pdf and key.csv in {args.out}")
    return 0


def sheets_of(path: Path) -> bool:
    """Whether the notebook at ``path`` has exercises with a checker module (a chapter of
    the worksheets)."""
    notebook = json.loads(path.read_text())
    return bool(exercise_module(notebook) and exercises(notebook))


def write_key_csv(rows: list[dict], path: Path) -> None:
    import csv

    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, ["chapter", "exercise", "part", "title", "label", "what",
                                    "student", "answer", "tolerance"])
        writer.writeheader()
        writer.writerows(rows)
