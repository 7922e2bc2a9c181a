"""A graded check: the verdict a student sees, and a record the grader checks again.

A course's test cell is ``graded("one_neuron_chain.check_grad_w1", dC_dw1)``. In the
student's kernel it shows the checker's verdict, with the numbers of the student's class
identity (read again from the environment on every check, so ``set_student`` in a student's
cell changes nothing), and it publishes a *record* of the answer: the value itself (numbers,
arrays, a string, a SymPy expression as ``srepr``) or, for a function, every call the
checker made to it with what it returned.

The verdict in the kernel is for the student. The grade is decided elsewhere: the course's
nbgrader hook (``bookkit.nbgrader_hooks.VerifyAnswers``) reads each record and runs the same
checker again, in nbgrader's own process, with the student id nbgrader grades under. A
checker redefined in the notebook, a patched NumPy or a reset identity changes what the
student's kernel says, never the grade; a record forged by hand is an answer like any other.

**Code exercises** (:mod:`backprop_book.codecheck`: a function judged on fresh inputs,
array by array). The grader never runs a student's code, so the record must already hold
what the student's function returned *on the grader's inputs*. Those inputs are drawn
from the graded student's id and from "graded" (not "hidden", the inputs of the student's
own checks while working: :func:`backprop_book.codecheck.fresh_rngs`), both read from the
environment nbgrader gives the grading kernel (``NBGRADER_EXECUTION`` and the student id
of :class:`bookkit.nbgrader_hooks.StudentIdentity`): in the kernel, :func:`graded` takes
the identity from there (as for numbers), so the kernel's checker calls the student's
function on exactly the inputs the grader will draw, and the record keeps every call,
taken where :func:`~backprop_book.codecheck.check_code` calls the function (its
arguments, what it returned or raised, and what it changed in place). In nbgrader's
process the checker draws the same inputs again from the id *it* grades under and reads
the answers from the record (:class:`Replay`): an input the record lacks (a kernel that
ran as someone else, or while working, or a record edited) is "not called with the
grader's inputs", and scores nothing. The record cannot choose the inputs, only answer
them; answering them right takes a right function. Where a checker builds the inputs with
the student's own classes (the autodiff engine's node, ``engine=Value``), the record is
taken at the same place, on numbers; the grader, without the student's class, still
decides right or wrong from the numbers, while the name of a classic bug, where a bug
needs the student's class to be replayed, comes from the kernel's run
(:func:`backprop_book.codecheck.check_code`, ``mistakes``): a diagnosis, never a point.

``part="dW1"`` (one graded test cell per returned array) and the other keywords of a
test cell are read by the grader from the cell's own source, which nbgrader restores;
only a keyword that is not a literal (``engine=Value``) comes from the record.

A SymPy answer is recorded as ``srepr`` and read back without ``eval`` (:func:`from_srepr`:
only SymPy's own classes, only plain constants), so a forged record cannot run code in
nbgrader's process; a formula typed as a string is re-read by the checker.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import contextvars
import importlib
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: The MIME type of an answer record in a test cell's outputs.
RECORD_MIME = "application/vnd.backprop-book.answer+json"


class Opaque:
    """An answer of a kind a record cannot carry (the checkers reject it as the wrong type)."""

    def __init__(self, kind: str):
        self.kind = kind

    def __repr__(self) -> str:
        return f"<a {self.kind}>"


def _sympy():
    return sys.modules.get("sympy")


def encode(value: Any) -> dict:
    """``value`` as JSON-able data that :func:`decode` turns back into an equal value."""
    sp = _sympy()
    if value is None:
        return {"t": "none"}
    if value is Ellipsis:
        return {"t": "ellipsis"}
    if isinstance(value, bool | np.bool_):
        return {"t": "bool", "v": bool(value)}
    if isinstance(value, int | np.integer):
        return {"t": "int", "v": int(value)}
    if isinstance(value, float | np.floating):
        return {"t": "float", "v": _number(float(value))}
    if isinstance(value, str):
        return {"t": "str", "v": value}
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return {"t": "nd", "dtype": value.dtype.str, "shape": list(value.shape),
                "v": [_number(x) for x in value.ravel().tolist()]}
    if isinstance(value, tuple | list):  # a named tuple (a forward pass's cache) as a tuple
        return {"t": "list" if isinstance(value, list) else "tuple",
                "v": [encode(v) for v in value]}
    if isinstance(value, dict):
        return {"t": "dict", "v": [[encode(k), encode(v)] for k, v in value.items()]}
    if sp is not None and isinstance(value, sp.Basic | sp.MatrixBase):
        return {"t": "sympy", "v": sp.srepr(value)}
    if isinstance(value, Recorder):
        return {"t": "function", "name": value.__name__, "calls": value.calls,
                **({"mistakes": value.mistakes} if value.mistakes else {})}
    return {"t": "opaque", "v": type(value).__name__}


def _number(x: float | int) -> float | int | str:
    """A number as JSON holds it: NaN and the infinities as text (``float()`` reads them)."""
    return x if np.isfinite(x) else repr(float(x))


def decode(data: dict) -> Any:
    """The value :func:`encode` recorded (a function becomes a :class:`Replay` of its calls)."""
    kind, v = data["t"], data.get("v")
    if kind in ("none", "ellipsis"):
        return None if kind == "none" else Ellipsis
    if kind in ("bool", "int", "float", "str"):
        return {"bool": bool, "int": int, "float": float, "str": str}[kind](v)
    if kind == "nd":
        return np.array(v, dtype=np.dtype(data["dtype"])).reshape(data["shape"])
    if kind in ("tuple", "list"):
        items = [decode(x) for x in v]
        return tuple(items) if kind == "tuple" else items
    if kind == "dict":
        return {_hashable(decode(k)): decode(x) for k, x in v}
    if kind == "sympy":
        return from_srepr(v)
    if kind == "function":
        return Replay(data.get("name", "function"), data.get("calls", []),
                      data.get("mistakes", []))
    return Opaque(str(v))


def _hashable(key: Any) -> Any:
    return tuple(key) if isinstance(key, list) else key


class Recorder:
    """A student's function, wrapped: each call and what it returned (or raised) is kept,
    and, when the call changed its arguments in place, what they became."""

    def __init__(self, function: Callable, where: Callable | None = None):
        self.function = function
        self.__name__ = getattr(function, "__name__", "function")
        self.calls: list[dict] = []
        self.mistakes: list[dict] = []  # codecheck's classic bugs on each input, when taped
        self.where = where  # where in the student's code an exception came from, in words

    def __call__(self, *args):
        entry = {"args": encode(args)}
        self.calls.append(entry)
        try:
            result = self.function(*args)
        except BaseException as error:
            entry["raised"] = [type(error).__name__, str(error)[:500]]
            if self.where is not None:
                entry["where"] = self.where(error)
            raise
        finally:
            after = encode(args)
            if after != entry["args"]:
                entry["after"] = after
        entry["returned"] = encode(result)
        return result


class NotRecorded(RuntimeError):
    """The grader called a student's function at an input the student's kernel never saw."""


#: Exceptions of the book's own that a replay raises again by name (codecheck's time-out).
REPLAYABLE: dict[str, type[BaseException]] = {}


def _write_back(live: Any, after: Any) -> None:
    """Change ``live`` in place into ``after`` (a recorded call's arguments, as it left them)."""
    if isinstance(live, np.ndarray):
        if isinstance(after, np.ndarray) and after.shape == live.shape:
            live[...] = after
        return
    if isinstance(live, dict) and isinstance(after, dict):
        for key in live:
            if key in after:
                _write_back_item(live, key, after[key])
    elif isinstance(live, list | tuple) and isinstance(after, list | tuple) and len(live) == len(after):
        for i, item in enumerate(after):
            if isinstance(live, list):
                _write_back_item(live, i, item)
            else:
                _write_back(live[i], item)


def _write_back_item(container: Any, key: Any, after: Any) -> None:
    if isinstance(container[key], np.ndarray | dict | list | tuple):
        _write_back(container[key], after)
    elif not isinstance(after, Opaque):
        container[key] = after


class Replay:
    """A recorded function, replayed: the same inputs give what the student's function gave
    (the same value, the same exception, the same changes to its arguments)."""

    def __init__(self, name: str, calls: list[dict], mistakes: list[dict] | None = None):
        self.__name__ = name
        self.calls = calls
        self.mistakes = mistakes or []

    def mistake(self, text: str, args: tuple) -> Any:
        """What the classic bug ``text`` returned on ``args`` in the kernel (``None``: not
        recorded). A diagnosis only: it names a bug, it never decides a point."""
        key = encode(args)
        for entry in self.mistakes:
            if entry.get("args") == key and text in entry.get("wrongs", {}):
                return decode(entry["wrongs"][text])
        return None

    def __call__(self, *args):
        key = encode(args)
        for entry in self.calls:
            if entry.get("args") == key:
                if "after" in entry:
                    _write_back(args, decode(entry["after"]))
                if "raised" in entry:
                    raise _replayed_error(entry)
                return decode(entry["returned"])
        raise NotRecorded("it was not called with the grader's inputs when the notebook ran "
                          "(run the cells above, then this test cell itself, unchanged)")


def _replayed_error(entry: dict) -> BaseException:
    name, message = entry["raised"]
    kind = REPLAYABLE.get(name) or getattr(builtins, name, None)
    if isinstance(kind, type) and issubclass(kind, Exception) or name in REPLAYABLE:
        error = kind(message)
    else:
        error = RuntimeError(f"{name}: {message}")
    error.replayed_where = str(entry.get("where") or "")
    return error


def _is_function(value: Any) -> bool:
    sp = _sympy()
    if isinstance(value, type) or (sp is not None and isinstance(value, sp.Basic)):
        return False
    return callable(value)


def checker(path: str) -> Callable:
    """The checker ``"<exercise module>.<checker>"`` of :mod:`backprop_book.exercises`."""
    module, name = path.rsplit(".", 1)
    return getattr(importlib.import_module(f"backprop_book.exercises.{module}"), name)


# ------------------------------------------------------------------ the tape of a code exercise


@dataclass
class Tape:
    """A student's calls as :func:`backprop_book.codecheck.check_code` made them (arguments,
    result, changes in place), and the classic bugs' results on the same inputs."""

    calls: list = field(default_factory=list)
    mistakes: list = field(default_factory=list)


_TAPE: contextvars.ContextVar[Tape | None] = contextvars.ContextVar("answer_tape", default=None)


@contextlib.contextmanager
def recording() -> Iterator[Tape]:
    """Tape every call ``check_code`` makes to the student's function in this block."""
    tape = Tape()
    token = _TAPE.set(tape)
    try:
        yield tape
    finally:
        _TAPE.reset(token)


def tape_in_use() -> Tape | None:
    """The tape of the :func:`recording` block this runs in, or ``None``."""
    return _TAPE.get()


def graded(path: str, *answers: Any, **keywords: Any):
    """Check ``answers`` with the checker ``path`` and publish the record the grader checks.

    ``keywords`` go to the checker too (``part="dW1"``, ``engine=Value``). Shows the verdict
    (in green, or "not done yet"); a wrong answer raises ``NotQuiteRight`` (one red line),
    as the checker does.
    """
    from IPython.display import display

    from .classroom import use_class_identity

    use_class_identity(quiet=True)  # whose inputs: the identity the grader will grade under
    given = [Recorder(a) if _is_function(a) else a for a in answers]
    options = {k: Recorder(v) if _is_function(v) else v for k, v in keywords.items()}
    with recording() as tape:
        try:
            verdict = checker(path)(*given, **options)
        finally:
            functions = [a for a in [*given, *options.values()] if isinstance(a, Recorder)]
            if tape.calls and functions:  # a code exercise: the calls where check_code made them
                functions[0].calls, functions[0].mistakes = tape.calls, tape.mistakes
            record = {"checker": path, "answers": [encode(a) for a in given],
                      "keywords": {k: encode(v) for k, v in options.items()}}
            # no text/plain: a viewer shows nothing for it; the grader reads it, then drops it
            display({RECORD_MIME: record}, raw=True)
    display(verdict)


# ------------------------------------------------------------------ SymPy, without eval


def from_srepr(text: str):
    """The SymPy object ``sp.srepr`` wrote as ``text``, rebuilt without ``eval``.

    Only calls of SymPy's own classes (``Add``, ``Symbol``, ``Integer``, ...) and plain
    constants are read; a string argument must look like a name or a number (no ``__``, no
    brackets), since a few SymPy constructors parse strings. Anything else: ``ValueError``.
    """
    import sympy as sp

    def named(name: str):
        found = getattr(sp, name, None) if not name.startswith("_") else None
        if isinstance(found, type) and issubclass(found, sp.Basic | sp.MatrixBase):
            return found
        if isinstance(found, sp.Basic):  # pi, oo, E, zoo, nan
            return found
        raise ValueError(f"not a SymPy class: {name}")

    def value(node: ast.AST):
        if isinstance(node, ast.Constant):
            if isinstance(node.value, str) and (not _PLAIN.fullmatch(node.value)
                                                or "__" in node.value):
                raise ValueError(f"not a plain name or number: {node.value!r}")
            if node.value is None or isinstance(node.value, bool | int | float | str):
                return node.value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            inner = value(node.operand)
            if isinstance(inner, int | float) and not isinstance(inner, bool):
                return -inner if isinstance(node.op, ast.USub) else inner
        if isinstance(node, ast.Tuple | ast.List):
            items = [value(e) for e in node.elts]
            return tuple(items) if isinstance(node, ast.Tuple) else items
        if isinstance(node, ast.Name):
            return named(node.id)
        if isinstance(node, ast.Call):
            func = named(node.func.id) if isinstance(node.func, ast.Name) else value(node.func)
            if not (isinstance(func, type) and issubclass(func, sp.Basic | sp.MatrixBase)):
                raise ValueError("only SymPy's classes are called")
            return func(*[value(a) for a in node.args],
                        **{k.arg: value(k.value) for k in node.keywords if k.arg})
        raise ValueError(f"not part of a SymPy expression: {ast.dump(node)[:80]}")

    return value(ast.parse(text, mode="eval").body)


_PLAIN = re.compile(r"[A-Za-z0-9_.+\- ]*")
