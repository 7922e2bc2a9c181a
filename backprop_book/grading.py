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
"""

from __future__ import annotations

import builtins
import importlib
import sys
from collections.abc import Callable
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
    if isinstance(value, tuple | list):
        return {"t": type(value).__name__, "v": [encode(v) for v in value]}
    if isinstance(value, dict):
        return {"t": "dict", "v": [[encode(k), encode(v)] for k, v in value.items()]}
    if sp is not None and isinstance(value, sp.Basic | sp.MatrixBase):
        return {"t": "sympy", "v": sp.srepr(value)}
    if isinstance(value, Recorder):
        return {"t": "function", "name": value.__name__, "calls": value.calls}
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
        import sympy as sp

        return sp.sympify(v)
    if kind == "function":
        return Replay(data.get("name", "function"), data.get("calls", []))
    return Opaque(str(v))


def _hashable(key: Any) -> Any:
    return tuple(key) if isinstance(key, list) else key


class Recorder:
    """A student's function, wrapped: each call and what it returned (or raised) is kept."""

    def __init__(self, function: Callable):
        self.function = function
        self.__name__ = getattr(function, "__name__", "function")
        self.calls: list[dict] = []

    def __call__(self, *args):
        entry = {"args": encode(args)}
        self.calls.append(entry)
        try:
            result = self.function(*args)
        except BaseException as error:
            entry["raised"] = [type(error).__name__, str(error)[:500]]
            raise
        entry["returned"] = encode(result)
        return result


class NotRecorded(RuntimeError):
    """The grader called a student's function at an input the student's kernel never saw."""


class Replay:
    """A recorded function, replayed: the same inputs give what the student's function gave."""

    def __init__(self, name: str, calls: list[dict]):
        self.__name__ = name
        self.calls = calls

    def __call__(self, *args):
        key = encode(args)
        for entry in self.calls:
            if entry.get("args") == key:
                if "raised" in entry:
                    name, message = entry["raised"]
                    kind = getattr(builtins, name, None)
                    if isinstance(kind, type) and issubclass(kind, Exception):
                        raise kind(message)
                    raise RuntimeError(f"{name}: {message}")
                return decode(entry["returned"])
        raise NotRecorded("it was not called with these inputs when the notebook ran "
                          "(run the test cell itself, unchanged)")


def _is_function(value: Any) -> bool:
    sp = _sympy()
    if isinstance(value, type) or (sp is not None and isinstance(value, sp.Basic)):
        return False
    return callable(value)


def checker(path: str) -> Callable:
    """The checker ``"<exercise module>.<checker>"`` of :mod:`backprop_book.exercises`."""
    module, name = path.rsplit(".", 1)
    return getattr(importlib.import_module(f"backprop_book.exercises.{module}"), name)


def graded(path: str, *answers: Any):
    """Check ``answers`` with the checker ``path`` and publish the record the grader checks.

    Shows the verdict (in green, or "not done yet"); a wrong answer raises ``NotQuiteRight``
    (one red line), as the checker does.
    """
    from IPython.display import display

    from .classroom import use_class_identity

    use_class_identity(quiet=True)
    given = [Recorder(a) if _is_function(a) else a for a in answers]
    try:
        verdict = checker(path)(*given)
    finally:
        record = {"checker": path, "answers": [encode(a) for a in given]}
        # no text/plain: a viewer shows nothing for it; the grader reads it, then drops it
        display({RECORD_MIME: record}, raw=True)
    display(verdict)
