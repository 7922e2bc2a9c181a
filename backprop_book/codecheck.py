"""The fourth answer engine: code the reader writes that returns arrays (a backward pass).

:func:`check_code` calls the reader's function on fresh inputs (drawn for this student and
this exercise from seeds no page prints, so returning hard-coded numbers cannot pass) and
judges every array it returns, one by one:

* **right**: equal to the reference, whose agreement with centered differences of the cost
  is checked on the same inputs (the report quotes the reader's relative error against
  the centered differences, the number a gradient check would show);
* **wrong shape**: the shape expected and why (the shape of the weight it is the gradient
  of, one column, ...), with the usual reasons (1-D, transposed, not summed over the batch);
* **wrong, with a diagnosis**: the reader's array is compared with what each classic bug of
  the exercise would return (sigma'(a) for sigma'(z), a dropped transpose, a missing 1/m, a
  bias summed over the wrong axis, ...) on every input; an array no known bug explains is
  "not a mistake we recognise", with its worst entry.

Also: an input changed in place (the forward pass's cache) is named; an exception in the
reader's code is reported in one line with the reader's own line; a call that runs too long
(an infinite loop) is stopped with a message; a stub (``NotImplementedError``, or ``None``
returned) is "not done yet". The reference code is never shown.

Credit per array: ``part="dW2"`` judges the whole answer but answers for one array only
(right, or its diagnosis), so the nbgrader course gives a code exercise one graded test
cell per returned array (:mod:`bookkit.course` reads a checker's ``parts``).

Graded in a course (:mod:`backprop_book.grading`): inside
:func:`backprop_book.grading.recording` (the kernel's ``graded(...)``), every call of the reader's function is taped where :func:`check_code`
makes it, with its arguments, its result and the classic bugs' results on the same input;
in nbgrader's process the answer is a :class:`~backprop_book.grading.Replay` of that tape,
and the inputs are drawn again there, from the id it grades under (see :func:`fresh_rngs`).
"""

from __future__ import annotations

import copy
import hashlib
import inspect
import os
import re
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .checkers import (
    NotQuiteRight,
    Verdict,
    a_kind,
    as_numbers,
    is_placeholder,
    not_done,
    right,
    student,
)
from .grading import REPLAYABLE, Recorder, Replay, encode, tape_in_use

#: Seconds one call of the reader's function may take before it is stopped.
TIME_LIMIT = 5.0
#: How many fresh inputs a code exercise is checked on.
CASES = 3

_LIBRARY = (str(Path(__file__).resolve().parent), str(Path(np.__file__).resolve().parent.parent))


# ------------------------------------------------------------------ fresh inputs


def fresh_rngs(label: str, k: int = CASES) -> list[np.random.Generator]:
    """``k`` generators for exercise ``label``: per student, and never the page's seeds.

    The seed hashes (student id or "book", label, "hidden" or "graded", i): a page's given
    numbers come from :func:`backprop_book.checkers.given`, whose hash has neither word in
    it; under nbgrader (``NBGRADER_EXECUTION``) the grader draws other inputs again than
    the ones the student's checker used while working.
    """
    who = student() or "book"
    when = "graded" if os.environ.get("NBGRADER_EXECUTION") else "hidden"
    out = []
    for i in range(k):
        digest = hashlib.sha256(f"{who}\x00{label}\x00{when}\x00{i}".encode()).digest()
        out.append(np.random.default_rng(int.from_bytes(digest[:8], "little")))
    return out


# ------------------------------------------------------------------ calling the reader's code


class _TimedOut(BaseException):
    """Raised in the reader's code when it runs past the limit (not an Exception: a bare
    ``except Exception`` in their code cannot swallow it)."""


REPLAYABLE["_TimedOut"] = _TimedOut


def _call(fn: Callable, inputs: Mapping[str, Any], seconds: float):
    """``fn(*inputs.values())``, stopped after ``seconds`` (SIGALRM in the main thread, else a thread)."""
    if threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer"):
        def alarm(signum, frame):
            raise _TimedOut

        old = signal.signal(signal.SIGALRM, alarm)
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            return fn(*inputs.values())
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)
    box: dict[str, Any] = {}

    def run():
        try:
            box["value"] = fn(*inputs.values())
        except BaseException as err:  # handed to the caller's thread
            box["error"] = err

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise _TimedOut
    if "error" in box:
        raise box["error"]
    return box.get("value")


