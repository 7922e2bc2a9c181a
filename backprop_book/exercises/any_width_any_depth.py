"""Exercises of the "any width, any depth" chapter: numbers and checkers.

The network: z^(l) = W^(l) a^(l-1) + b^(l), a^(l) = f(z^(l)), delta^(l) = dC/dz^(l). The
chapter proves, for any widths, delta^(l) = (W^(l+1))^T delta^(l+1) * f'(z^(l)) and, at a
linear output, delta^(L) = a - y for C = 1/2 sum (a - y)^2, hence 2 (a - y) for
C = sum (a - y)^2.

Right answers come from independent sources, never from the formulas above: centered finite
differences of the cost without the 1/2 (the output delta), and the reference
implementation :mod:`backprop_book.reference` run on a two-layer network built to have the
given numbers (the hidden delta). The classic wrong answers are built from the same numbers.
"""

from __future__ import annotations

import numpy as np

from .. import reference as ref
from ..checkers import SIGN_A_MINUS_Y, Verdict, check_array, given
from ..codecheck import fresh_rngs
from ..derivations import check_derivation
from ..gradcheck import numerical_gradient
from . import _dense

NO_HALF = "ex-general-no-half"
WIDE_STEP = "ex-general-wide-step"
BACKWARD = "ex-general-backward"


def _column(values) -> np.ndarray:
    return np.asarray(values, dtype=float).reshape(-1, 1)


def _signed(rng: np.random.Generator, low: float, high: float, size: int) -> list[float]:
    """``size`` numbers with random signs and magnitudes in [low, high], rounded to 2 places."""
    values = rng.choice([-1, 1], size=size) * rng.uniform(low, high, size=size)
    return [round(float(v), 2) for v in values]


# ------------------------------------------------------------------ 1. the cost without 1/2


def no_half_numbers() -> dict:
    """The linear outputs a = z^(L) (4 of them) and the targets y of a regression network."""
    return given(
        NO_HALF,
        {"a": [0.8, -1.3, 2.1, 0.4], "y": [1.0, -0.5, 1.6, 0.9]},
        lambda rng: {"a": _signed(rng, 0.2, 2.5, 4), "y": _signed(rng, 0.1, 2.0, 4)},
    )


def check_no_half(answer: object) -> Verdict:
    """delta^(L) = dC/dz^(L) for C = sum_j (a_j - y_j)^2 with a = z^(L), a (4, 1) column."""
    n = no_half_numbers()
    a, y = _column(n["a"]), _column(n["y"])

    def cost_without_half(z: np.ndarray) -> float:
        return float(np.sum((z - y) ** 2))  # a linear output: a = z

    expected = numerical_gradient(cost_without_half, a.copy(), h=1e-4)
    return check_array(
        answer,
        expected,
        what="delta^(L) for the cost without 1/2",
        sign=SIGN_A_MINUS_Y,
        mistakes={
            "you multiplied by a(1 - a), the sigmoid's slope read off the output; the output "
            "here is linear, a = z, so f'(z) = 1.": 2 * (a - y) * a * (1 - a),
            "that is divided by the number of outputs: this cost SUMS over the outputs "
            "(it is not a mean), so each output's delta is 2 (a_j - y_j).":
                2 * (a - y) / a.shape[0],
            "that is a - y, the delta of the book's cost 1/2 sum (a - y)^2. This cost has no "
            "1/2, so the 2 of the square stays: 2 (a - y).": a - y,
            "that is (a - y)^2, the cost's terms themselves. The delta is their derivative "
            "with respect to z = a.": (a - y) ** 2,
            "you multiplied by sigma'(z) as for a sigmoid output. The output here is linear, "
            "a = z, so f'(z) = 1.": 2 * (a - y) * ref.sigmoid_prime(a),
        },
    )


# ------------------------------------------------------------------ 2. one step back, 5 <- 3


def wide_step_numbers() -> dict:
    """W^(l+1) (3 x 5, rows = 'to'), delta^(l+1) (3 entries) and z^(l) (5 entries, tanh)."""
    return given(
        WIDE_STEP,
        {
            "W_next": [[0.7, -1.2, 0.3, 0.9, -0.4],
                       [-0.6, 0.5, 1.1, -0.8, 0.2],
                       [1.3, 0.4, -0.9, 0.6, 1.0]],
            "delta_next": [0.25, -0.4, 0.15],
            "z": [0.5, -1.1, 0.8, 1.6, -0.3],
        },
        lambda rng: {
            "W_next": [_signed(rng, 0.1, 1.5, 5) for _ in range(3)],
            "delta_next": _signed(rng, 0.05, 0.6, 3),
            "z": _signed(rng, 0.1, 1.8, 5),
        },
    )


