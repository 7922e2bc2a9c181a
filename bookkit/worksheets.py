"""Worksheets on paper: each student's own exercise numbers, and the instructor's key.

An exercise has one source: its ``{exercise}`` cell in the chapter notebook (the prompt),
the code cells after it that print the given numbers, and its checker in
:mod:`backprop_book.exercises`. A worksheet runs the same "given" cells with the student's
id set (:func:`backprop_book.checkers.set_student`), so it shows exactly the numbers that
student's notebook shows. The key's answers are what the checker itself compares against:
the checker is called with its answer engines (``check_array``, ``check_expr``,
``check_function``) swapped for recorders, so the key cannot drift from the checkers.
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from backprop_book import checkers

from . import katex, toc
from . import print_edition as pe
from .anatomy import EXERCISE_BLOCK, EXERCISE_IMPORT, cell_text
from .browser import chromium, offline_page, serve
from .paths import BUILD, VENDOR
from .roster import read_roster

ENGINES = ("check_array", "check_expr", "check_function", "check_derivation")


@dataclass
class Exercise:
    """One exercise of a chapter, as the notebook states it."""

    label: str
    title: str
    prompt: str  # Markdown with $math$
    given: str  # the code that prints the given numbers ("" when there are none)
    check: str  # the checker cell's code


@dataclass
class Answer:
    """What a checker compares an answer with: kind is "number", "expression" or "function"."""

    what: str
    kind: str
    value: Any


@dataclass
class Sheet:
    """One exercise for one student: the printed numbers and the checker's answers."""

    exercise: Exercise
    given_text: str
    answers: list[Answer] = field(default_factory=list)


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


def recorded_answers(module, checker: str) -> list[Answer]:
    """What ``module.checker`` hands its answer engines as the right answer.

    The checker is called with ``None`` (a placeholder), then, if it stopped there, with an
    object that is no placeholder and no number, while its module's engines record their
    ``expected`` argument and accept. A checker that rejects both before it reaches an engine
    (a letter to choose, a SymPy matrix) records nothing.
    """
    recorded: list[Answer] = []
    saved = {name: getattr(module, name) for name in ENGINES if hasattr(module, name)}

    def recorder(engine):
        def record(answer, expected, *args, what="answer", **kwargs):
            recorded.append(Answer(what, _kind(engine), expected))
            return checkers.right(what)

        return record

    try:
        for name in saved:
            setattr(module, name, recorder(name))
        for probe in (None, _Probe()):
            with contextlib.suppress(checkers.NotQuiteRight):
                getattr(module, checker)(probe)
            if recorded:
                break
    finally:
        for name, engine in saved.items():
            setattr(module, name, engine)
    return recorded


def chosen_answer(module, checker: str) -> list[Answer]:
    """For a multiple-choice checker: the one letter it accepts (none found: ``[]``)."""
    for letter in "ABCDEFGHIJ":
        with contextlib.suppress(checkers.NotQuiteRight, TypeError, ValueError):
            verdict = getattr(module, checker)(letter)
            if isinstance(verdict, checkers.Verdict) and verdict.ok:
                return [Answer(verdict.what, "choice", letter)]
    return []


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
            out.append(sheet)
        return out
    finally:
        checkers.set_student(previous)


def format_answer(answer: Answer) -> str:
    """An answer as text (numbers to 8 significant digits), or LaTeX between \\( \\)."""
    if answer.kind == "expression":
        return r"\(" + answer_tex(answer) + r"\)"
    if answer.kind == "choice":
        return str(answer.value)
    if answer.kind == "function":
        return "a function: the checker calls it at its test points (see the solution)"
    value = np.asarray(answer.value, dtype=float)
    if np.all(value == np.round(value)) and np.all(np.abs(value) < 1e15):
        return str(value.astype(int).tolist()) if value.ndim else str(int(value))
    if value.ndim == 0:
        return f"{float(value):.12g}"
    return np.array2string(value, precision=10, separator=", ", floatmode="maxprec")


# ------------------------------------------------------------------ the printed pages

