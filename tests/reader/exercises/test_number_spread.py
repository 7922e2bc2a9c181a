"""Students' own numbers are their own: in a class, few share an exercise's numbers.

The teacher's trial (2026-12-05) drew 200 ids: 139 shared their x of "paths that meet"
with someone (x had two decimals between 0.4 and 2.4: 201 values), 71 their z of the
sigmoid's slope, and a neighbour's answer typed as a number passed for them. Each
exercise's draw now has room enough that 200 ids give at least 180 different sets of
numbers.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil

import numpy as np

import backprop_book.exercises
from backprop_book import checkers

CLASS = [f"stu{k:03d}" for k in range(1, 201)]


def number_draws() -> dict[str, callable]:
    """Every ``*_numbers()`` of the exercise modules that takes no argument."""
    found = {}
    for info in pkgutil.iter_modules(backprop_book.exercises.__path__):
        module = importlib.import_module(f"backprop_book.exercises.{info.name}")
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            needs = [p for p in inspect.signature(fn).parameters.values()
                     if p.default is inspect.Parameter.empty]
            if name.endswith("_numbers") and fn.__module__ == module.__name__ and not needs:
                found[f"{info.name}.{name}"] = fn
    return found


def test_two_hundred_students_rarely_share_an_exercises_numbers():
    draws = number_draws()
    assert len(draws) >= 25, sorted(draws)
    distinct = {}
    try:
        for name, draw in draws.items():
            seen = set()
            for student in CLASS:
                checkers.set_student(student)
                seen.add(json.dumps(draw(), sort_keys=True,
                                    default=lambda o: np.asarray(o).tolist()))
            distinct[name] = len(seen)
    finally:
        checkers.set_student(None)
    few = {name: n for name, n in distinct.items() if n < 180}
    assert not few, f"of {len(CLASS)} students, only this many different draws: {few}"