def _theirs(filename: str, home: str | None) -> bool:
    if home is not None:
        return filename == home
    path = str(Path(filename).resolve()) if not filename.startswith("<") else filename
    return not path.startswith(_LIBRARY) and "site-packages" not in path and (
        not path.startswith(sys.prefix) and not path.startswith(sys.base_prefix)
    )


def _where(err: BaseException, fn: Callable) -> str:
    """" at line N (`code`)" for the last frame of the traceback in the reader's code."""
    if hasattr(err, "replayed_where"):  # raised again by the grader, from the kernel's tape
        return err.replayed_where
    home = getattr(getattr(fn, "__code__", None), "co_filename", None)
    frames = traceback.extract_tb(err.__traceback__)
    mine = [f for f in frames if _theirs(f.filename, home)] or [
        f for f in frames if _theirs(f.filename, None)
    ]
    if not mine:
        return ""
    last = mine[-1]
    code = f" (`{last.line.strip()}`)" if last.line else ""
    return f" at line {last.lineno} of your cell, in {last.name}{code}"


def _run(answer: Callable, inputs: dict, what: str, source: Callable):
    """The reader's result on ``inputs``; NotQuiteRight (or not done) for what went wrong."""
    try:
        return _call(answer, inputs, TIME_LIMIT)
    except (NotImplementedError, NotQuiteRight):
        raise
    except _TimedOut:
        raise NotQuiteRight(
            f"{what} did not finish within {TIME_LIMIT:g} seconds on a small input, so it was "
            "stopped. Look for a loop whose condition never becomes false (a `while` whose "
            "variable is never updated, a layer index that never reaches its end)."
        ) from None
    except Exception as err:  # the reader's code: one line, theirs
        first = str(err).splitlines()[0] if str(err) else ""
        first = _product_in_words(first)
        raise NotQuiteRight(
            f"{what} raised {type(err).__name__}{_where(err, source)}: {first}"
        ) from None


_MATMUL = re.compile(r"matmul: Input operand (\d) has a mismatch in its core dimension (\d), "
                     r"with gufunc signature .*?\(size (\d+) is different from (\d+)\)")
_DOT = re.compile(r"shapes (\([\d, ]*\)) and (\([\d, ]*\)) not aligned")


def _product_in_words(first: str) -> str:
    """NumPy's message for a matrix product whose shapes do not fit, in the reader's words."""
    why = ("Print each factor's .shape. Is a transpose missing, or one too many? Or did a "
           "1-D (n,) array meet an (n, 1) column, which broadcasts to an (n, n) matrix?")
    found = _MATMUL.search(first)
    if found:
        size, other = found.group(3), found.group(4)
        return (f"the shapes of a matrix product A @ B do not fit: A has {other} "
                f"column{'s' * (other != '1')}, B has {size} row{'s' * (size != '1')}. {why}")
    found = _DOT.search(first)
    if found:
        return (f"the shapes of a matrix product do not fit: {found.group(1)} times "
                f"{found.group(2)}. {why}")
    return first


# ------------------------------------------------------------------ the returned arrays


def _leaves(value: Any) -> list:
    if isinstance(value, list | tuple):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]


