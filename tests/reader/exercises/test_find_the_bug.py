"""Find-the-bug exercises: a backward pass with one planted bug, found by a gradient check.

The book's own solution (the chapter's cell: a gradient check of every array) must find
exactly the planted array for every bug a student may get, and the checker must accept
that name, refuse the others with what a gradient check of the named array shows, and
explain an answer it cannot read.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from verdicts import refuse

import backprop_book as bb
from backprop_book.checkers import NotQuiteRight
from backprop_book.exercises import any_width_any_depth as ex_any
from backprop_book.exercises import batched_backprop as ex_batch
from bookkit.paths import BOOK

pytestmark = pytest.mark.usefixtures("student")

EXERCISES = {"any": (ex_any, "any-width-any-depth", "exany-bug-sol"),
             "batch": (ex_batch, "batched-backprop", "exbatch-bug-sol")}


def books_solution(name: str) -> str:
    """What the chapter's solution cell finds, run as the chapter runs it."""
    ex, notebook, cell = EXERCISES[name]
    nb = json.loads((BOOK / f"{notebook}.ipynb").read_text())
    source = "".join(next(c for c in nb["cells"] if c["id"] == cell)["source"])
    ns = {"bb": bb, "np": np, "ex": ex, "suspect": ex.suspect_network(), "print": lambda *a: None}
    exec(source, ns)
    return ns["bug_at"]


@pytest.mark.parametrize("name", EXERCISES)
def test_the_books_gradient_check_finds_the_bug(name):
    ex = EXERCISES[name][0]
    found = books_solution(name)
    verdict = ex.check_found_bug(found)
    assert verdict and "every other array agrees" in str(verdict)


@pytest.mark.parametrize("name", EXERCISES)
def test_every_plantable_bug_is_found_and_is_one_array(name, monkeypatch):
    ex = EXERCISES[name][0]
    acts = getattr(ex, "SUSPECT_ACTIVATIONS", getattr(ex, "ACTIVATIONS", None))
    n = ex.suspect_network()
    for bug in ex.SUSPECT_BUGS:
        monkeypatch.setattr(ex, "_suspect_bug", lambda bug=bug: bug)
        report = bb.check_gradients(n["params"], n["X"], n["Y"], acts, "squared_error")
        grads = ex.suspect_backward(n["params"], n["X"], n["Y"])
        wrong = [f"{kind}{layer}" for layer, (pair, fd) in
                 enumerate(zip(grads, report.numerical, strict=True), start=1)
                 for kind, g, f in (("dW", pair[0], fd[0]), ("db", pair[1], fd[1]))
                 if bb.relative_error(g, f) > 1e-6]
        assert wrong == [f"{bug[0]}{bug[1]}"], (bug, wrong)
        assert books_solution(name) == wrong[0]
        assert ex.check_found_bug(wrong[0].upper().replace("DW", "dW").replace("DB", "db"))


@pytest.mark.parametrize("name", EXERCISES)
def test_a_wrong_array_is_answered_with_how_to_check(name, monkeypatch):
    """A wrong guess learns how to find the bug, not a number that rules arrays out one
    guess at a time (trial 27, F22)."""
    ex = EXERCISES[name][0]
    monkeypatch.setattr(ex, "_suspect_bug", lambda: ("dW", 2, "transposed"))
    refuse(ex.check_found_bug, "dW1", "dW1 is not it")
    refuse(ex.check_found_bug, "dW1", "Exactly one array disagrees")
    refuse(ex.check_found_bug, "dW1", "bb.relative_error")
    for guess in ("dW1", "db2"):
        with pytest.raises(NotQuiteRight) as info:
            ex.check_found_bug(guess)
        assert "relative error of" not in str(info.value)
        assert "layer is right" not in str(info.value)
    assert ex.check_found_bug("dC/dW^(2)")


@pytest.mark.parametrize("name", EXERCISES)
def test_the_right_verdict_names_no_array(name):
    """The verdict stays on the built page under the exercise (trial 27, F20)."""
    ex = EXERCISES[name][0]
    found = books_solution(name)
    verdict = str(ex.check_found_bug(found))
    assert "you found the wrong array" in verdict
    assert found not in verdict and found[1:] not in verdict
    assert "wrong array is correct" not in verdict  # F18


@pytest.mark.parametrize("name", EXERCISES)
def test_answers_that_cannot_be_read(name):
    ex = EXERCISES[name][0]
    assert not ex.check_found_bug(None)
    refuse(ex.check_found_bug, 2, "should be a string naming one array")
    refuse(ex.check_found_bug, "the second layer", "could not read")
    refuse(ex.check_found_bug, "dW9", "there is no dW9")
