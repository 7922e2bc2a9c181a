"""Exercises of the softmax chapter (four layers, softmax and cross-entropy): numbers and checkers.

The network: z^(l) = W^(l) a^(l-1) + b^(l), sigmoid hidden layers, s = softmax(z^(L)) and, for one
sample with target y, C = -sum_j y_j log s_j. Then dC/dz^(L) = s - y for any target whose entries
sum to 1, and delta^(l) = (W^(l+1))^T delta^(l+1) * sigma'(z^(l)).

Right answers come from independent sources, never from the formulas above: SymPy's ``diff``
(the 2-class Jacobian), the reference implementation :mod:`backprop_book.reference` run on a
tiny network built to have the given numbers (smoothing, hidden delta), and mpmath at 40
digits (log-sum-exp). The classic wrong answers are built from the same numbers.
"""

from __future__ import annotations

import mpmath
import numpy as np
import sympy as sp

from .. import reference as ref
from ..checkers import (
    NotQuiteRight,
    Verdict,
    _same_expr,
    a_kind,
    check_array,
    check_expr,
    given,
    is_placeholder,
    not_done,
    right,
)
from ..codecheck import fresh_rngs
from ..derivations import check_derivation
from . import _dense

JACOBIAN2 = "ex-softmax-jacobian2"
SMOOTHING = "ex-softmax-smoothing"
HIDDEN_DELTA = "ex-softmax-hidden-delta"
LSE = "ex-softmax-lse"
BACKWARD = "ex-softmax-backward"
SIZES = [4, 3, 3, 3]
ACTIVATIONS = ["sigmoid", "sigmoid", "softmax"]


def _column(values) -> np.ndarray:
    return np.asarray(values, dtype=float).reshape(-1, 1)


def _signed(rng: np.random.Generator, low: float, high: float, size: int) -> list[float]:
    """``size`` numbers with random signs and magnitudes in [low, high], rounded to 2 places."""
    values = rng.choice([-1, 1], size=size) * rng.uniform(low, high, size=size)
    return [round(float(v), 2) for v in values]


def _one_hot(c: int, n: int) -> np.ndarray:
    y = np.zeros((n, 1))
    y[c, 0] = 1.0
    return y


# ------------------------------------------------------------------ 1. 2-class Jacobian


def jacobian2_symbols() -> tuple[sp.Symbol, sp.Symbol]:
    """The logits z_1, z_2 of the two-class softmax, as SymPy symbols."""
    return sp.symbols("z_1 z_2")


def _as_matrix(answer: object, what: str) -> sp.Matrix:
    """The answer as a SymPy Matrix whose z_1, z_2 are ours (matched by name)."""
    try:
        M = sp.Matrix(answer)
    except (TypeError, ValueError, sp.SympifyError):
        raise NotQuiteRight(
            f"{what} should be a 2 x 2 sp.Matrix; could not read {a_kind(answer)} as one."
        ) from None
    if M.shape != (2, 2):
        raise NotQuiteRight(f"{what} should have shape (2, 2); yours has shape {M.shape}.")
    ours = {str(s): s for s in jacobian2_symbols()}
    rename = {s: ours[s.name] for s in M.free_symbols if s.name in ours}
    return M.xreplace(rename)


