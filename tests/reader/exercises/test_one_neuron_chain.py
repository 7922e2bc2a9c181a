"""The 1-1-1 chapter's checkers: each accepts the right answer and diagnoses typical wrong ones.

Right answers here come from SymPy, independently of the checkers (which use the reference).
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from verdicts import refuse

from backprop_book.checkers import NotQuiteRight
from backprop_book.exercises import one_neuron_chain as ex

w1, b1, w2, b2, x, y, z = sp.symbols("w1 b1 w2 b2 x y z", real=True)


def sig(t):
    return 1 / (1 + sp.exp(-t))


A1 = sig(w1 * x + b1)
A2 = sig(w2 * A1 + b2)
C = (A2 - y) ** 2


pytestmark = pytest.mark.usefixtures("student")


def at(expr, n):
    return float(expr.subs({w1: n["w1"], b1: n["b1"], w2: n["w2"], b2: n["b2"], x: n["x"],
                            y: n["y"]}))


def test_sigmoid_slope():
    zv = ex.sigmoid_slope_numbers()["z"]
    right = float(sp.diff(sig(z), z).subs(z, zv))
    assert ex.check_sigmoid_slope(right)
    assert not ex.check_sigmoid_slope(None)
    refuse(ex.check_sigmoid_slope, zv * (1 - zv), "at a = z")
    refuse(ex.check_sigmoid_slope, float(sig(z).subs(z, zv)), "sigma(z) itself")
    refuse(ex.check_sigmoid_slope, -right, "opposite sign")


def test_grad_w1():
    n = ex.chain_numbers()
    right = at(sp.diff(C, w1), n)
    assert ex.check_grad_w1(right)
    assert ex.check_grad_w1(np.float64(right))
    assert not ex.check_grad_w1(None)
    refuse(ex.check_grad_w1, -right, "opposite sign")
    refuse(ex.check_grad_w1, right / 2, "half")
    refuse(ex.check_grad_w1, at(sp.diff(C, w2), n), "that is dC/dw2")
    refuse(ex.check_grad_w1, right / n["w2"], "factor w2")
    refuse(ex.check_grad_w1, "0.1", "you gave a str")


def test_sensitivity():
    n = ex.chain_numbers(ex.SENSITIVITY)
    a1 = sp.Symbol("a1")
    right = float(sp.diff((sig(w2 * a1 + b2) - y) ** 2, a1).subs(a1, A1).subs(
        {w1: n["w1"], b1: n["b1"], w2: n["w2"], b2: n["b2"], x: n["x"], y: n["y"]}))
    assert ex.check_sensitivity(right)
    refuse(ex.check_sensitivity, right / n["w2"], "that is delta2")
    a1v = at(A1, n)
    refuse(ex.check_sensitivity, right / n["w2"] * a1v, "multiplied by a1")
    refuse(ex.check_sensitivity, float("nan"), "NaN")


def test_tanh_derivative():
    assert ex.check_tanh_derivative(sp.diff(sp.tanh(z), z))
    assert ex.check_tanh_derivative(1 / sp.cosh(sp.Symbol("z")) ** 2)
    assert not ex.check_tanh_derivative(None)
    refuse(ex.check_tanh_derivative, 1 - sp.tanh(z), "square is missing")
    refuse(ex.check_tanh_derivative, sp.tanh(z) * (1 - sp.tanh(z)), "sigmoid's slope")


def test_tanh_chain():
    Ct = (sig(w2 * sp.tanh(w1 * x + b1) + b2) - y) ** 2
    right = sp.lambdify((w1, b1, w2, b2, x, y), sp.diff(Ct, w1))
    assert ex.check_tanh_chain(right)

    def unfinished(*args):
        raise NotImplementedError("Exercise: write this part")

    assert not ex.check_tanh_chain(unfinished)
    def sigmoid_slope(w1, b1, w2, b2, x, y):  # the hidden slope left as sigma'(z1)
        s1 = 1 / (1 + np.exp(-(w1 * x + b1)))
        a2 = 1 / (1 + np.exp(-(w2 * np.tanh(w1 * x + b1) + b2)))
        return 2 * (a2 - y) * a2 * (1 - a2) * w2 * s1 * (1 - s1) * x

    refuse(ex.check_tanh_chain, sigmoid_slope, "still the sigmoid's")
    with pytest.raises(NotQuiteRight):
        ex.check_tanh_chain(lambda *a: -right(*a))
    with pytest.raises(NotQuiteRight, match="raised"):
        ex.check_tanh_chain(lambda w1: w1)
