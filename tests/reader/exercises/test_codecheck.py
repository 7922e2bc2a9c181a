"""The code engine itself (backprop_book.codecheck), on small made-up exercises."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from verdicts import refuse

from backprop_book import codecheck
from backprop_book.checkers import NotQuiteRight, set_student
from backprop_book.codecheck import check_code, fresh_rngs


def _cases():
    return [{"W": rng.normal(size=(3, 3)), "x": rng.normal(size=(3, 1))}
            for rng in fresh_rngs("ex-test-square")]


def _grad(W, x):
    """dC/dW and dC/dx of C = 1/2 ||W x||^2: (W x) x^T and W^T W x."""
    return (W @ x) @ x.T, W.T @ (W @ x)


def _fd(W, x, h=1e-6):
    def cost(W, x):
        return 0.5 * float(np.sum((W @ x) ** 2))

    out = []
    for target in (W, x):
        g = np.zeros_like(target)
        for i in np.ndindex(target.shape):
            old = target[i]
            target[i] = old + h
            plus = cost(W, x)
            target[i] = old - h
            minus = cost(W, x)
            target[i] = old
            g[i] = (plus - minus) / (2 * h)
        out.append(g)
    return tuple(out)


def check(answer, reference=_grad, **kw):
    return check_code(answer, reference, what="your grad", cases=_cases(), names=["dW", "dx"],
                      returns="the tuple (dW, dx)", numeric=_fd, **kw)


def test_right_quotes_the_gradient_check():
    verdict = check(_grad)
    assert verdict and "relative error against centered differences at most" in str(verdict)


def test_a_wrong_reference_is_the_books_error_not_the_readers():
    with pytest.raises(RuntimeError, match="reference and centered differences disagree"):
        check(_grad, reference=lambda W, x: (2 * (W @ x) @ x.T, W.T @ (W @ x)))


def test_fresh_inputs_differ_between_students_and_from_the_page():
    book = _cases()[0]["W"]
    set_student("student-17")
    try:
        theirs = _cases()[0]["W"]
    finally:
        set_student(None)
    assert not np.allclose(book, theirs)


def test_generic_diagnoses_per_array():
    refuse(check, lambda W, x: (-_grad(W, x)[0], _grad(W, x)[1]), "sign is flipped")
    refuse(check, lambda W, x: (_grad(W, x)[0].T, _grad(W, x)[1]), "transpose of the right")
    refuse(check, lambda W, x: (_grad(W, x)[0], 2 * _grad(W, x)[1]), "twice the right value")
    refuse(check, lambda W, x: (_grad(W, x)[0], _grad(W, x)[1].ravel()), "It is 1-D")
    refuse(check, lambda W, x: (_grad(W, x)[0], _grad(W, x)[1] * x.ravel()),
           "broadcast against an (n, 1) column")
    refuse(check, lambda W, x: (_grad(W, x)[0], _grad(W, x)[1].T), "It looks transposed")
    refuse(check, lambda W, x: (_grad(W, x)[0], _grad(W, x)[1] + 0.01 * x),
           "not a mistake we recognise. Worst entry")


def test_a_named_mistake_and_a_buggy_version_that_cannot_run():
    mistakes = {
        "W x where W^T W x belongs: one more W^T.": lambda W, x: (_grad(W, x)[0], W @ x),
        "never matches (raises on every case)": lambda W, x: (W @ np.ones((2, 2)), x),
    }
    refuse(lambda a: check(a, mistakes=mistakes), lambda W, x: (_grad(W, x)[0], W @ x),
           "dx: wrong: W x where W^T W x belongs")


def test_right_arrays_and_wrong_ones_are_listed_together():
    with pytest.raises(NotQuiteRight) as info:
        check(lambda W, x: (_grad(W, x)[0], -_grad(W, x)[1]))
    text = str(info.value)
    assert "1 of 2 arrays right" in text and "dW: right" in text and "dx: wrong" in text


def test_the_wrong_structure_is_described():
    refuse(check, lambda W, x: _grad(W, x)[0], "yours returned an array of shape (3, 3)")
    refuse(check, lambda W, x: [_grad(W, x)[0]], "yours returned a list of 1")
    refuse(check, lambda W, x: (_grad(W, x)[0], "x"), "dx should be a NumPy array")
    refuse(check, lambda W, x: (_grad(W, x)[0], np.full((3, 1), np.nan)), "NaN")


def test_an_exception_inside_numpy_is_reported_at_the_readers_line():
    def grad(W, x):
        dW = (W @ x) @ x.T
        dx = np.linalg.solve(np.zeros((3, 3)), x)  # the reader's line: a singular matrix
        return dW, dx

    refuse(check, grad, "LinAlgError at line")
    refuse(check, grad, "(`dx = np.linalg.solve(np.zeros((3, 3)), x)")


def test_a_loop_is_stopped_in_another_thread_too(monkeypatch):
    """Off the main thread no signal can be used; the call is abandoned after the limit."""
    monkeypatch.setattr(codecheck, "TIME_LIMIT", 0.2)
    stop = threading.Event()
    said = {}

    def forever(W, x):
        while not stop.is_set():
            pass

    def run():
        try:
            check(forever)
        except NotQuiteRight as err:
            said["text"] = str(err)

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(30)
    stop.set()  # let the abandoned call end
    assert "did not finish within 0.2 seconds" in said["text"]


def test_a_bare_except_in_the_readers_code_cannot_swallow_the_time_limit(monkeypatch):
    monkeypatch.setattr(codecheck, "TIME_LIMIT", 0.2)

    def stubborn(W, x):
        while True:
            try:
                pass
            except Exception:
                pass

    refuse(check, stubborn, "did not finish")


def test_an_input_changed_in_place():
    def grad(W, x):
        x *= 2
        return _grad(W, x / 2)

    refuse(check, grad, "changed its input x in place")


def test_the_grader_draws_other_inputs_than_the_student_saw(monkeypatch):
    working = _cases()[0]["W"]
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    graded = _cases()[0]["W"]
    assert not np.allclose(working, graded)
    assert check(_grad)
