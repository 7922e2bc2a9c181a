"""The autodiff chapter's checkers: each accepts the right answer and diagnoses typical wrong ones.

Right answers here come from finite differences, SymPy or plain arithmetic, independently of
the checkers (which use the reference implementation and a count of actual calls).
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from verdicts import refuse

from backprop_book.checkers import set_student
from backprop_book.exercises import autodiff as ex

pytestmark = pytest.mark.usefixtures("student")


# ------------------------------------------------------------------ the tanh node


def tanh_grads(slope, upstream=True):
    """[dC/dx, dC/dw] of C = tanh(x w)^2 with ``slope(u, t)`` in place of tanh'(u)."""

    def grads(x, w):
        u = x * w
        t = np.tanh(u)
        g = (2 * t if upstream else 1.0) * slope(u, t)
        return [g * w, g * x]

    return grads


def test_tanh_node_right_by_finite_differences():
    def by_differences(x, w, h=1e-6):
        def cost(a, b):
            return np.tanh(a * b) ** 2

        return [(cost(x + h, w) - cost(x - h, w)) / (2 * h),
                (cost(x, w + h) - cost(x, w - h)) / (2 * h)]

    assert ex.check_tanh_node(by_differences)


def test_tanh_node_not_done():
    assert not ex.check_tanh_node(None)

    def stub(x, w):
        raise NotImplementedError("Exercise: write this part")

    assert not ex.check_tanh_node(stub)


def test_tanh_node_mistakes():
    refuse(ex.check_tanh_node, tanh_grads(lambda u, t: 1 - t), "without the square")
    refuse(ex.check_tanh_node, tanh_grads(lambda u, t: 1 - t**2, upstream=False), "out.grad")
    refuse(ex.check_tanh_node, tanh_grads(lambda u, t: 1 - u**2), "INPUT")
    refuse(ex.check_tanh_node, tanh_grads(lambda u, t: t * (1 - t)), "the sigmoid's slope")
    refuse(ex.check_tanh_node, tanh_grads(lambda u, t: 1 + t**2), "that is not it")
    refuse(ex.check_tanh_node, 0.5, "should be a function")


def test_tanh_points_differ_between_students(student):
    points = ex.tanh_node_numbers()["points"]
    assert len(points) == 3 and all(abs(x * w) > 0.05 for x, w in points)
    if student is not None:
        set_student(None)
        assert ex.tanh_node_numbers()["points"] != points


# ------------------------------------------------------------------ paths that meet


def test_paths_meet():
    xv = ex.paths_meet_numbers()["x"]
    x = sp.Symbol("x")
    right = float(sp.diff(x * x + x, x).subs(x, xv))
    assert ex.check_paths_meet(right)
    assert ex.check_paths_meet(np.float64(right))
    assert not ex.check_paths_meet(None)
    refuse(ex.check_paths_meet, xv, "instead of `+=`")
    refuse(ex.check_paths_meet, 2 * xv, "direct edge")
    refuse(ex.check_paths_meet, xv + 1, "once in each slot")
    refuse(ex.check_paths_meet, 1.0, "only the direct path")
    refuse(ex.check_paths_meet, -right, "opposite sign")


# ------------------------------------------------------------------ finite-difference passes


def test_fd_passes():
    sizes = ex.fd_passes_numbers()["sizes"]
    weights = sum(a * b for a, b in zip(sizes[:-1], sizes[1:], strict=True))
    biases = sum(sizes[1:])
    right = 2 * (weights + biases)
    assert ex.check_fd_passes(right)
    assert not ex.check_fd_passes(None)
    refuse(ex.check_fd_passes, weights + biases, "twice per parameter")
    refuse(ex.check_fd_passes, weights + biases + 1, "one-sided")
    refuse(ex.check_fd_passes, 2 * weights, "biases are parameters too")
    refuse(ex.check_fd_passes, 2, "backpropagation needs")
    refuse(ex.check_fd_passes, right + 7, "that is not it")


# ------------------------------------------------------------------ the graphs, in words


def test_the_topo_graph_in_words_is_the_graph_checked():
    """The worksheets print TOPO_GRAPH as the task; it must be the function the checker's
    graphs compute."""
    f_text, s_text = ex.TOPO_GRAPH.removeprefix("f = ").split(", where s = ")
    x, y, z = sp.symbols("x y z")
    s = sp.sympify(s_text, locals={"x": x, "y": y})
    f = sp.sympify(f_text, locals={"s": s, "z": z,
                                   "sigmoid": lambda t: 1 / (1 + sp.exp(-t))})
    rng = np.random.default_rng(3)
    for point in rng.uniform(-1, 1, size=(3, 3)):
        at = dict(zip((x, y, z), point, strict=True))
        assert float(f.subs(at)) == pytest.approx(ex._topo_value(*point), rel=1e-12)
    assert "x / x" in ex.check_div_node.paper and "backward_topo" in (
        ex.check_backward_topo.paper)
