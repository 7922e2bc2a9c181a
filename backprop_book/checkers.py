"""Exercise checkers: immediate, specific feedback, never a deep traceback.

Every exercise of the book ends with a cell ``check_...(answer)``. The chapter's checker
(in :mod:`backprop_book.exercises`) knows the right answer and the classic wrong ones and
calls one of the three engines here:

* :func:`check_array` for numbers and arrays (a gradient, a delta, a Jacobian);
* :func:`check_expr` for SymPy expressions (equal after simplification counts as right);
* :func:`check_function` for a function the reader writes (called at test points).

Two more engines live in modules of their own and return and raise the same way:
:func:`backprop_book.codecheck.check_code` for code that returns arrays (a backward pass,
an optimizer's update: fresh inputs per student, each returned array judged, classic bugs
named, the reader's exception and line, a time limit) and
:func:`backprop_book.derivations.check_derivation` for a formula typed as a string or
SymPy (proved equal by SymPy; a missing factor, a wrong index, a known wrong form named).

Three outcomes:

* right: a :class:`Verdict` is returned and shown (a green box in Jupyter);
* not done yet (``None``, ``...``, or a function that still raises the handout's
  ``NotImplementedError``): a :class:`Verdict` that says so; nothing is raised, so a
  handout runs on to the next exercise;
* wrong: :class:`NotQuiteRight` is raised, with a diagnosis when the answer matches a
  classic mistake (sign flipped, missing 1/m, transposed, f'(a) for f'(z), ...). IPython shows
  only its message, never a traceback, and the notebook run stops there, so a book whose
  solution is wrong cannot build.

Numbers per student: :func:`set_student` once at the top of a handout; :func:`given` then
draws each exercise's numbers from the student's id and the exercise's label, so neighbours
get different numbers and the checker, calling :func:`given` too, knows the right answer.
"""

from __future__ import annotations

import hashlib
import html
import math
import numbers
import os
import re
import textwrap
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

#: A classic wrong answer: (its value, what went wrong, how to fix it).
Mistakes = Mapping[str, Any]


# ------------------------------------------------------------------ outcomes

#: The width of the page's column: a message is wrapped to it when shown.
WIDTH = 77
#: What a line is never broken inside: short code in backticks, a short group in
#: parentheses such as (1 - a) or (x, y).
_KEEP = re.compile(r"`[^`]{1,40}`|\([^()\n]{1,14}\)")


def wrap(text: str, width: int = WIDTH) -> str:
    """``text`` wrapped to ``width`` columns, line by line: an indented line (one array's
    verdict) keeps its indent, and its continuation lines are indented two more; short
    code in backticks and a short group in parentheses are never split."""
    out = []
    for line in text.split("\n"):
        indent = line[: len(line) - len(line.lstrip(" "))]
        body = _KEEP.sub(lambda m: m.group(0).replace(" ", "\x00"), line.strip())
        filled = textwrap.fill(body, width=width, initial_indent=indent,
                               subsequent_indent=indent + ("  " if indent else ""),
                               break_long_words=False, break_on_hyphens=False)
        out.append(filled.replace("\x00", " ") if body else line)
    return "\n".join(out)


def a_kind(value: object) -> str:
    """"a list", "an int": what kind of thing ``value`` is, with its article."""
    kind = type(value).__name__
    return f"{'an' if kind[:1].lower() in 'aeiou' else 'a'} {kind}"


def wrapped(head: str, message: str, width: int = 88) -> list[str]:
    """``head`` and ``message`` as lines of at most ``width`` characters (the colour codes of
    ``head`` aside): a notebook, the feedback page and a terminal show a diagnosis whole,
    never cut at the right edge."""
    import textwrap

    visible = len(head) - len("\x1b[1;31m\x1b[0m")
    lines = textwrap.wrap(message, width, initial_indent=" " * (visible + 1))
    lines = lines or [""]
    return [head + lines[0][visible:]] + lines[1:]


class NotQuiteRight(Exception):
    """A wrong answer. IPython shows the message alone (no traceback), wrapped to the
    page's column."""

    def _render_traceback_(self) -> list[str]:
        return [_shown("Not quite right.", str(self), "1;31")]


def _shown(head: str, message: str, colour: str) -> str:
    """``head`` in colour, then the message, wrapped as one text (IPython joins the lines
    of a traceback with newlines; one string with its own keeps them either way).

    Under nbgrader (``NBGRADER_EXECUTION``) the message is not wrapped: the
    grader's kernel writes it into the HTML feedback, where the page wraps it and the
    course's tests find a diagnosis's words together.
    """
    text = f"{head} {message}" if os.environ.get("NBGRADER_EXECUTION") else wrap(
        f"{head} {message}")
    return f"\x1b[{colour}m{head}\x1b[0m{text[len(head):]}"


