"""The softmax chapter's checkers: each accepts the right answer and diagnoses typical wrong ones.

Right answers here come from SymPy, finite differences and mpmath, independently of the
checkers (which use SymPy's diff, the reference implementation and mpmath at 40 digits).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from verdicts import refuse

from backprop_book.exercises import softmax_four_layer as ex

pytestmark = pytest.mark.usefixtures("student")


def softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def by_differences(f, z, h=1e-6):
    """Centered differences of a scalar function of the column z."""
    grad = np.zeros_like(z)
    for i in range(z.shape[0]):
        step = np.zeros_like(z)
        step[i, 0] = h
        grad[i, 0] = (f(z + step) - f(z - step)) / (2 * h)
    return grad


# ------------------------------------------------------------------ 1. 2-class Jacobian


def test_jacobian2():
    z1, z2 = ex.jacobian2_symbols()
    s1 = sp.exp(z1) / (sp.exp(z1) + sp.exp(z2))
    s2 = 1 - s1
    right = sp.Matrix([[s1 * s2, -s1 * s2], [-s1 * s2, s1 * s2]])
    assert ex.check_jacobian2(right)
    # written with plain symbols of the same names, and as nested lists
    a, b = sp.symbols("z_1 z_2")
    t1 = 1 / (1 + sp.exp(b - a))
    assert ex.check_jacobian2([[t1 * (1 - t1), -t1 * (1 - t1)], [-t1 * (1 - t1), t1 * (1 - t1)]])
    assert not ex.check_jacobian2(None)
    refuse(ex.check_jacobian2, sp.diag(s1 * (1 - s1), s2 * (1 - s2)), "only the diagonal")
    refuse(ex.check_jacobian2, sp.Matrix([[s1 * s2, s1 * s2], [s1 * s2, s1 * s2]]), "wrong sign")
    refuse(ex.check_jacobian2, -right, "opposite sign")
    refuse(ex.check_jacobian2, sp.diag(s1, s2), "diag(s) alone")
    refuse(ex.check_jacobian2, sp.Matrix([[s1 * s2, 0], [0, 0]]), "J[0, 1]")
    refuse(ex.check_jacobian2, sp.Matrix([s1, s2]), "shape (2, 2)")


# ------------------------------------------------------------------ 2. label smoothing


def test_smoothing():
    n = ex.smoothing_numbers()
    z = np.array(n["z"], dtype=float).reshape(-1, 1)
    K, eps = z.shape[0], n["eps"]
    y = np.full((K, 1), eps / K)
    y[n["c"], 0] += 1 - eps

    def cost(v):
        return -float(np.sum(y * np.log(softmax(v))))

    right = by_differences(cost, z)
    assert ex.check_smoothing(right)
    assert not ex.check_smoothing(None)
    s = softmax(z)
    one_hot = np.zeros((K, 1))
    one_hot[n["c"], 0] = 1
    refuse(ex.check_smoothing, s - one_hot, "one-hot")
    refuse(ex.check_smoothing, -y / s, "dC/ds")
    refuse(ex.check_smoothing, y - s, "opposite sign")
    other = np.where(one_hot == 1, 1 - eps, eps / (K - 1))
    refuse(ex.check_smoothing, s - other, "K - 1")
    refuse(ex.check_smoothing, (s - y).ravel(), "reshape(-1, 1)")


# ------------------------------------------------------------------ 3. hidden delta


def test_hidden_delta():
    n = ex.hidden_delta_numbers()
    W3 = np.array(n["W3"], dtype=float)
    z3 = np.array(n["z3"], dtype=float).reshape(-1, 1)
    z2 = np.array(n["z2"], dtype=float).reshape(-1, 1)
    c = n["c"]

    def cost(v):  # C as a function of z^(2), with z^(3) held to the given value at z2
        return -math.log(softmax(W3 @ sigmoid(v) + z3 - W3 @ sigmoid(z2))[c, 0])

    right = by_differences(cost, z2)
    assert ex.check_hidden_delta(right)
    assert not ex.check_hidden_delta(None)
    y = np.zeros((3, 1))
    y[c, 0] = 1
    delta3 = softmax(z3) - y
    slope = sigmoid(z2) * (1 - sigmoid(z2))
    refuse(ex.check_hidden_delta, (W3 @ delta3) * slope, "transpose is missing")
    a2 = sigmoid(z2)
    refuse(ex.check_hidden_delta, (W3.T @ delta3) * sigmoid(a2) * (1 - sigmoid(a2)), "sigma'(sigma(z))")
    refuse(ex.check_hidden_delta, W3.T @ delta3, "sigma'(z^(2)) is missing")
    refuse(ex.check_hidden_delta, -right, "opposite sign")


# ------------------------------------------------------------------ 4. log-sum-exp


def test_lse():
    z = ex.lse_numbers()["z"]
    top = max(z)
    right = top + math.log(math.fsum(math.exp(v - top) for v in z))
    assert ex.check_lse(right)
    assert ex.check_lse(np.float64(right))
    assert not ex.check_lse(None)
    with np.errstate(over="ignore"):
        naive = float(np.log(np.sum(np.exp(np.array(z)))))
    refuse(ex.check_lse, naive, "overflows")
    refuse(ex.check_lse, top, "largest logit alone")
    refuse(ex.check_lse, right - top, "add the max back")
    refuse(ex.check_lse, "1000", "you gave a str")