def _reference_wide_step(W_next: np.ndarray, delta_next: np.ndarray, z: np.ndarray):
    """The reference's delta^(1) of a network built to have the given numbers.

    Layer 1 is the identity map (W = I, b = 0, tanh) fed with x = z, so its weighted input is
    the given z; layer 2 is linear with weights W_next and the target y = a^(2) - delta_next,
    so that its output delta (a^(2) - y, one sample) is the given delta_next.
    """
    n = z.shape[0]
    params = [(np.eye(n), np.zeros((n, 1))), (W_next, np.zeros((W_next.shape[0], 1)))]
    names = ["tanh", "identity"]
    cache = ref.forward(params, z, names)
    y = cache.as_[-1] - delta_next
    return ref.backward_deltas(params, cache, y, names, "squared_error")[1]


def check_wide_step(answer: object) -> Verdict:
    """delta^(l) = dC/dz^(l) at the given numbers, a (5, 1) column."""
    n = wide_step_numbers()
    W_next, z = np.asarray(n["W_next"], dtype=float), _column(n["z"])
    delta_next = _column(n["delta_next"])
    back = W_next.T @ delta_next  # dC/da^(l)
    return check_array(
        answer,
        _reference_wide_step(W_next, delta_next, z),
        what="delta^(l)",
        mistakes={
            "the factor tanh'(z^(l)) is missing: (W^(l+1))^T delta^(l+1) is dC/da^(l); one "
            "more step takes it to z^(l).": back,
            "the slope was taken at the activation, tanh'(tanh(z)). It belongs at z^(l): "
            "tanh'(z) = 1 - tanh(z)^2.": back * ref.tanh_prime(np.tanh(z)),
            "you used 1 - z^2 for the slope. The derivative of tanh is 1 - tanh(z)^2, with "
            "the tanh inside the square.": back * (1 - z**2),
            "you multiplied by tanh(z^(l)), the activation; the factor is its slope "
            "1 - tanh(z)^2.": back * np.tanh(z),
            "that is the sigmoid's slope, sigma'(z); this layer is tanh, whose slope is "
            "1 - tanh(z)^2.": back * ref.sigmoid_prime(z),
            "you used 1 - tanh(z) for the slope; tanh'(z) = 1 - tanh(z)^2, with the square.":
                back * (1 - np.tanh(z)),
            "that is the sigmoid's slope formula a(1 - a) with a = tanh(z); tanh has its own, "
            "1 - a^2.": back * np.tanh(z) * (1 - np.tanh(z)),
        },
    )


# ------------------------------------------------------------------ any L, as code

#: The architectures of the fresh cases: square steps (so a missing transpose fits), mixed
#: activations (so the wrong layer's f' shows), depths 2 to 4.
ARCHITECTURES = [
    ([3, 4, 4, 2], ["tanh", "sigmoid", "identity"]),
    ([2, 3, 3, 3, 1], ["relu", "tanh", "sigmoid", "sigmoid"]),
    ([4, 2, 2], ["sigmoid", "tanh"]),
]


def backward_example() -> dict:
    """The example the page prints: a 2-3-3-1 network (tanh, sigmoid, identity), one sample."""
    case = _dense.network(np.random.default_rng(2331), [2, 3, 3, 1],
                          ["tanh", "sigmoid", "identity"], 1, "squared_error")
    return {**case, "activations": ["tanh", "sigmoid", "identity"]}


def check_backward_any(backward_any: object, part: str | None = None) -> Verdict:
    """A function ``backward_any(params, cache, y, activations) -> [(dW1, db1), ...]`` for
    C = 1/2 ||a^(L) - y||^2, one sample, any depth, widths and elementwise activations."""
    cases = []
    for rng, (sizes, acts) in zip(fresh_rngs(BACKWARD), ARCHITECTURES, strict=True):
        case = _dense.network(rng, sizes, acts, 1, "squared_error")
        cases.append({**case, "activations": list(acts)})
    return _dense.check_backward(backward_any, what="your backward_any", cases=cases,
                                 activations=None, cost="squared_error", part=part,
                                 arguments=["params", "cache", "y", "activations"])