@dataclass(frozen=True)
class Verdict:
    """What a checker concluded about an answer that did not need raising."""

    ok: bool
    what: str
    message: str

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        head = "Right!" if self.ok else "Not done yet."
        return f"{head} {self.message}"

    def __repr__(self) -> str:  # what a console shows: wrapped to the page's column
        return wrap(str(self))

    def _repr_html_(self) -> str:
        kind = "bp-right" if self.ok else "bp-todo"
        mark = "✓ Right!" if self.ok else "… Not done yet."
        colour = "#e6f4ea;border-left:4px solid #1a7f37" if self.ok else (
            "#fff8e1;border-left:4px solid #9a6700"
        )
        return (
            f'<div class="bp-verdict {kind}" role="status" style="background:{colour};'
            f'padding:0.4em 0.8em;margin:0.3em 0"><strong>{mark}</strong> '
            f"{html.escape(self.message)}</div>"
        )


def right(what: str, detail: str = "") -> Verdict:
    return Verdict(True, what, f"{what} is correct.{' ' + detail if detail else ''}")


class NotDoneYet(NotQuiteRight):
    """An answer still at its placeholder, while nbgrader grades or validates (no credit)."""

    def _render_traceback_(self) -> list[str]:
        return [_shown("Not done yet.", str(self), "1;33")]


def not_done(what: str, detail: str = "") -> Verdict:
    """The "not done yet" verdict; under nbgrader's autograde or validate, raised instead.

    nbgrader sets ``NBGRADER_EXECUTION`` in the kernel it grades with; there an untouched
    answer must fail its test cell, while a student working sees the friendly verdict.
    """
    verdict = Verdict(
        False,
        what,
        f"{what}: {detail + '; ' if detail else ''}replace the placeholder with your "
        "answer, then run this cell again.",
    )
    if os.environ.get("NBGRADER_EXECUTION"):
        raise NotDoneYet(verdict.message)
    return verdict


def is_placeholder(answer: object) -> bool:
    """``None`` and ``...`` are what a handout leaves before the reader answers."""
    return answer is None or answer is Ellipsis


# ------------------------------------------------------------------ numbers per student

_STUDENT: str | None = None


def set_student(student_id: str | int | None) -> None:
    """Give this notebook's exercises numbers of their own (``None``: the book's numbers)."""
    global _STUDENT
    if student_id is not None and not isinstance(student_id, str | int):
        raise TypeError(
            f"student id must be a string or an integer (or None), got {type(student_id).__name__}"
        )
    _STUDENT = None if student_id is None or str(student_id).strip() == "" else str(student_id)


def student() -> str | None:
    """The id set by :func:`set_student`, or ``None``."""
    return _STUDENT


def given(label: str, default: Mapping[str, Any], draw: Callable[[np.random.Generator], dict]):
    """The numbers of exercise ``label``: ``default`` with no student id, else ``draw(rng)``.

    ``rng`` is seeded from a hash of (student id, label), so it is the same on every run and
    on every machine, and differs between students and between exercises.
    """
    if _STUDENT is None:
        return dict(default)
    digest = hashlib.sha256(f"{_STUDENT}\x00{label}".encode()).digest()
    return dict(draw(np.random.default_rng(int.from_bytes(digest[:8], "little"))))


def numbers_table(numbers: Mapping[str, Any], precision: int = 4) -> str:
    """An exercise's given numbers, one labelled line each, arrays printed as NumPy shows
    them to ``precision`` digits (a matrix starts on a line of its own)."""
    lines = []
    for key, value in numbers.items():
        arr = np.asarray(value)
        text = np.array2string(arr, precision=precision) if arr.ndim else str(value)
        lines.append(f"{key} =" + ("\n" if arr.ndim == 2 else " ") + text)
    return "\n".join(lines)


# ------------------------------------------------------------------ arrays and numbers


def as_numbers(value: object, unreadable: str, not_finite: str) -> np.ndarray:
    """``value`` as a float array, or NotQuiteRight in the caller's words: ``unreadable``
    when it cannot be read as numbers (``{kind}`` in it becomes what the value is, e.g. "a
    string 'abc'"; ``{type}`` its type's name), ``not_finite`` when it holds NaN or infinity.

    The one place an answer becomes numbers: every checker that reads arrays (the numeric
    fill-ins here, the code exercises' returned arrays) goes through it.
    """
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        said = unreadable.replace("{kind}", a_kind(value)).replace("{type}", type(value).__name__)
        raise NotQuiteRight(said) from None  # (replace, not format: `what` may hold braces)
    if arr.size and not np.all(np.isfinite(arr)):
        raise NotQuiteRight(not_finite)
    return arr