def check_jacobian2(answer: object) -> Verdict:
    """J_ij = ds_i/dz_j of the softmax of (z_1, z_2), a 2 x 2 SymPy Matrix in z_1, z_2."""
    what = "The softmax Jacobian"
    if is_placeholder(answer):
        return not_done(what)
    J = _as_matrix(answer, what)
    z = sp.Matrix(jacobian2_symbols())
    e = z.applyfunc(sp.exp)
    s = e / (e[0] + e[1])
    expected = sp.Matrix(2, 2, lambda i, j: sp.diff(s[i], z[j]))
    diagonal_only = sp.diag(*[s[i] * (1 - s[i]) for i in range(2)])
    mistakes = {
        "you have only the diagonal s_i(1 - s_i). Every s_i shares the denominator "
        "e^{z_1} + e^{z_2}, so z_2 moves s_1 too: the off-diagonal entries are -s_1 s_2.":
            diagonal_only,
        "the off-diagonal entries have the wrong sign. Raising z_2 makes s_2 larger and, since "
        "the probabilities sum to 1, s_1 smaller: ds_1/dz_2 = -s_1 s_2.":
            diagonal_only + sp.Matrix([[0, s[0] * s[1]], [s[0] * s[1], 0]]),
        "that is diag(s) alone, the derivative of the numerators e^{z_i} divided by a fixed "
        "denominator. The denominator depends on z too, which gives the extra -s s^T.":
            sp.diag(*s),
        "the whole matrix has the opposite sign: it is s s^T - diag(s).": -expected,
    }
    for diagnosis, wrong in mistakes.items():
        if all(_same_expr(J[k], wrong[k], 4, 0) for k in range(4)):
            raise NotQuiteRight(f"{what}: {diagnosis}")
    for i in range(2):
        for j in range(2):
            check_expr(J[i, j], expected[i, j], what=f"entry J[{i}, {j}] = ds_{i + 1}/dz_{j + 1}")
    return right(what, "(SymPy agrees entry by entry.)")


# ------------------------------------------------------------------ 2. label smoothing


def smoothing_numbers() -> dict:
    """Logits z (4 classes), the true class c (a Python index) and the smoothing eps."""
    return given(
        SMOOTHING,
        {"z": [2.1, -0.4, 0.9, -1.7], "c": 2, "eps": 0.1},
        lambda rng: {
            "z": _signed(rng, 0.2, 2.5, 4),
            "c": int(rng.integers(0, 4)),
            "eps": round(float(rng.uniform(0.05, 0.3)), 2),
        },
    )


