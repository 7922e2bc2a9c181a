"""Worksheets on paper: a student's sheet shows the numbers that student's checker expects.

`make worksheets` is run for a small roster; the PDFs are read back with pdftotext. Every
number the exercises on paper draw for a student (the ``*_numbers`` functions their given
cells call, what the checkers call) must be printed on that student's sheet; the key's
answers, to the digits asked, must be within their tolerance of what the checkers expect
for that student; and two answers are recomputed here independently (the sigmoid's slope
by its formula, dC/dw1 by centered finite differences) from the numbers read off the
printed sheet.

A code exercise (its checker calls ``check_code``) is a task on paper: its function's
signature, the inputs its checker draws for that student (one of them, rounded as printed),
a box per returned array; the key's arrays are recomputed here by the chapter's own
solution (or, for the autodiff engine's exercises, by SymPy) on exactly the printed inputs.
"""

from __future__ import annotations

import copy
import csv
import importlib
import inspect
import json
import pkgutil
import re
import subprocess
import sys

import numpy as np
import pytest
import sympy as sp
from browser import chromium_or_skip
from pdf_tools import poppler_or_skip, text

import backprop_book as bb
import backprop_book.exercises
from backprop_book import checkers
from backprop_book.exercises import autodiff
from bookkit import toc
from bookkit import worksheets as ws
from bookkit.paths import ROOT

ROSTER = ["ada", "grace-7"]


def exercise_modules():
    for info in pkgutil.iter_modules(backprop_book.exercises.__path__):
        yield importlib.import_module(f"backprop_book.exercises.{info.name}")


def drawn_numbers(student_id: str) -> dict[str, dict]:
    """Every ``*_numbers()`` of every exercise module, for ``student_id``."""
    checkers.set_student(student_id)
    try:
        found = {}
        for module in exercise_modules():
            for name, fn in inspect.getmembers(module, inspect.isfunction):
                needs = [p for p in inspect.signature(fn).parameters.values()
                         if p.default is inspect.Parameter.empty]
                if name.endswith("_numbers") and fn.__module__ == module.__name__ and not needs:
                    found[f"{module.__name__}.{name}"] = fn()
        return found
    finally:
        checkers.set_student(None)