def _as_array(answer: object, what: str) -> np.ndarray:
    """The answer as a float array, or NotQuiteRight saying what kind of thing was expected."""
    if isinstance(answer, bool | str | bytes) or callable(answer) or isinstance(answer, Mapping):
        raise NotQuiteRight(
            f"{what} should be a number or a NumPy array; you gave {a_kind(answer)}."
        )
    try:
        import sympy as sp

        if isinstance(answer, sp.Basic):
            if answer.free_symbols:
                names = ", ".join(sorted(str(s) for s in answer.free_symbols))
                raise NotQuiteRight(
                    f"{what} should be a number; your SymPy expression still contains {names}. "
                    "Substitute the given values (.subs({...})) and evaluate it."
                )
            answer = float(answer)
        elif isinstance(answer, sp.MatrixBase):
            if answer.free_symbols:
                raise NotQuiteRight(f"{what} should be numbers; your SymPy matrix has symbols left.")
            answer = np.array(answer.tolist(), dtype=float)
    except ImportError:  # pragma: no cover - SymPy is a requirement
        pass
    return as_numbers(
        answer,
        f"{what} should be a number or an array of numbers; could not read {{kind}} as numbers.",
        f"{what} contains NaN or infinity. Look for a division by zero, a log of 0, or a "
        "variable used before it was given a value.",
    )


def _close(a: np.ndarray, b: np.ndarray, rtol: float, atol: float) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol))


def _shape_message(got: tuple, want: tuple, what: str, m: int | None = None) -> str:
    msg = f"{what} should have shape {want}; yours has shape {got}."
    column = len(want) == 2 and want[1] == 1
    if len(got) == 2 and got[::-1] == want:
        msg += " It looks transposed: check which index is 'to' (rows) and which is 'from'."
    elif column and got == (want[0],):
        msg += (
            " You have a 1-D array where a column is expected: use .reshape(-1, 1). A 1-D array "
            "broadcast against a column silently makes an (n, n) matrix."
        )
    elif column and len(got) == 2 and got[0] == want[0] and got[1] > 1 and (
            got[1] == m if m else got[1] != want[0]):
        msg += (
            " One column per sample: a bias gradient is summed over the batch (its samples' "
            "columns added up), and stays a column."
        )
    elif column and len(got) == 2 and got[0] == want[0] and got[1] == want[0]:
        msg += (
            " An (n, n) matrix where a column belongs: a 1-D (n,) array broadcast against an "
            "(n, 1) column makes one, and so does an outer product (a column times a row) "
            "where the entry-by-entry product * belongs."
        )
    return msg


#: The sign message of an exercise whose formula starts from (a - y).
SIGN_A_MINUS_Y = ("has the opposite sign. Check the order in (a - y): the derivative of "
                  "(a - y)^2 with respect to a is 2(a - y), not 2(y - a).")
#: How many significant digits a number must have to count as right (rtol = 1e-6).
DIGITS = 6


def _near_miss(got: np.ndarray, want: np.ndarray, what: str) -> str | None:
    """"right to k digits, but rounded" when the answer is the right one rounded."""
    if got.shape != want.shape or not want.size:
        return None
    scale = np.maximum(np.abs(want), 1e-12)
    rel = float(np.max(np.abs(got - want) / scale))
    rounded = [d for d in range(2, DIGITS) if np.allclose(got, np.round(want, d), rtol=0,
                                                          atol=1e-12)]
    if rel == 0 or not (rel < 5e-3 or rounded):
        return None
    how = (f"it is the right value rounded to {rounded[0]} decimal places" if rounded else
           f"right to about {max(1, round(-np.log10(rel)))} significant digits")
    return (f"{what} is close: {how}. The checker needs {DIGITS} significant digits: use "
            "the value Python computes (the variable itself, not a copy of its printed "
            "digits).")