def _structure(value: Any, depth: int = 0) -> str:
    """What a result is made of, in words: "a tuple of 2 (int, int)"."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    if isinstance(value, list | tuple) and depth < 2:
        inner = ", ".join(_structure(v, depth + 1) for v in value[:4])
        more = ", ..." if len(value) > 4 else ""
        return f"a {type(value).__name__} of {len(value)} ({inner}{more})"
    return a_kind(value)


def _named(want: Any, case: dict, names) -> tuple[list[str], list[np.ndarray]]:
    """The name of each array of a result and the arrays, flattened along its nesting."""
    labels = list(names(case) if callable(names) else names)
    return labels, [np.asarray(w, dtype=float) for w in _leaves(want)]


def reference_outputs(reference: Callable[..., Any], case: dict,
                      names: Sequence[str] | Callable[[dict], Sequence[str]]
                      ) -> dict[str, np.ndarray]:
    """What :func:`check_code` compares the reader's arrays with on ``case``, by name:
    ``{"dW1": array, ...}`` (floats), from the same ``reference`` and ``names`` a checker
    passes it. The worksheets' key prints these for the inputs a student's sheet shows."""
    labels, wants = _named(reference(*copy.deepcopy(case).values()), case, names)
    return dict(zip(labels, wants, strict=True))


def _align(got: Any, like: Any) -> list | None:
    """The reader's result flattened along the reference's nesting; None if it differs."""
    if isinstance(like, list | tuple):
        if isinstance(got, dict):
            got = list(got.values())
        if not isinstance(got, list | tuple) or len(got) != len(like):
            return None
        parts = [_align(g, w) for g, w in zip(got, like, strict=True)]
        return None if any(p is None for p in parts) else [x for p in parts for x in p]
    return [got]


def _as_floats(value: Any, name: str, what: str) -> np.ndarray:
    if value is None:
        raise NotQuiteRight(f"{what}: {name} is None: is a `return` or an assignment missing?")
    return as_numbers(
        value,
        f"{what}: {name} should be a NumPy array (or a number); it is {{kind}}.",
        f"{what}: {name} contains NaN or infinity (a division by zero, or an overflow?).",
    )


def _paths(value: Any, path: str) -> list[tuple[str, Any]]:
    """(readable path, leaf) for every array in an input: ``cache["a1"]``, ``params[0][1]``."""
    if isinstance(value, Mapping):
        return [p for k, v in value.items() for p in _paths(v, f"{path}[{k!r}]")]
    if isinstance(value, list | tuple) and not isinstance(value, str):
        fields = getattr(value, "_fields", None)
        if fields:
            return [p for k, v in zip(fields, value, strict=True) for p in _paths(v, f"{path}.{k}")]
        return [p for i, v in enumerate(value) for p in _paths(v, f"{path}[{i}]")]
    return [(path, value)]


def _changed(before: dict, after: dict) -> str | None:
    """The first input array the reader's call changed (compared with a copy), or None."""
    for name in before:
        for (path, old), (_, new) in zip(_paths(before[name], name), _paths(after[name], name),
                                         strict=False):
            if isinstance(old, np.ndarray | float | int) and not np.array_equal(
                np.asarray(old), np.asarray(new), equal_nan=True
            ):
                return path
    return None


# ------------------------------------------------------------------ judging one array


@dataclass
class Finding:
    """What was found about one returned array over all the fresh inputs."""

    name: str
    ok: bool
    text: str
    error_vs_fd: float | None = None


def _close(a: np.ndarray, b: np.ndarray, rtol: float, atol: float) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol))


def _all_close(gots, wants, rtol, atol) -> bool:
    return all(_close(g, w, rtol, atol) for g, w in zip(gots, wants, strict=True))


def _shape_text(got: tuple, want: tuple, why: str, m: int | None,
                same_numbers: bool = False) -> str:
    """A wrong shape, and what it suggests. ``same_numbers``: the reader's entries are the
    right ones, only arranged in another shape."""
    text = f"wrong shape {got}; it should be {want}{', ' + why if why else ''}."
    column = len(want) == 2 and want[1] == 1
    right = " It holds the right numbers:" if same_numbers else ""
    if column and got == (want[0],):
        text += (f" It is 1-D.{right} keep it a column (keepdims=True, or "
                 ".reshape(-1, 1)).")
    elif column and len(got) == 2 and got == want[::-1] and same_numbers:
        text += (" It looks transposed: it holds the right numbers as a row; keep it a "
                 "column (keepdims=True when you sum, no .T).")
    elif column and m and m > 1 and got == (want[0], m):
        text += (" One column per sample: a bias gradient adds its samples' columns up "
                 "(a sum over axis 1, keeping the column).")
    elif len(got) == 2 and got[::-1] == want:
        text += " It looks transposed" + (
            ": rows are the 'to' neurons, columns the 'from' ones." if "'to'" in why else
            ": check which index is the row and which the column.")
    elif column and got == (want[0], want[0]):
        text += (" An (n,) vector broadcast against an (n, 1) column makes an (n, n) matrix, "
                 "and so does an outer product where an entry-by-entry product belongs.")
    elif same_numbers and not want:
        text += " It holds the right number: return it as a plain number (float(x), or x.item())."
    elif same_numbers:
        text += f"{right} only their shape is off (.reshape({', '.join(map(str, want))}))."
    return text