def notebooks() -> list[dict]:
    paths = [toc.source_of(e) for e in toc.entries()]
    return [json.loads(p.read_text()) for p in paths if p.suffix == ".ipynb"]


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    """{student id: worksheet text, "key": the key's text}, from a fresh `make worksheets`."""
    chromium_or_skip()
    poppler_or_skip()
    out = tmp_path_factory.mktemp("worksheets")
    roster = out / "roster.txt"
    roster.write_text("# two students\n" + "\n".join(ROSTER) + "\n")
    result = subprocess.run(
        [sys.executable, "-m", "bookkit", "worksheets", "--students", str(roster),
         "--out", str(out / "pdf")],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    found = {name: text(out / "pdf" / f"{name}.pdf") for name in [*ROSTER, "key"]}
    found["csv"] = list(csv.DictReader((out / "pdf" / "key.csv").open()))
    found["chapters"] = sorted(p.name for p in (out / "pdf").glob("chapter-*.pdf"))
    found["first chapter"] = text(out / "pdf" / found["chapters"][0])
    found["pages"] = {name: text(out / "pdf" / f"{name}.pdf").count("\f")
                      for name in [*ROSTER, "key"]}
    found["html"] = out / "pdf" / "html"
    return found


def paper_numbers(student_id: str) -> dict[str, dict]:
    """:func:`drawn_numbers` of the functions the given cells of paper exercises call."""
    called = set()
    for nb in notebooks():
        for sheet in ws.sheets(nb, student_id):
            if ws.on_paper(sheet):
                called |= set(re.findall(r"\.(\w+_numbers)\(", sheet.exercise.given))
    return {k: v for k, v in drawn_numbers(student_id).items() if k.split(".")[-1] in called}


def _floats(value) -> list[float]:
    if isinstance(value, dict):
        return [f for v in value.values() for f in _floats(v)]
    if isinstance(value, np.ndarray):
        return [float(f) for f in value.ravel()]
    if isinstance(value, list | tuple):
        return [f for v in value for f in _floats(v)]
    return [float(value)] if isinstance(value, int | float | np.number) else []


def missing_from(numbers: dict, sheet: str) -> list[float]:
    shown = ws.numbers_in(sheet)
    return [f for f in _floats(numbers)
            if not any(abs(f - g) <= 1e-12 * max(1.0, abs(f)) for g in shown)]


def test_numbers_differ_between_students():
    """The check below could not fail if every student got the book's numbers."""
    a, b = drawn_numbers(ROSTER[0]), drawn_numbers(ROSTER[1])
    assert len(a) >= 10, f"found only {sorted(a)}"
    assert sum(a[k] != b[k] for k in a) >= len(a) - 1


@pytest.mark.browser
@pytest.mark.parametrize("student", ROSTER)
def test_sheet_shows_the_numbers_the_checker_expects(printed, student):
    sheet = printed[student]
    assert f"Worksheet for {student}" in sheet
    numbers_on_paper = paper_numbers(student)
    assert len(numbers_on_paper) >= 10, sorted(numbers_on_paper)
    for name, numbers in numbers_on_paper.items():
        assert not missing_from(numbers, sheet), (
            f"{student}'s sheet does not show {name}() = {numbers}: missing "
            f"{missing_from(numbers, sheet)}"
        )


@pytest.mark.browser
def test_a_sheet_does_not_show_another_students_numbers(printed):
    other = paper_numbers(ROSTER[1])
    absent = [n for n, numbers in other.items() if missing_from(numbers, printed[ROSTER[0]])]
    assert len(absent) >= len(other) - 2, f"{ROSTER[0]}'s sheet shows {ROSTER[1]}'s numbers"


@pytest.mark.browser
@pytest.mark.parametrize("student", ROSTER)
def test_key_answers_are_within_their_tolerance_of_what_the_checkers_expect(printed, student):
    """Every paper answer in key.csv, to the digits asked, is within its tolerance (one unit
    in the last digit) of what the checker compares against; a letter is what it accepts."""
    rows = {(r["label"], int(r["part"])): r for r in printed["csv"] if r["student"] == student}
    checked = 0
    for nb in notebooks():
        alias = ws.exercise_module(nb)
        for sheet in ws.sheets(nb, student):
            if not ws.on_paper(sheet):
                assert not any(label == sheet.exercise.label for label, _ in rows)
                continue
            for k, answer in enumerate(ws.paper_answers(sheet)):
                row = rows[sheet.exercise.label, k]
                if answer.kind == "choice":
                    name = ws.checker_calls(sheet.exercise.check, alias[1])[0]
                    module = importlib.import_module(f"backprop_book.exercises.{alias[0]}")
                    checkers.set_student(student)
                    try:
                        assert getattr(module, name)(row["answer"]).ok
                    finally:
                        checkers.set_student(None)
                else:
                    got = np.array(json.loads(row["answer"].replace(";", "],[").join("[]")
                                              if row["answer"].startswith("[") else
                                              row["answer"]), dtype=float)
                    want = np.asarray(answer.value, dtype=float)
                    tol = float(row["tolerance"])
                    assert got.size == want.size, (sheet.exercise.label, row)
                    assert np.all(np.abs(got.reshape(-1) - want.reshape(-1)) <= tol * 0.51 +
                                  1e-12), (sheet.exercise.label, row, want)
                checked += 1
    assert checked >= 20, f"only {checked} answers were found in the key"


@pytest.mark.browser
def test_one_file_per_chapter_with_every_students_sheet_and_a_compact_key(printed):
    assert len(printed["chapters"]) >= 8, printed["chapters"]
    first = printed["first chapter"]
    assert all(f"Worksheet for {s}" in first for s in ROSTER)
    assert "In the notebook only" in printed[ROSTER[0]]
    assert "Store it in" not in printed[ROSTER[0]], "the notebook's words stay off paper"
    # a row per student: the class's key is shorter than one student's worksheet
    assert printed["pages"]["key"] < printed["pages"][ROSTER[0]] / 3, printed["pages"]


@pytest.mark.browser
def test_the_key_lists_the_typed_formulas_rendered_by_katex(printed):
    """The derivation exercises are typed in the notebook, not on paper; the key still gives
    their formulas, under each chapter's table, rendered (no TeX source left in the PDF)."""
    key = " ".join(printed["key"].split())
    assert "Formulas (typed in the notebook" in key
    for what in ("dC/dw2 =", "dC/dW^(1)_12 =", "dC/dz_1 ="):
        assert what in key, what
    assert "\\frac" not in key and "\\left" not in key, "TeX left unrendered"


def key_value(rows: list[dict], student: str, label: str) -> float:
    return float(next(r["answer"] for r in rows if r["student"] == student
                      and r["label"] == label and r["part"] == "0"))


def given_line(sheet: str, title: str) -> dict[str, float]:
    """The 'given: k = v, ...' line printed under the exercise called ``title``."""
    after = sheet[sheet.index(title):]
    line = re.search(r"given: (.*)", after).group(1)
    return {k: float(v) for k, v in re.findall(r"(\w+) = (-?[\d.]+)", line)}


@pytest.mark.browser
def test_key_agrees_with_an_independent_computation(printed):
    student = ROSTER[0]
    sheet = printed[student]
    z = given_line(sheet, "The sigmoid's slope")["z"]
    s = 1 / (1 + np.exp(-z))
    slope = key_value(printed["csv"], student, "ex-111-sigmoid-slope")
    assert slope == pytest.approx(s * (1 - s), rel=1e-3)

    n = given_line(sheet, "One gradient by hand")

    def cost(w1):
        sig = lambda t: 1 / (1 + np.exp(-t))  # noqa: E731
        return (sig(n["w2"] * sig(w1 * n["x"] + n["b1"]) + n["b2"]) - n["y"]) ** 2

    h = 1e-6
    centered = (cost(n["w1"] + h) - cost(n["w1"] - h)) / (2 * h)
    dC_dw1 = key_value(printed["csv"], student, "ex-111-grad-w1")
    assert dC_dw1 == pytest.approx(centered, rel=1e-3)


# ------------------------------------------------------------------ code exercises on paper


def code_checkers() -> set[str]:
    """The checkers that judge a function with check_code (directly or through the dense
    networks' backward checker), found in the exercise modules' source."""
    return {name for module in exercise_modules()
            for name, fn in inspect.getmembers(module, inspect.isfunction)
            if name.startswith("check_") and fn.__module__ == module.__name__
            and re.search(r"\bcheck_code\(|_dense\.check_backward\(", inspect.getsource(fn))}


def code_sheets(student: str) -> list[tuple[str, ws.Sheet, str, object]]:
    """(number as printed, sheet, checker name, its module) for every code exercise."""
    found, c = [], 0
    checkers_of_code = code_checkers()
    for nb in notebooks():
        sheets = ws.sheets(nb, student)
        if not sheets:
            continue
        c += 1
        module, alias = ws.exercise_module(nb)
        for i, sheet in enumerate(sheets, start=1):
            calls = ws.checker_calls(sheet.exercise.check, alias)
            if any(call in checkers_of_code for call in calls):
                found.append((f"{c}.{i}", sheet, calls[0],
                              importlib.import_module(f"backprop_book.exercises.{module}")))
    return found


def test_every_code_exercise_goes_on_paper_as_a_task():
    found = code_sheets(ROSTER[0])
    assert len(found) >= 9, [s.exercise.label for _, s, _, _ in found]
    for _, sheet, _, _ in found:
        assert ws.on_paper(sheet), sheet.exercise.label
        task = sheet.answers[0].value
        assert isinstance(task, ws.CodeTask) and task.inputs and task.outputs
        assert sheet.signature.startswith("def "), sheet.exercise.label
        assert '"""' in sheet.signature, f"{sheet.exercise.label}: no docstring"


def test_two_students_get_different_code_inputs():
    a = {s.exercise.label: s.answers[0].value for _, s, _, _ in code_sheets(ROSTER[0])}
    b = {s.exercise.label: s.answers[0].value for _, s, _, _ in code_sheets(ROSTER[1])}
    assert a.keys() == b.keys()
    for label in a:
        left, right = _floats(a[label].inputs), _floats(b[label].inputs)
        assert left != right, f"{label}: both students get the same inputs"
        left, right = _floats(a[label].outputs), _floats(b[label].outputs)
        assert len(left) != len(right) or not np.allclose(left, right), label


def checkers_cases(checker: str, module, solution) -> list[tuple]:
    """The arguments ``checker`` calls a function with, for the current student: taped by
    handing it the chapter's own solution, which it must judge right."""
    calls = []

    def taped(*args):
        calls.append(copy.deepcopy(args))
        return solution(*args)

    assert getattr(module, checker)(taped)
    return calls


def solution_of(sheet: ws.Sheet, name: str):
    ns = {"np": np, "bb": bb}
    exec(compile(sheet.exercise.solution, sheet.exercise.label, "exec"), ns)  # the book's cell
    return ns[name]


def _sig(t):
    return 1 / (1 + sp.exp(-t))


def autodiff_answers(checker: str, point: dict) -> list[float]:
    """The leaf gradients the autodiff exercises ask for, by SymPy from the graphs."""
    x, y, z = sp.symbols("x y z")
    if checker == "check_div_node":
        a = x * y
        graphs = [((x / y) ** 2, (x, y)), (a / (x + y) + a, (x, y)), (x / x, (x,))]
    else:
        s = x * y + x
        graphs = [(sp.Rational(1, 10) * sp.exp(s * _sig(s) + z * s) + s * z, (x, y, z))]
    at = {sp.Symbol(k): v for k, v in point.items()}
    return [float(sp.diff(f, v).subs(at)) for f, leaves in graphs for v in leaves]


def printed_case(cases: list[tuple], sheet_text: str) -> tuple:
    """The one case of ``cases`` whose numbers, rounded as printed, are all on the sheet."""
    rounded = [ws.on_paper_inputs(case) for case in cases]
    shown = [c for c in rounded if not missing_from(c, sheet_text)]
    assert len(shown) == 1, f"{len(shown)} of the checker's {len(cases)} inputs are printed"
    return shown[0]


def flat(value) -> list[np.ndarray]:
    if isinstance(value, list | tuple):
        return [leaf for v in value for leaf in flat(v)]
    return [np.asarray(value, dtype=float)]


@pytest.mark.browser
@pytest.mark.parametrize("student", ROSTER)
def test_code_task_shows_its_inputs_and_the_key_what_the_solution_returns(printed, student):
    """Each code exercise is printed as a task (its signature, the inputs the checker draws
    for this student) and not as "in the notebook only"; the key's arrays are what the
    chapter's solution (SymPy for the autodiff graphs) returns on exactly the printed
    inputs, within the key's tolerance."""
    sheet_text = printed[student]
    off = " ".join(re.findall(r"In the notebook only \(a function or a formula to write\): "
                              r"(.*?)\.(?:\s|$)", " ".join(sheet_text.split())))
    assert "1.4 A new activation" in off, "the notebook-only lines are not where expected"
    rows = [r for r in printed["csv"] if r["student"] == student]
    checked = 0
    for number, sheet, checker, module in code_sheets(student):
        title = sheet.exercise.title
        assert f"Exercise {number}: {title}" in " ".join(sheet_text.split()), title
        assert f"{number} {title}" not in off, f"{title}: notebook only"
        assert sheet.signature.splitlines()[0] in sheet_text, sheet.signature
        checkers.set_student(student)
        try:
            if module is autodiff:
                cases = [tuple(c.values()) for c in (
                    autodiff._div_cases() if checker == "check_div_node"
                    else autodiff._topo_cases())]
                point = printed_case(cases, sheet_text)
                want = autodiff_answers(checker, dict(zip("xyz", point, strict=False)))
            else:
                name = ws.function_of(sheet.exercise.check, "ex")
                solution = solution_of(sheet, name)
                point = printed_case(checkers_cases(checker, module, solution), sheet_text)
                want = flat(solution(*copy.deepcopy(point)))
        finally:
            checkers.set_student(None)
        mine = sorted((r for r in rows if r["label"] == sheet.exercise.label),
                      key=lambda r: int(r["part"]))
        assert len(mine) == len(want), (sheet.exercise.label, [r["what"] for r in mine])
        for row, w in zip(mine, want, strict=True):
            got = np.array(json.loads(row["answer"].replace(";", "],[").join("[]")
                                      if row["answer"].startswith("[") else row["answer"]),
                           dtype=float)
            w = np.asarray(w, dtype=float)
            assert got.size == w.size, (sheet.exercise.label, row["what"])
            # the key's rounding (half a unit) and the printed cache's, each number rounded
            # on its own (the solution takes the slope from a, the reference may from z)
            assert np.all(np.abs(got.reshape(-1) - w.reshape(-1))
                          <= float(row["tolerance"]) * 0.6 + 1e-12), (
                sheet.exercise.label, row["what"], row["answer"], w)
            checked += 1
    assert checked >= 30, checked


@pytest.mark.browser
def test_the_key_prints_each_code_exercises_arrays(printed):
    key = " ".join(printed["key"].split())
    for number, sheet, _, _ in code_sheets(ROSTER[0]):
        assert f"{number} {sheet.exercise.title}: what the reference returns" in key
    for name in ("dC_dw1", "dW3", "w_new", "dgamma", "x / x: dx"):
        assert name in key, name
#: A4's width less the worksheet's page margins (16 mm each side), in CSS pixels.
PRINTED_COLUMN_PX = (210 - 2 * 16) / 25.4 * 96


@pytest.mark.browser
def test_every_box_fits_the_printed_column(printed, chromium):
    """The trial's sheets had the right border of every "given" box and answer box cut off at
    the margin: a box as wide as the column draws its right border on the edge, where the
    printer clips it. Laid out for print at the column's width, every box ends at least a
    pixel inside it."""
    from bookkit.browser import offline_page, serve

    with serve(printed["html"]) as base:
        page = offline_page(chromium, width=round(PRINTED_COLUMN_PX))
        for name in (ROSTER[0], "key"):
            page.goto(f"{base}/{name}.html", wait_until="load")
            page.emulate_media(media="print")
            past = page.evaluate("""(limit) => [...document.querySelectorAll(
                    'pre, .line, .work, table.grid, table.key, .exercise, .katex-display')]
                .map(e => [e.className || e.tagName, e.getBoundingClientRect().right])
                .filter(([, right]) => right > limit - 1)""", PRINTED_COLUMN_PX)
            assert not past, f"{name}: {len(past)} boxes end on or past the column's edge, " \
                             f"e.g. {past[:3]}"
            boxes = page.evaluate("() => document.querySelectorAll('pre, .line, .work').length")
            assert boxes > 20 or name == "key", boxes  # the key is tables


def test_an_answer_box_has_the_shape_of_its_answer():
    """The trial's sheets gave every answer the same five-line box, a 2 x 2 Jacobian and a
    delta of 5 neurons alike: a number gets a line, an array a grid of its own shape, and
    the digits wanted are said."""
    def cells(html: str) -> list[int]:
        return [len(re.findall(r"<td\b", row)) for row in re.findall(r"<tr>(.*?)</tr>", html)]

    number = ws._ask(ws.Answer("dC/dw1", "number", 0.0123))
    assert 'class="line"' in number and "<table" not in number and "4 significant" in number
    assert cells(ws._ask(ws.Answer("J", "number", np.zeros((2, 2))))) == [2, 2]
    assert cells(ws._ask(ws.Answer("delta", "number", np.zeros((5, 1))))) == [1] * 5
    assert cells(ws._ask(ws.Answer("b", "number", np.zeros(3)))) == [3]
    assert "a whole number" in ws._ask(ws.Answer("n_out", "number", 13))