def check_array(
    answer: object,
    expected: object,
    *,
    what: str,
    mistakes: Mistakes | None = None,
    m: int | None = None,
    sign: str | None = None,
    rtol: float = 1e-6,
    atol: float = 1e-9,
) -> Verdict:
    """Check a number or an array against ``expected``.

    Args:
        answer: the reader's value (number, array, list, SymPy number or matrix).
        expected: the right value.
        what: how to name the answer in feedback ("dC/dw1").
        mistakes: ``{diagnosis: wrong value}`` for this exercise's classic mistakes (f'(a)
            for f'(z), only the Jacobian's diagonal, ...), checked before the generic ones.
        m: the batch size, if the exercise has one: then m times (or 1/m times) the right
            answer is diagnosed as a missing (or doubled) 1/m.
        sign: what to say of an answer with the opposite sign (for example
            :data:`SIGN_A_MINUS_Y`); the default names no quantity.
    """
    if is_placeholder(answer):
        return not_done(what)
    got = _as_array(answer, what)
    want = np.asarray(expected, dtype=float)
    if got.shape != want.shape and got.size == want.size == 1:
        got = got.reshape(want.shape)
    for diagnosis, wrong in (mistakes or {}).items():
        wrong = np.asarray(wrong, dtype=float)
        if _close(got, wrong, rtol, atol) and not _close(wrong, want, rtol, atol):
            raise NotQuiteRight(f"{what}: {diagnosis}")
    if got.shape != want.shape:
        raise NotQuiteRight(_shape_message(got.shape, want.shape, what, m))
    if _close(got, want, rtol, atol):
        return right(what)
    generic = [
        (-want, sign or "has the opposite sign: check the sign of each factor, and the "
         "order of each difference."),
    ]
    if want.ndim == 2 and want.shape[0] == want.shape[1]:
        generic.append((want.T, "is the transpose of the right matrix: rows are 'to', "
                        "columns are 'from'."))
    if m is not None and m > 1:
        generic.append((m * want, f"is {m} times too large: the 1/m of the mean is missing."))
        generic.append((want / m, f"is {m} times too small: the 1/m is applied twice."))
    generic.append((2 * want, "is twice the right value: is there a factor 2 from a cost "
                    "written with 1/2 (or without it)?"))
    generic.append((want / 2, "is half the right value: the factor 2 from differentiating "
                    "a square is missing."))
    for wrong, diagnosis in generic:
        if _close(got, wrong, rtol, atol):
            raise NotQuiteRight(f"{what} {diagnosis}")
    close = _near_miss(got, want, what) if 0 < rtol < 1e-3 else None
    if close:
        raise NotQuiteRight(close)
    raise NotQuiteRight(f"{what} is {_fmt(got)}; that is not it. {_where_off(got, want)}")


def _fmt(x: np.ndarray) -> str:
    if x.size == 1:
        return f"{float(x.reshape(-1)[0]):.6g}"
    return np.array2string(x, precision=4, suppress_small=True)


def _where_off(got: np.ndarray, want: np.ndarray) -> str:
    if got.size <= 1:
        return "Recompute it one factor at a time and compare each factor with the text."
    off = ~np.isclose(got, want, rtol=1e-6, atol=1e-9)
    idx = [tuple(int(i) for i in row) for row in np.argwhere(off)[:4]]
    return f"{int(off.sum())} of {got.size} entries are off, for example at {idx}."


# ------------------------------------------------------------------ SymPy expressions


def check_expr(
    answer: object,
    expected: Any,
    *,
    what: str,
    mistakes: Mistakes | None = None,
    points: int = 4,
    seed: int = 0,
) -> Verdict:
    """Check a SymPy expression: right when ``answer - expected`` simplifies to 0.

    When ``simplify`` cannot decide, the two are compared at ``points`` random points (a
    difference that vanishes at random points is zero with probability one for the
    expressions of this book); both are reported honestly.
    """
    import sympy as sp

    if is_placeholder(answer):
        return not_done(what)
    if isinstance(answer, str):
        raise NotQuiteRight(
            f"{what} should be a SymPy expression, not a string: build it from the symbols "
            "(for example sp.exp(-z)), not inside quotes."
        )
    try:
        answer = sp.sympify(answer, strict=True)
    except (sp.SympifyError, TypeError):
        raise NotQuiteRight(
            f"{what} should be a SymPy expression; you gave {a_kind(answer)}."
        ) from None
    expected = sp.sympify(expected)
    if expected.free_symbols and not answer.free_symbols:
        names = _names(expected)
        raise NotQuiteRight(
            f"{what} = {answer} has no {names} left in it: it is a number, not an expression "
            f"in {names}. Did an earlier cell assign a number to {names}? Run the chapter's "
            "cell that defines the symbols again, or build the answer from a fresh "
            "sp.Symbol."
        )
    extra = answer.free_symbols - expected.free_symbols
    if extra:
        names = ", ".join(sorted(map(str, extra)))
        raise NotQuiteRight(
            f"{what} should depend only on {_names(expected)}; yours also contains {names}."
        )
    for diagnosis, wrong in (mistakes or {}).items():
        if _same_expr(answer, sp.sympify(wrong), points, seed):
            raise NotQuiteRight(f"{what}: {diagnosis}")
    if _same_expr(answer, expected, points, seed):
        return right(what, "(SymPy agrees after simplification.)")
    if _same_expr(answer, -expected, points, seed):
        raise NotQuiteRight(f"{what} has the opposite sign of the right expression.")
    raise NotQuiteRight(
        f"{what} = {answer} is not equal to the right expression, even after simplification."
    )