check_backward_any.parts = _dense.parts(max(len(acts) for _, acts in ARCHITECTURES))


# ------------------------------------------------------------------ a derivation, typed


def check_derive_hidden_delta(formula: object) -> Verdict:
    """delta^(l)_1 of a tanh layer feeding two neurons, as a formula in d_1, d_2 (the deltas
    of layer l+1), W_11, W_12, W_21, W_22 (W^(l+1)) and t_1 = tanh(z^(l)_1)."""
    import sympy as sp

    s = {n: sp.Symbol(n, real=True) for n in ("d_1", "d_2", "W_11", "W_12", "W_21", "W_22",
                                              "t_1")}
    d1, d2, W11, W12, W21, W22, t1 = s.values()
    right = (W11 * d1 + W21 * d2) * (1 - t1**2)
    return check_derivation(
        formula, right, what="delta^(l)_1", symbols=s,
        factors={"tanh'(z_1) = 1 - t_1**2": 1 - t1**2},
        mistakes={
            "that is the sigmoid's slope, t_1(1 - t_1); tanh's is 1 - t_1^2.":
                (W11 * d1 + W21 * d2) * t1 * (1 - t1),
            "the weights are a row of W^(l+1) (W_11, W_12); neuron 1 of layer l sends its "
            "output along COLUMN 1 (W_11, W_21): the transpose.":
                (W11 * d1 + W12 * d2) * (1 - t1**2),
            "1 - t_1 is missing its square: tanh'(z) = 1 - tanh(z)^2.":
                (W11 * d1 + W21 * d2) * (1 - t1),
            "the slope was taken at the activation: 1 - tanh(t_1)^2 is tanh'(t_1), but "
            "t_1 is already tanh(z_1); the slope belongs at z_1, and there it is written "
            "with t_1 itself.": (W11 * d1 + W21 * d2) * (1 - sp.tanh(t1) ** 2),
        },
    )


# ------------------------------------------------------------------ find the bug

FIND_BUG = "ex-general-find-bug"
SUSPECT_SIZES = [3, 4, 4, 4, 2]
SUSPECT_ACTIVATIONS = ["tanh", "sigmoid", "tanh", "identity"]
#: The bugs a student's suspect pass may have (one each; square layers 2 and 3 hide the
#: shapes of a transposed or shifted dW).
SUSPECT_BUGS = [("dW", 3, "next-activation"), ("dW", 2, "transposed"), ("db", 2, "no-slope"),
                ("dW", 3, "transposed"), ("db", 3, "no-slope")]


def suspect_network() -> dict:
    """The network, one sample and the targets of the find-the-bug exercise."""
    case = _dense.network(np.random.default_rng(34442), SUSPECT_SIZES, SUSPECT_ACTIVATIONS, 1,
                          "squared_error")
    return {"params": case["params"], "X": case["cache"].as_[0], "Y": case["Y"],
            "activations": list(SUSPECT_ACTIVATIONS)}


def _suspect_bug() -> tuple:
    index = given(FIND_BUG, {"bug": 0}, lambda rng: {"bug": int(rng.integers(len(SUSPECT_BUGS)))})
    return SUSPECT_BUGS[index["bug"]]


def suspect_backward(params, X, Y):
    """[(dW1, db1), ...] for squared error and SUSPECT_ACTIVATIONS: one array is wrong.

    Find it with a gradient check, not by reading this code.
    """
    return _dense.suspect_backward(params, X, Y, SUSPECT_ACTIVATIONS, "squared_error",
                                   _suspect_bug())


def check_found_bug(bug_at: object) -> Verdict:
    """The array the suspect backward pass gets wrong, as a string ("dW2", "db1", ...)."""
    n = suspect_network()
    return _dense.check_found_bug(bug_at, what="the wrong array", params=n["params"], X=n["X"],
                                  Y=n["Y"], activations=SUSPECT_ACTIVATIONS,
                                  cost="squared_error", bug=_suspect_bug())


__all__ = [
    "suspect_network",
    "suspect_backward",
    "check_found_bug",
    "check_derive_hidden_delta",
    "backward_example",
    "check_backward_any",
    "no_half_numbers",
    "check_no_half",
    "wide_step_numbers",
    "check_wide_step",
]