CSS = """
@page { size: A4; margin: 16mm 16mm 18mm; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", sans-serif; font-size: 10.5pt; line-height: 1.45;
       color: #222; margin: 0; }
h1 { font-size: 18pt; margin: 0 0 2mm; }
h2 { font-size: 13pt; margin: 7mm 0 2mm; border-bottom: 1px solid #bbb; break-after: avoid; }
.exercise { break-inside: avoid; margin: 0 0 5mm; }
.exercise h3 { font-size: 11pt; margin: 3mm 0 1mm; }
.label { color: #666; font-weight: normal; font-size: 9pt; }
pre { background: #f3f3f3; border-left: 3px solid #888; padding: 2mm 3mm; margin: 2mm 0;
      white-space: pre-wrap; font-size: 9pt; }
.answer { border: 1px solid #999; min-height: 28mm; margin-top: 2mm; padding: 1mm 2mm;
          color: #777; font-size: 9pt; }
.key { margin: 1mm 0; } .key b { font-weight: 600; }
.student { break-before: page; } .student:first-of-type { break-before: auto; }
.intro { color: #444; }
.math .katex-display { text-align: left; margin: 1mm 0; }
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


def _exercise_html(number: str, sheet: Sheet, key: bool) -> str:
    from html import escape

    ex = sheet.exercise
    parts = [f'<div class="exercise"><h3>Exercise {number}: {escape(ex.title)} '
             f'<span class="label">({escape(ex.label)})</span></h3>']
    if not key:
        parts.append(markdown_html(ex.prompt))
    if sheet.given_text:
        parts.append(f"<pre>{escape(sheet.given_text)}</pre>")
    if key:
        for a in sheet.answers:
            parts.append(f'<p class="key"><b>{escape(a.what)}</b> = {_answer_html(a)}</p>')
        if not sheet.answers:
            parts.append('<p class="key">The same for every student: see the solution in '
                         "the instructor's notebook.</p>")
    else:
        parts.append('<div class="answer">Your answer:</div>')
    return "".join(parts + ["</div>"])


def _answer_html(answer: Answer) -> str:
    from html import escape

    if answer.kind == "expression":
        return katex.render(answer_tex(answer))
    return f"<code>{escape(format_answer(answer))}</code>"


def sheet_body(student_id: str, chapters: list[tuple[str, list[Sheet]]], key: bool) -> str:
    """One student's exercises, chapter by chapter: prompts and space to answer, or the key."""
    from html import escape

    head = "Answers for" if key else "Worksheet for"
    parts = [f'<section class="student"><h1>{head} {escape(student_id)}</h1>']
    if not key:
        parts.append('<p class="intro">These are your own numbers: in the notebooks, set '
                     f"<code>STUDENT_ID = {escape(repr(student_id))}</code> to check your "
                     "answers with the same numbers.</p>")
    for c, (chapter, found) in enumerate(chapters, start=1):
        parts.append(f"<h2>{c}. {escape(chapter)}</h2>")
        parts += [_exercise_html(f"{c}.{i}", s, key) for i, s in enumerate(found, start=1)]
    return "".join(parts + ["</section>"])


def worksheet_html(student_id: str, chapters: list[tuple[str, list[Sheet]]]) -> str:
    """A student's worksheet as a page, its math rendered (KaTeX's stylesheet in ``katex/``)."""
    return _page(f"Worksheet: {student_id}", sheet_body(student_id, chapters, False))


def key_html(students: dict[str, list[tuple[str, list[Sheet]]]]) -> str:
    """The instructor's key: every student's numbers and the checkers' answers."""
    body = "".join(sheet_body(sid, chapters, True) for sid, chapters in students.items())
    return _page("Instructor's key", body)


# ------------------------------------------------------------------ `make worksheets`
# `make worksheets`: one PDF per student with their own exercise numbers, and the key.
#
# ``--students roster.txt`` (one id per line, as for ``make_handouts.py``) writes
# ``_build/worksheets/<id>.pdf`` (every exercise of the book with that student's given
# numbers and space to answer) and ``_build/worksheets/key.pdf`` (every student's numbers
# and the right answers, as the exercise checkers compute them). Printed by Debian's
# Chromium, offline; math is rendered before printing by the book's KaTeX (bookkit/katex.py),
# styled by the stylesheet and fonts ``make assets`` ships.

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
            page = offline_page(b, base)
            page.goto(f"{base}/{name}.html", wait_until="load", timeout=120_000)
            pe.wait_ready(page, timeout_s=90)
            page.emulate_media(media="print")
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
    pages["key"] = key_html(students)
    print_all(pages, args.out)
    count = sum(len(s) for _, s in next(iter(students.values())))
    print(f"{len(roster)} worksheets of {count} exercises and key.pdf in {args.out}")
    return 0