def _names(expr) -> str:
    return ", ".join(sorted(map(str, expr.free_symbols))) or "no symbols"


def _same_expr(a, b, points: int, seed: int) -> bool:
    import sympy as sp

    try:
        if sp.simplify(a - b) == 0:
            return True
    except (TypeError, ValueError):
        pass
    symbols = sorted(a.free_symbols | b.free_symbols, key=str)
    rng = np.random.default_rng(seed)
    for _ in range(points):
        values = {s: sp.Float(rng.uniform(-1.7, 1.9)) for s in symbols}
        try:
            da, db = complex(a.evalf(subs=values)), complex(b.evalf(subs=values))
        except (TypeError, ValueError):
            return False
        if not math.isclose(abs(da - db), 0.0, abs_tol=1e-9 * (1 + abs(db))):
            return False
    return True


# ------------------------------------------------------------------ functions


def check_function(
    answer: object,
    reference: Callable[..., Any],
    *,
    what: str,
    inputs: Iterable[Sequence[Any]],
    mistakes: Mapping[str, Callable[..., Any]] | None = None,
    rtol: float = 1e-6,
    atol: float = 1e-9,
) -> Verdict:
    """Check a function the reader wrote by calling it at ``inputs`` (each a tuple of args)."""
    if is_placeholder(answer):
        return not_done(what)
    if not callable(answer):
        raise NotQuiteRight(
            f"{what} should be a function (def ...); you gave {a_kind(answer)}."
        )
    inputs = [tuple(args) for args in inputs]
    got = []
    for args in inputs:
        try:
            result = answer(*args)
        except NotImplementedError:
            return not_done(what)
        except Exception as err:  # the reader's code: report it in one line
            raise NotQuiteRight(
                f"calling {what} with {_describe(args)} raised {type(err).__name__}: {err}"
            ) from None
        if result is None:
            raise NotQuiteRight(
                f"{what} returned None when called with {_describe(args)}: is its `return` "
                "missing?"
            )
        got.append(_as_array(result, f"{what}'s result"))
    want = [np.asarray(reference(*args), dtype=float) for args in inputs]
    got = [g.reshape(w.shape) if g.shape != w.shape and g.size == w.size == 1 else g
           for g, w in zip(got, want, strict=True)]
    for diagnosis, wrong_fn in (mistakes or {}).items():
        wrong = [np.asarray(wrong_fn(*args), dtype=float) for args in inputs]
        if all(_close(g, w, rtol, atol) for g, w in zip(got, wrong, strict=True)) and not all(
            _close(w, r, rtol, atol) for w, r in zip(wrong, want, strict=True)
        ):
            raise NotQuiteRight(f"{what}: {diagnosis}")
    for args, g, w in zip(inputs, got, want, strict=True):
        if g.shape != w.shape:
            raise NotQuiteRight(
                f"{what}, called with {_describe(args)}, returned shape {g.shape}; "
                f"it should be {w.shape}."
            )
    for factor, text in ((-1.0, "has the opposite sign at every test point"),
                         (2.0, "is twice the right value at every test point"),
                         (0.5, "is half the right value at every test point")):
        if all(_close(g, factor * w, rtol, atol) for g, w in zip(got, want, strict=True)) and (
                not all(_close(w, factor * w, rtol, atol) for w in want)):
            raise NotQuiteRight(f"{what} {text}.")
    for args, g, w in zip(inputs, got, want, strict=True):
        if not _close(g, w, rtol, atol):
            raise NotQuiteRight(
                f"{what}, called with {_describe(args)}, returned {_fmt(g)}; that is not it. "
                "Work the same inputs through by hand, one factor at a time."
            )
    return right(what, f"(checked at {len(inputs)} inputs.)")


def _describe(args: Sequence[Any]) -> str:
    parts = []
    for a in args:
        if isinstance(a, np.ndarray) and a.size > 4:
            parts.append(f"an array of shape {a.shape}")
        elif isinstance(a, numbers.Number | np.ndarray):
            parts.append(np.array2string(np.asarray(a), precision=4))
        else:
            parts.append(repr(a))
    return ", ".join(parts)