def _softmax_layer_delta(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The reference's dC/dz of a one-layer network (W = I, b = 0, softmax) fed with x = z."""
    n = z.shape[0]
    params = [(np.eye(n), np.zeros((n, 1)))]
    cache = ref.forward(params, z, ["softmax"])
    return ref.backward_deltas(params, cache, y, ["softmax"], "cross_entropy")[1]


def check_smoothing(answer: object) -> Verdict:
    """dC/dz for the smoothed target (1 - eps) y + eps / K, a column of shape (4, 1)."""
    n = smoothing_numbers()
    z, K, eps = _column(n["z"]), len(n["z"]), n["eps"]
    one_hot = _one_hot(n["c"], K)
    y_smooth = (1 - eps) * one_hot + eps / K
    s = ref.softmax(z)
    other_convention = np.where(one_hot == 1, 1 - eps, eps / (K - 1))
    return check_array(
        answer,
        _softmax_layer_delta(z, y_smooth),
        what="dC/dz",
        mistakes={
            "that is s - y for the one-hot y. With smoothing the target is y_smooth = "
            "(1 - eps) y + eps/K, and the gradient is s - y_smooth.": s - one_hot,
            "that is dC/ds = -y_smooth / s, the gradient before the softmax. One more step "
            "through the softmax's Jacobian takes it to z.": -y_smooth / s,
            "you spread eps over the K - 1 wrong classes. This exercise's target is "
            "(1 - eps) y + eps/K: every class, the true one included, gets eps/K.":
                s - other_convention,
            "you multiplied s - y_smooth by s(1 - s) entry by entry. s - y_smooth is already "
            "dC/dz: the softmax's Jacobian was used up in getting there.":
                (s - y_smooth) * s * (1 - s),
        },
    )


# ------------------------------------------------------------------ 3. hidden delta


def hidden_delta_numbers() -> dict:
    """W^(3) (3 x 3, rows = 'to'), the logits z^(3), the true class c and z^(2)."""
    return given(
        HIDDEN_DELTA,
        {"W3": [[0.8, -1.1, 0.3], [-0.5, 0.9, 1.4], [1.2, 0.4, -0.7]],
         "z3": [0.6, -0.9, 1.3], "c": 0, "z2": [0.4, -1.3, 0.8]},
        lambda rng: {
            "W3": [_signed(rng, 0.2, 1.6, 3) for _ in range(3)],
            "z3": _signed(rng, 0.2, 1.8, 3),
            "c": int(rng.integers(0, 3)),
            "z2": _signed(rng, 0.2, 1.8, 3),
        },
    )


def _reference_hidden_delta(W3: np.ndarray, z3: np.ndarray, y: np.ndarray, z2: np.ndarray):
    """The reference's delta of the hidden layer of a network built to have these numbers.

    Layer 1 is the identity map (W = I, b = 0, sigmoid) fed with x = z^(2), so its z is the given
    z^(2); layer 2 has weights W3 and the bias that makes its logits the given z^(3).
    """
    b3 = z3 - W3 @ ref.sigmoid(z2)
    params = [(np.eye(3), np.zeros((3, 1))), (W3, b3)]
    names = ["sigmoid", "softmax"]
    cache = ref.forward(params, z2, names)
    return ref.backward_deltas(params, cache, y, names, "cross_entropy")[1]


def check_hidden_delta(answer: object) -> Verdict:
    """delta^(2) at the given numbers, a column of shape (3, 1)."""
    n = hidden_delta_numbers()
    W3, z3, z2 = np.asarray(n["W3"], dtype=float), _column(n["z3"]), _column(n["z2"])
    y = _one_hot(n["c"], 3)
    s, slope = ref.softmax(z3), ref.sigmoid_prime(z2)
    delta3 = s - y
    diagonal_only = -(1 - s) * y  # s(1 - s) * dC/ds with dC/ds = -y/s
    return check_array(
        answer,
        _reference_hidden_delta(W3, z3, y, z2),
        what="delta^(2)",
        mistakes={
            "the transpose is missing. Neuron k of layer 2 sends its output along column k "
            "of W^(3), so it collects (W^(3))^T delta^(3).": (W3 @ delta3) * slope,
            "the slope was taken at the activation, sigma'(sigma(z)). It belongs at z^(2): "
            "sigma'(z^(2)).": (W3.T @ delta3) * ref.sigmoid_prime(ref.sigmoid(z2)),
            "the factor sigma'(z^(2)) is missing: (W^(3))^T delta^(3) is dC/da^(2); one more "
            "step takes it to z^(2).": W3.T @ delta3,
            "you multiplied by sigma(z^(2)), the activation; the factor is its slope "
            "sigma'(z^(2)) = sigma(z)(1 - sigma(z)).": (W3.T @ delta3) * ref.sigmoid(z2),
            "your delta^(3) used only the diagonal of the softmax Jacobian. The output delta "
            "is s - y, with every class's probability in it.": (W3.T @ diagonal_only) * slope,
        },
    )


# ------------------------------------------------------------------ 4. log-sum-exp


def lse_numbers() -> dict:
    """Four extreme logits z."""

    def draw(rng: np.random.Generator) -> dict:
        big = float(rng.uniform(720, 1500))
        z = [big, big - rng.uniform(0.2, 3), big - rng.uniform(0.2, 3), -big]
        return {"z": [round(float(v), 2) for v in rng.permutation(z)]}

    return given(LSE, {"z": [1000.0, 998.2, -1000.0, 999.5]}, draw)


def _lse_exact(z: list[float]) -> float:
    with mpmath.workdps(40):
        return float(mpmath.log(mpmath.fsum(mpmath.exp(mpmath.mpf(v)) for v in z)))


def check_lse(answer: object) -> Verdict:
    """log(sum_j e^{z_j}) for the given logits, a number."""
    what = "log-sum-exp"
    if is_placeholder(answer):
        return not_done(what)
    z = lse_numbers()["z"]
    try:
        value = float(np.asarray(answer, dtype=float).reshape(-1)[0])
    except (TypeError, ValueError, IndexError):
        value = 0.0  # not a number: check_array explains below
    if np.isinf(value) or np.isnan(value):
        raise NotQuiteRight(
            f"{what} came out as {value}: e^{max(z)} overflows float64 (the largest float is "
            "about e^709.8). Subtract the largest logit first and add it back outside the log."
        )
    top = max(z)
    return check_array(
        answer,
        _lse_exact(z),
        what=what,
        rtol=1e-12,
        atol=1e-9,
        mistakes={
            "that is the largest logit alone. The other logits add log(sum_j e^{z_j - max}) on "
            "top of it.": top,
            "you computed log(sum_j e^{z_j - max}) and forgot to add the max back: "
            "log sum e^{z} = max + log sum e^{z - max}.": _lse_exact([v - top for v in z]),
        },
    )


# ------------------------------------------------------------------ the 4-layer backward pass, as code


def backward_example() -> dict:
    """The example the page prints: params, the cache of one sample, a one-hot y."""
    return _dense.network(np.random.default_rng(4333), SIZES, ACTIVATIONS, 1, "cross_entropy")


def check_backward_4(backward_4: object, part: str | None = None) -> Verdict:
    """A function ``backward_4(params, cache, y) -> [(dW1, db1), (dW2, db2), (dW3, db3)]``
    for the 4-3-3-3 network (sigmoid, sigmoid, softmax) and cross-entropy, one sample."""
    cases = [_dense.network(rng, SIZES, ACTIVATIONS, 1, "cross_entropy")
             for rng in fresh_rngs(BACKWARD)]
    return _dense.check_backward(backward_4, what="your backward_4", cases=cases,
                                 activations=ACTIVATIONS, cost="cross_entropy", part=part,
                                 arguments=["params", "cache", "y"])


check_backward_4.parts = _dense.parts(3)


# ------------------------------------------------------------------ a derivation, typed


def check_derive_ce_logit(formula: object) -> Verdict:
    """dC/dz_1 of C = -sum_j y_j log s_j, s = softmax(z), 3 classes, y a probability
    vector (y_1 + y_2 + y_3 = 1), as a formula in s_1, s_2, s_3, y_1, y_2, y_3."""
    import sympy as sp

    s = {n: sp.Symbol(n, real=True) for n in ("s_1", "s_2", "s_3", "y_1", "y_2", "y_3")}
    s1, s2, s3, y1, y2, y3 = s.values()
    right = s1 - y1  # with y_1 + y_2 + y_3 = 1 (compared after y_3 = 1 - y_1 - y_2)
    return check_derivation(
        formula, right, what="dC/dz_1", symbols=s, given={y3: 1 - y1 - y2},
        mistakes={
            "that is dC/ds_1 = -y_1/s_1; one more step, through the softmax's Jacobian, "
            "takes it to the logit z_1.": -y1 / s1,
            "it is multiplied by the softmax's slope s_1(1 - s_1), which is already inside "
            "the Jacobian you went through (the Jacobian and the log's 1/s cancel): "
            "multiplying by it again counts it twice.":
                (s1 - y1) * s1 * (1 - s1),
            "that keeps only the Jacobian's diagonal, s_1(1 - s_1): z_1 moves s_2 and s_3 "
            "too, and their terms -s_1 s_k count.": -y1 * (1 - s1),
        },
    )


__all__ = [
    "check_derive_ce_logit",
    "backward_example",
    "check_backward_4",
    "jacobian2_symbols",
    "check_jacobian2",
    "smoothing_numbers",
    "check_smoothing",
    "hidden_delta_numbers",
    "check_hidden_delta",
    "lse_numbers",
    "check_lse",
]
