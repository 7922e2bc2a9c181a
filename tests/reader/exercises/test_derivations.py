"""The derivation exercises: a formula typed by the reader, checked by SymPy.

Each right formula is the book's own solution (read from the chapter) and is first shown
to be the derivative by SymPy differentiating the cost itself, at a point, independently
of the checker. Then: the checker accepts it (and another form of it, and a SymPy
expression), waits on the placeholder, names each classic mistake, and explains a string
it cannot read.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import sympy as sp
from verdicts import refuse

from backprop_book.exercises import any_width_any_depth as ex_any
from backprop_book.exercises import batched_backprop as ex_batch
from backprop_book.exercises import deep_training as ex_deep
from backprop_book.exercises import one_neuron_chain as ex_111
from backprop_book.exercises import softmax_four_layer as ex_sm
from backprop_book.exercises import two_two_two as ex_222
from bookkit.paths import BOOK

pytestmark = pytest.mark.usefixtures("student")


def solution(notebook: str, cell: str, name: str) -> str:
    nb = json.loads((BOOK / f"{notebook}.ipynb").read_text())
    source = "".join(next(c for c in nb["cells"] if c["id"] == cell)["source"])
    ns: dict = {}
    exec(source, ns)
    return ns[name]


def sig(t):
    return 1 / (1 + sp.exp(-t))


def value(formula: str, at: dict) -> float:
    return float(sp.sympify(formula.replace("^", "**"), locals={k: sp.Symbol(k) for k in at})
                 .subs({sp.Symbol(k): v for k, v in at.items()}))


# ------------------------------------------------------------------ the formulas are derivatives


def test_the_111_formulas_are_the_chains_derivatives():
    w1, b1, w2, b2, x, y = sp.symbols("w1 b1 w2 b2 x y", real=True)
    a1 = sig(w1 * x + b1)
    a2 = sig(w2 * a1 + b2)
    C = (a2 - y) ** 2
    point = {w1: 0.7, b1: -0.3, w2: -1.2, b2: 0.4, x: 1.3, y: 0.2}
    at = {"x": 1.3, "y": 0.2, "w2": -1.2, "a1": float(a1.subs(point)),
          "a2": float(a2.subs(point))}
    for var, name in ((w2, "dC_dw2_formula"), (w1, "dC_dw1_formula")):
        formula = solution("one-neuron-chain", "ex111-derive-sol", name)
        assert np.isclose(value(formula, at), float(sp.diff(C, var).subs(point)), rtol=1e-12)


def test_the_222_formula_is_the_derivative():
    W1 = sp.Matrix(2, 2, sp.symbols("p11 p12 p21 p22"))
    W2 = sp.Matrix(2, 2, sp.symbols("q11 q12 q21 q22"))
    xs, ys = sp.Matrix(sp.symbols("x1 x2")), sp.Matrix(sp.symbols("y1 y2"))
    a1 = (W1 * xs).applyfunc(sig)
    a2 = (W2 * a1).applyfunc(sig)
    C = sum((a2[j] - ys[j]) ** 2 for j in range(2)) / 2
    rng = np.random.default_rng(5)
    point = dict(zip(list(W1) + list(W2) + list(xs) + list(ys), rng.uniform(-1, 1, 12),
                     strict=True))
    at = {"x_1": point[xs[0]], "x_2": point[xs[1]], "y_1": point[ys[0]], "y_2": point[ys[1]]}
    at |= {f"a1_{j + 1}": float(a1[j].subs(point)) for j in range(2)}
    at |= {f"a2_{j + 1}": float(a2[j].subs(point)) for j in range(2)}
    at |= {f"W2_{j + 1}{k + 1}": point[W2[j, k]] for j in range(2) for k in range(2)}
    formula = solution("two-two-two", "ex222-derive-sol", "dW1_12_formula")
    assert np.isclose(value(formula, at), float(sp.diff(C, W1[0, 1]).subs(point)), rtol=1e-10)


def test_the_softmax_formula_is_the_derivative():
    z = sp.symbols("z1:4")
    y = (0.2, 0.5, 0.3)  # a soft target: the y add up to 1
    s = [sp.exp(zj) / sum(sp.exp(zk) for zk in z) for zj in z]
    C = -sum(yj * sp.log(sj) for yj, sj in zip(y, s, strict=True))
    point = dict(zip(z, (0.3, -1.1, 0.8), strict=True))
    at = {f"s_{j + 1}": float(s[j].subs(point)) for j in range(3)}
    at |= {f"y_{j + 1}": y[j] for j in range(3)}
    formula = solution("softmax-four-layer", "exsm-derive-sol", "dC_dz1_formula")
    assert np.isclose(value(formula, at), float(sp.diff(C, z[0]).subs(point)), rtol=1e-12)


def test_the_hidden_delta_formula_is_the_derivative():
    z1, z2, d1, d2 = sp.symbols("z1 z2 d1 d2")
    W = sp.Matrix(2, 2, sp.symbols("w11 w12 w21 w22"))
    # C depends on z^(l+1) = W tanh(z^(l)) only through d = dC/dz^(l+1), linearly near a point
    zn = W * sp.Matrix([sp.tanh(z1), sp.tanh(z2)])
    C = d1 * zn[0] + d2 * zn[1]
    point = {z1: 0.4, z2: -0.9, d1: 0.3, d2: -0.7, W[0, 0]: 0.5, W[0, 1]: -1.1,
             W[1, 0]: 0.8, W[1, 1]: 0.2}
    at = {"d_1": 0.3, "d_2": -0.7, "W_11": 0.5, "W_12": -1.1, "W_21": 0.8, "W_22": 0.2,
          "t_1": float(sp.tanh(0.4))}
    formula = solution("any-width-any-depth", "exany-derive-sol", "delta_formula")
    assert np.isclose(value(formula, at), float(sp.diff(C, z1).subs(point)), rtol=1e-12)


def test_the_batch_bias_formula_is_the_derivative():
    b, z1, z2, y1, y2 = sp.symbols("b z1 z2 y1 y2")
    a = [sig(z1 + b), sig(z2 + b)]
    C = ((a[0] - y1) ** 2 / 2 + (a[1] - y2) ** 2 / 2) / 2
    point = {b: 0.1, z1: 0.6, z2: -1.3, y1: 0.9, y2: 0.2}
    at = {"a_1": float(a[0].subs(point)), "a_2": float(a[1].subs(point)), "y_1": 0.9,
          "y_2": 0.2}
    formula = solution("batched-backprop", "exbatch-derive-sol", "dC_db_formula")
    assert np.isclose(value(formula, at), float(sp.diff(C, b).subs(point)), rtol=1e-12)


def test_the_l2_formula_is_the_derivative():
    w, lam = sp.symbols("w lam")
    C = sp.Function("C")(w) + lam / 2 * w**2
    g = sp.diff(sp.Function("C")(w), w)
    formula = solution("making-deep-networks-train", "deep-ex-derive-sol", "penalized_formula")
    assert sp.simplify(sp.sympify(formula, locals={"g": g, "lam": lam, "w": w})
                       - sp.diff(C, w)) == 0


# ------------------------------------------------------------------ what the checkers say

CASES = [
    (ex_111.check_derive_dw2, "one-neuron-chain", "ex111-derive-sol", "dC_dw2_formula", [
        ("(a2 - y)*a2*(1 - a2)*a1", "the factor 2 (from the square) is missing"),
        ("2*(a2 - y)*a1", "the factor sigma'(z2) = a2*(1 - a2) is missing"),
        ("2*(y - a2)*a2*(1 - a2)*a1", "the sign is flipped"),
        ("2*(a2-y)*sigma(a2)*(1-sigma(a2))*a1", "taken at the activation"),
        ("2*(a2 - y)*a2*(1 - a2)*a2", "you used a2 where a1 belongs"),
        ("2*(a2 - y)*a2*(1 - a2)*a1*w2", "extra factor w2"),
    ]),
    (ex_111.check_derive_dw1, "one-neuron-chain", "ex111-derive-sol", "dC_dw1_formula", [
        ("2*(a2 - y)*a2*(1 - a2)*w2*x", "sigma'(z1) = a1*(1 - a1) is missing"),
        ("2*(a2 - y)*w2*a1*(1 - a1)*x", "sigma'(z2) = a2*(1 - a2) is missing"),
        ("2*(a2 - y)*a2*(1 - a2)*w2*a1*(1 - a1)*a1", "you used a1 where x belongs"),
        ("2*(a2 - y)*a2*(1 - a2)*a1", "that is dC/dw2"),
        ("2*(a2 - y)*a2*(1 - a2)*w2*sigma(a1)*(1 - sigma(a1))*x",
         "the slope of neuron 1 was taken at its activation, sigma'(a1)"),
        ("2*(a2 - y)*sigma(a2)*(1 - sigma(a2))*w2*sigma(a1)*(1 - sigma(a1))*x",
         "slopes were taken at the activations"),
    ]),
    (ex_222.check_derive_dw1_12, "two-two-two", "ex222-derive-sol", "dW1_12_formula", [
        ("(a2_1 - y_1)*a2_1*(1 - a2_1)*W2_11*a1_1*(1 - a1_1)*x_2", "only the path through "
         "output neuron 1"),
        ("((a2_1 - y_1)*a2_1*(1 - a2_1)*W2_11 + (a2_2 - y_2)*a2_2*(1 - a2_2)*W2_12)"
         "*a1_1*(1 - a1_1)*x_2", "COLUMN 1"),
        ("((a2_1 - y_1)*a2_1*(1 - a2_1)*W2_11 + (a2_2 - y_2)*a2_2*(1 - a2_2)*W2_21)"
         "*a1_1*(1 - a1_1)*x_1", "you used x_1 where x_2 belongs"),
        ("((a2_1 - y_1)*a2_1*(1 - a2_1)*W2_11 + (a2_2 - y_2)*a2_2*(1 - a2_2)*W2_21)"
         "*a1_2*(1 - a1_2)*x_2", "you used a1_2 where a1_1 belongs"),
        ("((a2_1 - y_1)*a2_1*(1 - a2_1)*W2_11 + (a2_2 - y_2)*a2_2*(1 - a2_2)*W2_21)"
         "*sigma(a1_1)*(1 - sigma(a1_1))*x_2", "taken at its activation, sigma'(a1_1)"),
    ]),
    (ex_sm.check_derive_ce_logit, "softmax-four-layer", "exsm-derive-sol", "dC_dz1_formula", [
        ("-y_1/s_1", "that is dC/ds_1"),
        ("(s_1 - y_1)*s_1*(1 - s_1)", "counts it twice"),
        ("-y_1*(1 - s_1)", "only the Jacobian's diagonal"),
        ("y_1 - s_1", "the sign is flipped"),
    ]),
    (ex_any.check_derive_hidden_delta, "any-width-any-depth", "exany-derive-sol",
     "delta_formula", [
        ("(W_11*d_1 + W_12*d_2)*(1 - t_1**2)", "the transpose"),
        ("(W_11*d_1 + W_21*d_2)", "tanh'(z_1) = 1 - t_1**2 is missing"),
        ("(W_11*d_1 + W_21*d_2)*t_1*(1 - t_1)", "the sigmoid's slope"),
        ("(W_11*d_1 + W_21*d_2)*(1 - t_1)", "missing its square"),
        ("(W_11*d_2 + W_21*d_1)*(1 - t_1**2)", "d_1 and d_2 are swapped"),
        ("(1 - tanh(t_1)**2)*(W_11*d_1 + W_21*d_2)", "taken at the activation"),
    ]),
    (ex_batch.check_derive_batch_bias, "batched-backprop", "exbatch-derive-sol",
     "dC_db_formula", [
        ("(a_1 - y_1)*a_1*(1 - a_1) + (a_2 - y_2)*a_2*(1 - a_2)", "1/m = 1/2"),
        ("(a_1 - y_1)*a_1*(1 - a_1)/2", "the first sample's share only"),
        ("((a_1 - y_1) + (a_2 - y_2))/2", "the sigmoid's slope is missing"),
        ("((a_1 - y_1)*sigma(a_1)*(1 - sigma(a_1)) + (a_2 - y_2)*sigma(a_2)*(1 - sigma(a_2)))"
         "/2", "taken at the activation, sigma'(a_i)"),
    ]),
    (ex_deep.check_derive_l2, "making-deep-networks-train", "deep-ex-derive-sol",
     "penalized_formula", [
        ("g + 2*lam*w", "twice too large"),
        ("g + lam*w/2", "half the right size"),
        ("g - lam*w", "wrong sign"),
        ("lam*w", "data gradient g is missing"),
        ("g + lam*w^2/2", "the penalty itself"),
    ]),
]
IDS = [case[3] for case in CASES]


@pytest.mark.parametrize(("check", "notebook", "cell", "name", "mistakes"), CASES, ids=IDS)
def test_right_forms_and_the_placeholder(check, notebook, cell, name, mistakes):
    formula = solution(notebook, cell, name)
    assert check(formula)
    assert check(" ".join(formula.split()).replace("**", "^"))  # ^ for a power counts too
    names = sorted({t for t in formula.replace("(", " ").replace(")", " ").replace("*", " ")
                    .replace("/", " ").replace("+", " ").replace("-", " ").split()
                    if t[0].isalpha()})
    as_sympy = sp.sympify(formula, locals={n: sp.Symbol(n) for n in names})
    assert check(sp.expand(as_sympy))  # a SymPy expression, multiplied out
    assert not check(None)


@pytest.mark.parametrize(("check", "notebook", "cell", "name", "mistakes"), CASES, ids=IDS)
def test_each_classic_mistake_is_named(check, notebook, cell, name, mistakes):
    for wrong, says in mistakes:
        refuse(check, wrong, says)


@pytest.mark.parametrize(("check", "notebook", "cell", "name", "mistakes"), CASES, ids=IDS)
def test_what_cannot_be_read(check, notebook, cell, name, mistakes):
    refuse(check, "2*(a - b", "it opens 1 parenthesis and closes 0")
    refuse(check, "3 +* 4", "could not read")
    refuse(check, "", "empty string")
    refuse(check, "2*zeta", "uses zeta, which this exercise does not have")
    refuse(check, 0.25, "0.25 is a number; type the formula itself")
    refuse(check, [1, 2], "should be a formula")


def test_a_call_where_a_product_belongs():
    refuse(ex_111.check_derive_dw2, "2*(a2 - y)*a2(1 - a2)*a1", "write a product with *")