#: What the sign diagnosis says when the exercise gives no words of its own.
SIGN = "the sign is flipped (check every minus sign on the way back)."
#: The sign diagnosis of a backward pass that starts from a - y.
SIGN_A_MINUS_Y = ("the sign is flipped (check the order in a - y, and every minus sign on "
                  "the way back).")


def _generic(gots, wants, ms: list | None, rtol, atol, sign: str = SIGN) -> str | None:
    """The diagnoses every array can have: sign, transpose, 1/m, a factor 2."""
    tries = [([-w for w in wants], sign)]
    if all(w.ndim == 2 and w.shape[0] == w.shape[1] > 1 for w in wants):
        tries.append(([w.T for w in wants], "it is the transpose of the right matrix: rows "
                      "are 'to', columns are 'from' (the delta comes first in the product)."))
    if ms and all(m > 1 for m in ms):
        tries.append(([m * w for m, w in zip(ms, wants, strict=True)], "it is m times too "
                      "large: the 1/m of the mean over the batch is missing."))
        tries.append(([w / m for m, w in zip(ms, wants, strict=True)], "it is m times too "
                      "small: the 1/m is applied twice."))
    tries.append(([2 * w for w in wants], "it is twice the right value: a factor 2 too many."))
    tries.append(([w / 2 for w in wants], "it is half the right value: a factor 2 is missing."))
    for wrongs, text in tries:
        if _all_close(gots, wrongs, rtol, atol):
            return text
    return None


def _worst(gots, wants, fds, name: str) -> str:
    """The entry farthest from the right value, over all inputs, as a gradient check shows it."""
    best = (-1.0, 0, ())
    for c, (g, w) in enumerate(zip(gots, wants, strict=True)):
        if g.shape == w.shape and g.size:
            k = np.unravel_index(int(np.argmax(np.abs(g - w))), g.shape)
            gap = float(np.abs(g - w)[k])
            if gap > best[0]:
                best = (gap, c, k)
    gap, c, k = best
    if gap < 0:
        return ""
    against = fds[c] if fds is not None and fds[c] is not None else wants[c]
    source = "centered differences say" if fds is not None and fds[c] is not None else (
        "the right value is")
    where = f"{name}[{', '.join(map(str, k))}]" if k else name
    return (f" Worst entry (fresh input {c + 1}): {where} is {float(gots[c][k]):.6g}; "
            f"{source} {float(against[k]):.6g}.")


@dataclass
class _Array:
    """One returned array over every fresh input: the reader's, the right one, the rest."""

    name: str
    gots: list = field(default_factory=list)
    wants: list = field(default_factory=list)
    fds: list | None = None
    mutants: dict = field(default_factory=dict)
    cases: list = field(default_factory=list)  # which cases have this array


def _same_entries(gots, wants, rtol, atol) -> bool:
    """The same numbers in another shape (a row for a column, 1-D for a column, a
    transpose), on every input."""
    return all(g.size == w.size and (
        np.allclose(g.ravel(), w.ravel(), rtol=rtol, atol=atol)
        or (g.ndim == 2 and np.allclose(g.T.ravel(), w.ravel(), rtol=rtol, atol=atol)))
        for g, w in zip(gots, wants, strict=True))


