"""Worksheets on paper: a student's sheet shows the numbers that student's checker expects.

`make worksheets` is run for a small roster; the PDFs are read back with pdftotext. Every
number each exercise module draws for a student (its ``*_numbers`` functions, what the
checkers call) must be printed on that student's sheet; the key's answers must pass the
checkers for that student; and two answers are recomputed here independently (the
sigmoid's slope by its formula, dC/dw1 by centered finite differences) from the numbers
read off the printed sheet.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import re
import subprocess
import sys

import numpy as np
import pytest
from browser import chromium_or_skip
from pdf_tools import poppler_or_skip, text

import backprop_book.exercises
from backprop_book import checkers
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
    return {name: text(out / "pdf" / f"{name}.pdf") for name in [*ROSTER, "key"]}


def _floats(value) -> list[float]:
    if isinstance(value, dict):
        return [f for v in value.values() for f in _floats(v)]
    if isinstance(value, list | tuple | np.ndarray):
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
    for name, numbers in drawn_numbers(student).items():
        assert not missing_from(numbers, sheet), (
            f"{student}'s sheet does not show {name}() = {numbers}: missing "
            f"{missing_from(numbers, sheet)}"
        )


@pytest.mark.browser
def test_a_sheet_does_not_show_another_students_numbers(printed):
    other = drawn_numbers(ROSTER[1])
    absent = [n for n, numbers in other.items() if missing_from(numbers, printed[ROSTER[0]])]
    assert len(absent) >= len(other) - 2, f"{ROSTER[0]}'s sheet shows {ROSTER[1]}'s numbers"


def key_section(key: str, student: str) -> str:
    parts = re.split(r"Answers for (\S+)\n", key)
    return dict(zip(parts[1::2], parts[2::2], strict=True))[student]


@pytest.mark.browser
@pytest.mark.parametrize("student", ROSTER)
def test_key_answers_pass_the_checkers(printed, student):
    """Every single-number answer, as printed in the key, is what the checker accepts."""
    section = " ".join(key_section(printed["key"], student).split())
    checked = 0
    for nb in notebooks():
        alias = ws.exercise_module(nb)
        for sheet in ws.sheets(nb, student):
            names = ws.checker_calls(sheet.exercise.check, alias[1]) if alias else []
            numbers = [a for a in sheet.answers if a.kind in ("number", "choice")]
            if len(names) != 1 or len(numbers) != 1 or np.ndim(numbers[0].value) != 0:
                continue
            found = re.search(re.escape(numbers[0].what) + r" = (\S+)", section)
            assert found, f"the key has no '{numbers[0].what} = ...' for {student}"
            printed_value = found.group(1)
            if numbers[0].kind == "number":
                printed_value = float(printed_value.replace("\u2212", "-"))
            module = importlib.import_module(f"backprop_book.exercises.{alias[0]}")
            checkers.set_student(student)
            try:
                verdict = getattr(module, names[0])(printed_value)
            finally:
                checkers.set_student(None)
            assert verdict.ok, f"{student}, {sheet.exercise.label}: {verdict}"
            checked += 1
    assert checked >= 8, f"only {checked} single-number answers were found in the key"


def given_line(sheet: str, title: str) -> dict[str, float]:
    """The 'given: k = v, ...' line printed under the exercise called ``title``."""
    after = sheet[sheet.index(title):]
    line = re.search(r"given: (.*)", after).group(1)
    return {k: float(v) for k, v in re.findall(r"(\w+) = (-?[\d.]+)", line)}


@pytest.mark.browser
def test_key_agrees_with_an_independent_computation(printed):
    student = ROSTER[0]
    sheet, key = printed[student], " ".join(key_section(printed["key"], student).split())
    z = given_line(sheet, "The sigmoid's slope")["z"]
    s = 1 / (1 + np.exp(-z))
    slope = float(re.search(r"sigma'\(\S+\) = (\S+)", key).group(1))
    assert slope == pytest.approx(s * (1 - s), rel=1e-9)

    n = given_line(sheet, "One gradient by hand")

    def cost(w1):
        sig = lambda t: 1 / (1 + np.exp(-t))  # noqa: E731
        return (sig(n["w2"] * sig(w1 * n["x"] + n["b1"]) + n["b2"]) - n["y"]) ** 2

    h = 1e-6
    centered = (cost(n["w1"] + h) - cost(n["w1"] - h)) / (2 * h)
    dC_dw1 = float(re.search(r"dC/dw1 = (\S+)", key).group(1))
    assert dC_dw1 == pytest.approx(centered, rel=1e-6)
