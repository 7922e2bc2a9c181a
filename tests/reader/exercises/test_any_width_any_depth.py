"""The any-width chapter's checkers: each accepts the right answer and diagnoses typical wrong ones.

Right answers here come from SymPy and from finite differences, independently of the checkers
(which use finite differences of the cost and the reference implementation).
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from verdicts import refuse

from backprop_book.exercises import any_width_any_depth as ex

pytestmark = pytest.mark.usefixtures("student")


def by_differences(f, z, h=1e-6):
    """Centered differences of a scalar function of the column z."""
    grad = np.zeros_like(z)
    for i in range(z.shape[0]):
        step = np.zeros_like(z)
        step[i, 0] = h
        grad[i, 0] = (f(z + step) - f(z - step)) / (2 * h)
    return grad


# ------------------------------------------------------------------ 1. the cost without 1/2


def test_no_half():
    n = ex.no_half_numbers()
    zs = sp.symbols("z_1:5")
    cost = sum((zk - yk) ** 2 for zk, yk in zip(zs, n["y"], strict=True))
    at = dict(zip(zs, n["a"], strict=True))
    right = np.array([[float(sp.diff(cost, zk).subs(at))] for zk in zs])
    assert ex.check_no_half(right)
    assert not ex.check_no_half(None)
    a = np.array(n["a"]).reshape(-1, 1)
    y = np.array(n["y"]).reshape(-1, 1)
    refuse(ex.check_no_half, a - y, "no 1/2")
    refuse(ex.check_no_half, (a - y) ** 2, "derivative")
    refuse(ex.check_no_half, -right, "opposite sign")
    refuse(ex.check_no_half, right.ravel(), "reshape(-1, 1)")
    sig = 1 / (1 + np.exp(-a))
    refuse(ex.check_no_half, right * sig * (1 - sig), "linear")


# ------------------------------------------------------------------ 2. one step back, 5 <- 3


def test_wide_step():
    n = ex.wide_step_numbers()
    W = np.array(n["W_next"], dtype=float)
    delta_next = np.array(n["delta_next"], dtype=float).reshape(-1, 1)
    z = np.array(n["z"], dtype=float).reshape(-1, 1)

    def cost(v):  # linear in z^(l+1) with gradient delta_next there
        return float((delta_next.T @ (W @ np.tanh(v)))[0, 0])

    right = by_differences(cost, z)
    assert ex.check_wide_step(right)
    assert not ex.check_wide_step(None)
    back = W.T @ delta_next
    refuse(ex.check_wide_step, back, "tanh'(z^(l)) is missing")
    refuse(ex.check_wide_step, back * (1 - np.tanh(np.tanh(z)) ** 2), "tanh'(tanh(z))")
    refuse(ex.check_wide_step, back * (1 - z**2), "1 - z^2")
    refuse(ex.check_wide_step, back * np.tanh(z), "the activation")
    refuse(ex.check_wide_step, -right, "opposite sign")
    refuse(ex.check_wide_step, right.T, "shape (5, 1)")