def _judge(arr: _Array, why: Callable[[int], str], ms: list | None, rtol, atol,
           sign: str = SIGN) -> Finding:
    gots, wants = arr.gots, arr.wants
    err = None
    if arr.fds is not None and all(g.shape == f.shape for g, f in zip(gots, arr.fds, strict=True)):
        err = max(_rel(g, f) for g, f in zip(gots, arr.fds, strict=True))
    if _all_close(gots, wants, rtol, atol):
        return Finding(arr.name, True, "right", err)
    for text, wrongs in arr.mutants.items():
        if _all_close(gots, wrongs, rtol, atol) and not _all_close(wrongs, wants, rtol, atol):
            return Finding(arr.name, False, f"wrong: {text}", err)
    bad = next((c for c, (g, w) in enumerate(zip(gots, wants, strict=True))
                if g.shape != w.shape), None)
    if bad is not None:
        same = _same_entries(gots, wants, rtol, atol)
        shape = _shape_text(gots[bad].shape, wants[bad].shape, why(bad),
                            ms[bad] if ms else None, same)
        for text, wrongs in ({} if same else arr.mutants).items():  # a classic mistake,
            if (not _all_close(wrongs, wants, rtol, atol)  # in another shape too
                    and _same_entries(gots, wrongs, rtol, atol)):
                return Finding(arr.name, False, f"{shape} And {text}")
        return Finding(arr.name, False, shape)
    text = _generic(gots, wants, ms, rtol, atol, sign)
    if text:
        return Finding(arr.name, False, f"wrong: {text}", err)
    return Finding(arr.name, False, "wrong, and not a mistake we recognise." +
                   _worst(gots, wants, arr.fds, arr.name), err)


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    # measured against the arrays' size, and never against less than 1e-8: two gradients
    # that are both 0 up to rounding (1e-16) agree
    scale = max(float(np.abs(a).max(initial=0) + np.abs(b).max(initial=0)), 1e-8)
    return float(np.abs(a - b).max(initial=0)) / scale


# ------------------------------------------------------------------ the engine


