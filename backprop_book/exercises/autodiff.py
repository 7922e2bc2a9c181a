"""Exercises of the autodiff chapter: the given numbers and the checkers.

Three exercises: a ``tanh`` node for the chapter's scalar engine, the gradient of a variable
that reaches the output along several paths, and the number of cost evaluations a
centered-difference gradient needs. Right answers come from :mod:`backprop_book.reference`,
SymPy or a count of actual calls, never from a copied constant.
"""

from __future__ import annotations

import numpy as np

from .. import reference as ref
from ..checkers import Verdict, check_array, check_function, given
from ..gradcheck import numerical_gradient

TANH_NODE = "ex-autodiff-tanh-node"
PATHS_MEET = "ex-autodiff-paths-meet"
FD_PASSES = "ex-autodiff-fd-passes"


# ------------------------------------------------------------------ 1. a tanh node


def tanh_node_numbers() -> dict:
    """The points (x, w) at which the engine's gradient of C = tanh(x w)^2 is checked."""

    def draw(rng: np.random.Generator) -> dict:
        pts = rng.choice([-1, 1], size=(3, 2)) * rng.uniform(0.3, 1.6, size=(3, 2))
        return {"points": [tuple(round(float(v), 2) for v in row) for row in pts]}

    return given(TANH_NODE, {"points": [(0.8, -1.3), (-0.45, 0.9), (1.2, 0.6)]}, draw)


def _tanh_grads(slope):
    """[dC/dx, dC/dw] for C = tanh(x w)^2, with ``slope(u, t)`` standing in for tanh'(u)."""

    def grads(x, w, *, upstream=True):
        u = x * w
        t = float(ref.tanh(u))
        g = (2.0 * t if upstream else 1.0) * slope(u, t)  # dC/du
        return [g * w, g * x]

    return grads


def check_tanh_node(grad_fn: object) -> Verdict:
    """``grad_fn(x, w) -> [dC/dx, dC/dw]`` for C = tanh(x w)^2, computed with the engine."""
    right = _tanh_grads(lambda u, t: float(ref.tanh_prime(u)))
    no_square = _tanh_grads(lambda u, t: 1.0 - t)
    input_not_output = _tanh_grads(lambda u, t: 1.0 - u**2)

    def no_upstream(x, w):
        return _tanh_grads(lambda u, t: float(ref.tanh_prime(u)))(x, w, upstream=False)

    return check_function(
        grad_fn,
        right,
        what="the engine's gradient through tanh",
        inputs=tanh_node_numbers()["points"],
        mistakes={
            "the local derivative is 1 - tanh(x), without the square; "
            "tanh'(x) = 1 - tanh(x)^2 (use the output: 1 - t**2).": no_square,
            "the local derivative was not multiplied by out.grad, so the gradient arriving "
            "from the square above the tanh node is lost: self.grad += (1 - t**2) * out.grad.": (
                no_upstream
            ),
            "you used 1 - x^2 with x the node's INPUT; the formula 1 - t^2 needs t = tanh(x), "
            "the node's output.": input_not_output,
        },
    )


# ------------------------------------------------------------------ 2. paths that meet


def paths_meet_numbers() -> dict:
    """The value x at which df/dx of f = x*x + x is asked."""
    return given(
        PATHS_MEET, {"x": 1.3}, lambda rng: {"x": round(float(rng.uniform(0.4, 2.4)), 2)}
    )


def check_paths_meet(answer: object) -> Verdict:
    """df/dx for f = x*x + x at the given x, a number."""
    import sympy as sp

    xs = sp.Symbol("x")
    xv = paths_meet_numbers()["x"]
    expected = float(sp.diff(xs * xs + xs, xs).subs(xs, xv))
    return check_array(
        answer,
        expected,
        what="df/dx",
        mistakes={
            "that is what an engine with `=` instead of `+=` returns: each backward step "
            "overwrites x.grad, so only the last path to arrive survives. Sum the "
            "contributions of all three edges that leave x.": xv,
            "the direct edge from x to the + node is missing: it adds 1.": 2 * xv,
            "the multiply node uses x twice, once in each slot; each slot sends back "
            "the other factor, x, so together they give 2x.": xv + 1,
            "that is only the direct path from x to the + node; the multiply node sends "
            "gradient back to x as well.": 1.0,
        },
    )


# ------------------------------------------------------------------ 3. cost of finite differences


def fd_passes_numbers() -> dict:
    """The layer sizes [n_0, n_1, n_2] of the network whose gradient is estimated."""

    def draw(rng: np.random.Generator) -> dict:
        return {
            "sizes": [int(rng.integers(20, 200)), int(rng.integers(8, 60)), int(rng.integers(2, 12))]
        }

    return given(FD_PASSES, {"sizes": [784, 30, 10]}, draw)


def _count_cost_evaluations(sizes: list[int]) -> int:
    """Run the book's numerical_gradient on every parameter of a tiny stand-in and count calls.

    The count depends only on the number of entries, so a parameter vector of that length
    is enough (no network needs to be evaluated).
    """
    n = sum(p.size for pair in ref.init_params(sizes, seed=0) for p in pair)
    calls = 0

    def cost(theta: np.ndarray) -> float:
        nonlocal calls
        calls += 1
        return 0.0

    numerical_gradient(cost, np.zeros(n))
    return calls


def check_fd_passes(answer: object) -> Verdict:
    """How many cost evaluations the book's centered-difference gradient needs, a number."""
    sizes = fd_passes_numbers()["sizes"]
    expected = _count_cost_evaluations(sizes)
    n_weights = sum(a * b for a, b in zip(sizes[:-1], sizes[1:], strict=True))
    n = expected // 2
    return check_array(
        answer,
        expected,
        what="the number of cost evaluations",
        rtol=0.0,
        atol=0.5,
        mistakes={
            "that is one evaluation per parameter; centered differences evaluate the cost "
            "twice per parameter, at +h and at -h.": n,
            "that is the count for one-sided (forward) differences, which share f(x); the "
            "book's numerical_gradient is centered.": n + 1,
            "the biases are parameters too: count every entry of every W and every b.": (
                2 * n_weights
            ),
            "that counts the weights once and forgets the biases; count every entry of W "
            "and b, twice.": n_weights,
            "two passes (one forward, one backward) is what backpropagation needs; finite "
            "differences need two per parameter.": 2,
        },
    )


__all__ = [
    "tanh_node_numbers",
    "check_tanh_node",
    "paths_meet_numbers",
    "check_paths_meet",
    "fd_passes_numbers",
    "check_fd_passes",
]
