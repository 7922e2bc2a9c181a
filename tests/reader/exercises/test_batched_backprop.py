"""The batch chapter's checkers: each accepts the right answer and diagnoses typical wrong ones.

Right answers here come from SymPy (a batch cost written out entry by entry and
differentiated), independently of the checkers (which use finite differences and the
reference implementation).
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from verdicts import refuse

from backprop_book.checkers import set_student
from backprop_book.exercises import batched_backprop as ex

pytestmark = pytest.mark.usefixtures("student")


def sympy_grads(Delta: np.ndarray, A_prev: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """dC/dW and dC/db for C = sum_ji Delta_ji Z_ji with Z = W A_prev + b 1^T, by SymPy."""
    n, m = Delta.shape
    k = A_prev.shape[0]
    W = sp.Matrix(n, k, lambda j, c: sp.Symbol(f"w_{j}{c}"))
    b = sp.Matrix(n, 1, lambda j, _: sp.Symbol(f"b_{j}"))
    Z = W * sp.Matrix(A_prev) + b * sp.ones(1, m)
    C = sum(sp.nsimplify(Delta[j, i]) * Z[j, i] for j in range(n) for i in range(m))
    dW = np.array([[float(sp.diff(C, W[j, c])) for c in range(k)] for j in range(n)])
    db = np.array([[float(sp.diff(C, b[j]))] for j in range(n)])
    return dW, db


def test_bias_grad():
    Delta = np.asarray(ex.bias_grad_numbers()["Delta"], dtype=float)
    m = Delta.shape[1]
    _, right = sympy_grads(Delta, np.ones((1, m)))
    assert ex.check_bias_grad(right)
    assert ex.check_bias_grad(right.tolist())
    assert not ex.check_bias_grad(None)
    assert not ex.check_bias_grad(...)
    refuse(ex.check_bias_grad, Delta, "summed over the batch")
    refuse(ex.check_bias_grad, right / m, "1/m is applied twice")
    refuse(ex.check_bias_grad, right.ravel(), "1-D array")
    refuse(ex.check_bias_grad, Delta.sum(axis=0), "over the neurons, axis=0")


def test_grad_shape():
    n = ex.grad_shape_numbers()
    sizes, layer, m = n["sizes"], n["layer"], n["m"]
    right = (sizes[layer], sizes[layer - 1])
    assert ex.check_grad_shape(right)
    assert ex.check_grad_shape(np.zeros(right).shape)
    assert not ex.check_grad_shape(None)
    refuse(ex.check_grad_shape, right[::-1], "transposed")
    refuse(ex.check_grad_shape, (sizes[layer], m), "shape of Delta")
    refuse(ex.check_grad_shape, (m, *right), "one matrix per sample")


def test_weight_grad():
    n = ex.weight_grad_numbers()
    D, A = np.asarray(n["D"], dtype=float), np.asarray(n["A_prev"], dtype=float)
    m = D.shape[1]
    right, _ = sympy_grads(D / m, A)
    assert ex.check_weight_grad(right)
    assert not ex.check_weight_grad(None)
    refuse(ex.check_weight_grad, right * m, "1/m of the mean is missing")
    refuse(ex.check_weight_grad, right.T, "shape")
    refuse(ex.check_weight_grad, np.outer(D.mean(axis=1), A.mean(axis=1)), "product of the means")
    refuse(ex.check_weight_grad, np.outer(D[:, 0], A[:, 0]), "only the first sample")


def test_l2_grad():
    n = ex.l2_grad_numbers()
    W0, G = np.asarray(n["W"], dtype=float), np.asarray(n["dW_data"], dtype=float)
    lam_v, m = n["lam"], n["m"]
    w, g, lam = sp.symbols("w g lambda", real=True)
    dC_dw = sp.diff(g * w + lam / 2 * w**2, w)  # one weight: data term linear, then the penalty
    f = sp.lambdify((w, g, lam), dC_dw)
    right = f(W0, G, lam_v)
    assert ex.check_l2_grad(right)
    assert not ex.check_l2_grad(None)
    refuse(ex.check_l2_grad, G + 2 * lam_v * W0, "twice too large")
    refuse(ex.check_l2_grad, G - lam_v * W0, "wrong sign")
    refuse(ex.check_l2_grad, G + lam_v * W0 / m, "divided by m")
    refuse(ex.check_l2_grad, lam_v * W0, "data gradient dW_data is missing")


def test_numbers_differ_per_student():
    set_student(None)
    book = ex.bias_grad_numbers()
    set_student("someone-else")
    assert ex.bias_grad_numbers() != book
    set_student(None)


def test_numbers_table_labels_every_given():
    text = ex.numbers_table(ex.l2_grad_numbers())
    for key in ("W =", "dW_data =", "lam =", "m ="):
        assert key in text