def check_code(
    answer: object,
    reference: Callable[..., Any],
    *,
    what: str,
    cases: Sequence[dict],
    names: Sequence[str] | Callable[[dict], Sequence[str]],
    returns: str,
    mistakes: Mapping[str, Callable[..., Any]] | None = None,
    numeric: Callable[..., Any] | None = None,
    why: Callable[[str, dict], str] | None = None,
    batch: Callable[[dict], int] | None = None,
    part: str | None = None,
    source: Callable | None = None,
    sign: str = SIGN,
    arguments: Sequence[str] | None = None,
    rtol: float = 1e-6,
    atol: float = 1e-9,
) -> Verdict:
    """Check the reader's function ``answer`` by calling it on each of ``cases``.

    Args:
        answer: the reader's function, called as ``answer(*case.values())``.
        reference: the right function; returns a tuple or list (nested as the exercise's
            docstring says) of arrays or numbers.
        what: how to name the function in feedback ("your backward_222").
        cases: the arguments of each call, by name, in order: fresh inputs (see
            :func:`fresh_rngs`).
        names: the name of each returned array, flattened (``["dW1", "db1", ...]``), or a
            function of the case that gives them (depth varies between cases).
        returns: what the function returns, as the exercise states it ("(dW1, db1, dW2, db2)").
        mistakes: ``{diagnosis: function}``: each function is a whole buggy version, called
            like the reference; an array equal to a buggy version's on every case is named.
        numeric: centered differences of the cost, shaped like the reference's result.
        why: ``why(name, case)``, the reason an array has its shape ("the shape of W2").
        batch: ``batch(case)``, the batch size m, when the exercise has a batch.
        part: the name of one array: the verdict is about that array alone (its own
            graded test cell in the nbgrader course); what stops the whole answer (an
            exception, a stub, a wrong structure) still stops it.
        source: the reader's own function, when ``answer`` wraps it (an engine's node run
            inside graphs the checker builds): its lines are the ones an exception quotes.
        sign: the diagnosis of an array whose sign is flipped (:data:`SIGN_A_MINUS_Y` for a
            backward pass).
        arguments: the names of the arguments as the exercise states them (default: the
            cases' keys), for the message on a function that takes others.
    """
    if is_placeholder(answer):
        return not_done(what)
    if not callable(answer):
        raise NotQuiteRight(
            f"{what} should be a function (def ...); you gave {a_kind(answer)}."
        )
    replay = next((f for f in (source, answer) if isinstance(f, Replay)), None)
    if replay is None and source is None:  # the reader's own function, before any wrapping
        _check_signature(answer, list(arguments or cases[0]), what)
    tape = tape_in_use() if replay is None else None
    if replay is not None:  # the grader: what the kernel's run of this very call returned
        answer, source = replay, None
    elif tape is not None:
        answer = Recorder(answer, where=lambda err, fn=source or answer: _where(err, fn))
        tape.calls = answer.calls
    arrays: dict[str, _Array] = {}
    backwards: list[bool] = []  # per case: the right items, the last one first
    ms = [batch(case) for case in cases] if batch else None
    for c, case in enumerate(cases):
        pristine = copy.deepcopy(case)
        want = reference(*copy.deepcopy(case).values())
        try:
            got = _run(answer, case, what, source or answer)
        except NotImplementedError:
            return not_done(what)
        if got is None:
            return not_done(what, "it returns None (a stub, or is `return` missing?)")
        changed = _changed(pristine, case)
        if changed:
            raise NotQuiteRight(
                f"{what} changed its input {changed} in place. Leave the inputs as they were: "
                "the caller uses them again (a backward pass reads the forward pass's cache "
                "after you; an optimizer's caller still holds the old state). `x *= ...`, "
                "`x -= ...` or `x[...] = ...` on an input changes it; `x * (1 - x)` makes a "
                "new array."
            )
        labels, wants = _named(want, case, names)
        if isinstance(got, Mapping) and set(got) == set(labels):  # read a dict by its keys
            got = [got[k] for k in labels]
            want = _leaves(want)
        flat = _align(got, want)
        if flat is None:
            raise NotQuiteRight(
                f"{what} should return {returns}; yours returned {_structure(got)}."
            )
        gots = [_as_floats(g, n, what) for g, n in zip(flat, labels, strict=True)]
        backwards.append(_reversed_right(got, want, wants, rtol, atol))
        fds = _leaves(numeric(*copy.deepcopy(case).values())) if numeric else None
        wrongs = {text: _mutant(fn, case) for text, fn in (mistakes or {}).items()}
        if tape is not None:
            tape.mistakes.append({"args": encode(tuple(pristine.values())),
                                  "wrongs": {t: encode(w) for t, w in wrongs.items()
                                             if w is not None}})
        if replay is not None:  # a bug the grader cannot run (it needs the reader's class)
            for text, wrong in wrongs.items():
                if wrong is None and (kept := replay.mistake(text, tuple(pristine.values()))):
                    wrongs[text] = [np.asarray(w, dtype=float) for w in kept]
        for i, name in enumerate(labels):
            arr = arrays.setdefault(name, _Array(name, fds=[] if fds is not None else None))
            arr.gots.append(gots[i])
            arr.cases.append(c)
            arr.wants.append(wants[i])
            if fds is not None:
                fd = np.asarray(fds[i], dtype=float)
                if _rel(wants[i], fd) > 1e-6:  # the book's own error, never the reader's
                    raise RuntimeError(f"{what}: reference and centered differences disagree "
                                       f"on {name}")
                arr.fds.append(fd)
            for text, wrong in wrongs.items():
                arr.mutants.setdefault(text, []).append(
                    _NEVER if wrong is None else np.asarray(wrong[i], dtype=float))
    if backwards and all(backwards) and part is None:
        raise NotQuiteRight(
            f"{what} computes the right values but returns them in reverse order, the "
            f"last first. Return {returns}."
        )
    return _verdict(arrays, cases, what, why, ms, part, rtol, atol, sign, returns)


def _reversed_right(got, want, wants: list, rtol, atol) -> bool:
    """The result is the right one with its top-level items in reverse order (and is not
    the right one itself)."""
    if not isinstance(got, list | tuple) or len(got) < 2:
        return False
    flipped = _align(list(got)[::-1], want)
    try:
        flipped = [np.asarray(g, dtype=float) for g in flipped or []]
        straight = [np.asarray(g, dtype=float) for g in _align(got, want) or []]
    except (TypeError, ValueError):
        return False
    return (len(flipped) == len(wants) and _all_close(flipped, wants, rtol, atol)
            and not _all_close(straight, wants, rtol, atol))


