"""The 2-2-2 chapter's checkers: right answers pass, placeholders wait, classic mistakes are named.

Every right answer here is computed independently of the checker: by SymPy, by centered
differences, or by enumerating paths.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import sympy as sp

import backprop_book as bp
from backprop_book import checkers
from backprop_book.checkers import NotQuiteRight
from backprop_book.exercises import two_two_two as ex


@pytest.fixture(autouse=True)
def book_numbers():
    """Every test starts and ends with the book's numbers (no student id)."""
    checkers.set_student(None)
    yield
    checkers.set_student(None)


def col(values) -> np.ndarray:
    return np.asarray(values, dtype=float).reshape(-1, 1)


def assert_not_done(verdict) -> None:
    assert not verdict.ok and "Not done yet" in str(verdict)


def assert_diagnosis(check, answer, text: str) -> None:
    with pytest.raises(NotQuiteRight, match=text):
        check(answer)


# ------------------------------------------------------------------ 1. dC/dW^(2)_21


def grad_w2_21_by_sympy(n: dict) -> float:
    """dC/dW2_21 = sum_j dC/dz2_j dz2_j/dW2_21, with z2 = W2 a1 + b2 written out in SymPy."""
    W2 = sp.Matrix(2, 2, lambda j, k: sp.Symbol(f"w{j}{k}"))
    z2 = W2 * sp.Matrix(n["a1"]) + sp.Matrix(sp.symbols("c0 c1"))
    linear_in_z2 = sum(d * z for d, z in zip(n["delta2"], z2, strict=True))
    return float(sp.diff(linear_in_z2, W2[1, 0]))


@pytest.mark.parametrize("student", [None, "ada", 17])
def test_grad_w2_21_right(student):
    checkers.set_student(student)
    n = ex.grad_w2_21_numbers()
    assert ex.check_grad_w2_21(grad_w2_21_by_sympy(n)).ok


def test_grad_w2_21_numbers_differ_per_student():
    default = ex.grad_w2_21_numbers()
    checkers.set_student("ada")
    assert ex.grad_w2_21_numbers() != default


def test_grad_w2_21_not_done():
    assert_not_done(ex.check_grad_w2_21(None))


def test_grad_w2_21_mistakes():
    n = ex.grad_w2_21_numbers()
    right = grad_w2_21_by_sympy(n)
    assert_diagnosis(ex.check_grad_w2_21, n["delta2"][0] * n["a1"][1], "W\\^\\(2\\)_12")
    assert_diagnosis(ex.check_grad_w2_21, n["delta2"][1] * n["x"][0], "input x")
    assert_diagnosis(ex.check_grad_w2_21, n["delta2"][1], "delta alone")
    assert_diagnosis(ex.check_grad_w2_21, -right, "opposite sign")


# ------------------------------------------------------------------ 2. delta^(1)


def delta1_by_differences(n: dict) -> np.ndarray:
    """dC/dz1 by centered differences of C(z1) = delta2 . (W2 sigma(z1)) (same derivative)."""
    W2, d2 = np.asarray(n["W2"], dtype=float), col(n["delta2"])

    def cost(z1):
        return float(np.sum(d2 * (W2 @ (1 / (1 + np.exp(-z1))))))

    return bp.numerical_gradient(cost, col(n["z1"]))


@pytest.mark.parametrize("student", [None, "grace"])
def test_delta1_right(student):
    checkers.set_student(student)
    assert ex.check_delta1(delta1_by_differences(ex.delta1_numbers())).ok


def test_delta1_not_done():
    assert_not_done(ex.check_delta1(None))
    assert_not_done(ex.check_delta1(...))