_NEVER = np.full((), np.nan)  # what a buggy version that cannot run on a case gives


def _mutant(fn: Callable, case: dict) -> list | None:
    """A buggy version's arrays on ``case``; None if it cannot run there (shapes that
    do not fit: then the reader cannot have made that mistake on this case)."""
    try:
        return [np.asarray(w, dtype=float) for w in _leaves(fn(*copy.deepcopy(case).values()))]
    except (ValueError, TypeError, IndexError):
        return None


def _same_for_every_input(arrays: dict) -> bool:
    """True when the reader's arrays do not change with the input while the right ones do."""
    return all(
        len(a.gots) > 1 and all(g.shape == a.gots[0].shape and np.array_equal(g, a.gots[0])
                                for g in a.gots)
        for a in arrays.values()
    ) and not all(
        all(np.array_equal(w, a.wants[0]) for w in a.wants) for a in arrays.values()
    )


def _check_signature(fn: Callable, names: list[str], what: str) -> None:
    """A function that cannot take the checker's arguments, or takes the same ones in
    another order: say how the checker calls it, before calling."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):  # a builtin, or a callable without a signature
        return
    params = [p for p in sig.parameters.values()
              if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    name = what.split()[-1] if what.split()[-1].isidentifier() else getattr(fn, "__name__", "")
    call = f"{name if name.isidentifier() else 'it'}({', '.join(names)})"
    theirs = str(sig)
    try:
        sig.bind(*names)
    except TypeError:
        raise NotQuiteRight(
            f"{what} takes {theirs}; the checker calls it as {call}: "
            f"{len(names)} arguments, by position, in that order."
        ) from None
    mine = [p.name for p in params[:len(names)]]
    if (len(mine) == len(names) and mine != names
            and sorted(m.lower() for m in mine) == sorted(n.lower() for n in names)
            and [m.lower() for m in mine] != [n.lower() for n in names]):
        gets = ", ".join(f"your {m} receives {n}"
                         for m, n in zip(mine, names, strict=True) if m.lower() != n.lower())
        raise NotQuiteRight(
            f"{what} takes its arguments in another order, {theirs}; the checker calls it "
            f"as {call}, so {gets}. Put the parameters in the order of the call."
        )


def _displaced(arrays: dict, rtol, atol) -> dict[str, tuple[str, ...]]:
    """{name: names of the arrays it holds} for each wrong array that holds, on every input,
    another returned array's right value (arrays in the wrong order). With networks of
    different depths the other array can differ from input to input (layers reversed)."""
    out = {}
    for name, arr in arrays.items():
        if _all_close(arr.gots, arr.wants, rtol, atol):
            continue
        found = []
        for k, c in enumerate(arr.cases):
            if _close(arr.gots[k], arr.wants[k], rtol, atol):
                continue  # right on this input (a middle layer of a reversed list)
            match = next((other for other, b in arrays.items()
                          if other != name and c in b.cases
                          and _close(arr.gots[k], b.wants[b.cases.index(c)], rtol, atol)
                          and not _close(arr.wants[k], b.wants[b.cases.index(c)], rtol, atol)
                          and np.abs(b.wants[b.cases.index(c)]).max(initial=0) > 1e-9),
                         None)
            if match is None:
                break
            found.append(match)
        else:
            out[name] = tuple(dict.fromkeys(found))
    return out


def _order_message(moved: dict[str, tuple[str, ...]], what: str, returns: str) -> str:
    pairs, done = [], set()
    for a, (b, *more) in moved.items():
        if a in done:
            continue
        if not more and moved.get(b) == (a,):
            pairs.append(f"{a} and {b} are swapped")
            done |= {a, b}
        elif not more:
            pairs.append(f"{a} holds what {b} should be")
        else:
            pairs.append(f"{a} holds what {' or '.join((b, *more))} should be, "
                         "depending on the input")
        done.add(a)
    dw_db = all(a[:2] in ("dW", "db") and len(b) == 1 and b[0][2:] == a[2:]
                for a, b in moved.items())
    hint = " Each pair is (dW, db), in that order." if dw_db else ""
    return (f"{what} computes the right values but returns them in the wrong order: "
            f"{'; '.join(pairs)}.{hint} Return {returns}.")


def _whole_mutant(arrays: dict, rtol, atol) -> str | None:
    """The first classic mistake that explains every returned array at once (a slope
    forgotten at layer 2 makes layers 2 and 1 wrong: both are named by it)."""
    first = next(iter(arrays.values()), None)
    for text in (first.mutants if first else {}):
        if all(text in a.mutants and _all_close(a.gots, a.mutants[text], rtol, atol)
               for a in arrays.values()) and not all(
                _all_close(a.mutants[text], a.wants, rtol, atol) for a in arrays.values()):
            return text
    return None


def _verdict(arrays, cases, what, why, ms, part, rtol, atol, sign=SIGN,
             returns="") -> Verdict:
    whole = _whole_mutant(arrays, rtol, atol)
    moved = {} if whole else _displaced(arrays, rtol, atol)
    if any(name not in moved and not _all_close(a.gots, a.wants, rtol, atol)
           for name, a in arrays.items()):
        moved = {}  # only when every wrong array is another's right one: the order
    findings = []
    for arr in arrays.values():
        keep = [ms[c] for c in arr.cases] if ms else None

        def reason(k, arr=arr):
            return why(arr.name, cases[arr.cases[k]]) if why else ""

        if whole and not _all_close(arr.gots, arr.wants, rtol, atol):
            findings.append(Finding(arr.name, False, f"wrong: {whole}"))
        elif arr.name in moved:
            findings.append(Finding(arr.name, False, f"wrong place: it holds what "
                                    f"{' or '.join(moved[arr.name])} should be (return "
                                    f"{returns})."))
        else:
            findings.append(_judge(arr, reason, keep, rtol, atol, sign))
    n_right = sum(f.ok for f in findings)
    if moved and part is None and all(f.ok or f.name in moved for f in findings):
        raise NotQuiteRight(_order_message(moved, what, returns))
    named = any(f.text.startswith("wrong: ") for f in findings)
    if n_right < len(findings) and not named and _same_for_every_input(arrays):
        raise NotQuiteRight(
            f"{what} returns the same numbers whatever its input. It is called on fresh inputs "
            "(not the example printed in the page): compute every array from the arguments."
        )
    if n_right == len(findings) and part is not None:
        return _one_part(findings, part, what, len(cases))
    kind = "numbers" if all(w.ndim == 0 for a in arrays.values() for w in a.wants) else (
        "arrays")
    if n_right == len(findings):
        errs = [f.error_vs_fd for f in findings if f.error_vs_fd is not None]
        fd = (f"; relative error against centered differences at most {max(errs):.0e}"
              if errs else "")
        return right(what, f"(all {len(findings)} {kind}, on {len(cases)} fresh inputs of "
                           f"your own{fd}.)")
    lines = [f"{what}, on {len(cases)} fresh inputs of your own: {n_right} of "
             f"{len(findings)} {kind} right."]
    groups: dict[str, list[str]] = {}
    for f in findings:
        groups.setdefault(f.text, []).append(f.name)
    for text, group in groups.items():
        lines.append(f"  {', '.join(group)}: {text}")
    if part is not None:
        return _one_part(findings, part, what, len(cases))
    raise NotQuiteRight("\n".join(lines))


def _one_part(findings: list[Finding], part: str, what: str, n_cases: int) -> Verdict:
    """The verdict on one returned array."""
    mine = next((f for f in findings if f.name == part), None)
    if mine is None:
        raise ValueError(f"{what} returns no array called {part!r}")
    if mine.ok:
        fd = ("" if mine.error_vs_fd is None else
              f"; relative error against centered differences {mine.error_vs_fd:.0e}")
        return right(f"{part} of {what}", f"(on {n_cases} fresh inputs of your own{fd}.)")
    raise NotQuiteRight(f"{what}: {part}: {mine.text}")