def test_delta1_mistakes():
    n = ex.delta1_numbers()
    W2, d2, z1 = np.asarray(n["W2"], dtype=float), col(n["delta2"]), col(n["z1"])
    s = 1 / (1 + np.exp(-z1))
    slope = s * (1 - s)
    assert_diagnosis(ex.check_delta1, (W2 @ d2) * slope, "transpose is missing")
    sa = 1 / (1 + np.exp(-s))
    assert_diagnosis(ex.check_delta1, (W2.T @ d2) * sa * (1 - sa), "at the activation")
    assert_diagnosis(ex.check_delta1, W2.T @ d2, "sigma'\\(z\\^\\(1\\)\\) is missing")
    assert_diagnosis(ex.check_delta1, (W2.T @ d2) * s, "the activation")
    assert_diagnosis(ex.check_delta1, ((W2.T @ d2) * slope).ravel(), "reshape")


# ------------------------------------------------------------------ 3. counting paths


def paths_by_enumeration(n: int, L: int) -> int:
    """List every path: one neuron in each of layers 2..L (layer 1's neuron is fixed)."""
    return len(list(itertools.product(range(n), repeat=L - 1)))


def test_paths_right():
    assert ex.check_paths(paths_by_enumeration).ok
    assert paths_by_enumeration(2, 2) == 2


def test_paths_not_done():
    assert_not_done(ex.check_paths(None))

    def stub(n, L):
        raise NotImplementedError("Exercise: write this part")

    assert_not_done(ex.check_paths(stub))


def test_paths_mistakes():
    assert_diagnosis(ex.check_paths, lambda n, L: n**L, "free choice in layer 1")
    assert_diagnosis(ex.check_paths, lambda n, L: n * (L - 1), "multiply")
    assert_diagnosis(ex.check_paths, lambda n, L: n + L, "paths\\(n, L\\), called with")
    assert_diagnosis(ex.check_paths, 4, "should be a function")


# ------------------------------------------------------------------ 4. spot the bug


def right_letter_by_differences() -> str:
    """The rule whose step equals params - eta * (centered-difference gradient)."""
    rng = np.random.default_rng(31)
    params = bp.init_params([2, 2, 2], seed=31, scale=1.0)
    x, y, eta = rng.uniform(-1.5, 1.5, (2, 1)), rng.uniform(0.1, 0.9, (2, 1)), 0.3
    flat = bp.flatten(params)

    def cost(v):
        return bp.loss(bp.unflatten(v, params), x, y, ["sigmoid", "sigmoid"], "squared_error")

    target = flat - eta * bp.numerical_gradient(cost, flat.copy())
    matches = [
        letter
        for letter, rule in ex.update_rules().items()
        if np.allclose(bp.flatten(rule(params, x, y, eta)), target, atol=1e-9)
    ]
    assert len(matches) == 1, matches
    return matches[0]


@pytest.mark.parametrize("student", [None, "alan", "emmy"])
def test_update_rule_right(student):
    checkers.set_student(student)
    letter = right_letter_by_differences()
    assert ex.check_update_rule(letter).ok
    assert ex.check_update_rule(letter.lower()).ok


def test_update_rule_not_done():
    assert_not_done(ex.check_update_rule(None))


def test_update_rule_mistakes():
    rules = ex.update_rules()
    by_rule = {rule.__name__: letter for letter, rule in rules.items()}
    assert_diagnosis(ex.check_update_rule, by_rule["rule_sign"], "climbs the cost")
    assert_diagnosis(ex.check_update_rule, by_rule["rule_no_transpose"], "without the transpose")
    assert_diagnosis(ex.check_update_rule, by_rule["rule_slope_at_a"], "activations a")
    assert_diagnosis(ex.check_update_rule, by_rule["rule_outer_flipped"], "transpose of")
    assert_diagnosis(ex.check_update_rule, "Z", "one letter")
    assert_diagnosis(ex.check_update_rule, 3, "one letter")


def test_update_rule_letters_shuffle_per_student():
    default = [rule.__name__ for rule in ex.update_rules().values()]
    orders = set()
    for student in ("a", "b", "c", "d"):
        checkers.set_student(student)
        orders.add(tuple(rule.__name__ for rule in ex.update_rules().values()))
    assert sorted(default) == sorted(next(iter(orders)))
    assert len(orders) > 1
