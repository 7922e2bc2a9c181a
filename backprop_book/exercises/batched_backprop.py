"""Exercises of the batch chapter: the given numbers and the checkers.

The chapter's convention (that of :mod:`backprop_book.reference`): samples are columns, the
batch cost is the mean C = (1/m) sum_i C_i, and Delta^(l) = dC/dZ^(l) is the gradient of that
mean, so the 1/m sits inside Delta. Then dC/dW^(l) = Delta^(l) (A^(l-1))^T, shape
(n_l, n_{l-1}), and dC/db^(l) = the sum of Delta^(l)'s columns, shape (n_l, 1).

Right answers are computed independently of those formulas: by centered differences of a
cost built to have the given Delta (a cost linear in Z, so the differences are exact up to
round-off), or by the reference's own backward pass. The classic wrong answers are built
from the same numbers for the diagnoses.
"""

from __future__ import annotations

import numpy as np

from .. import checkers
from .. import reference as ref
from ..checkers import NotQuiteRight, Verdict, check_array, given, is_placeholder, not_done
from ..codecheck import fresh_rngs
from ..derivations import check_derivation
from ..gradcheck import numerical_gradient
from . import _dense

BIAS_GRAD = "ex-batch-bias-grad"
GRAD_SHAPE = "ex-batch-grad-shape"
WEIGHT_GRAD = "ex-batch-weight-grad"
BACKWARD = "ex-batch-backward"
ACTIVATIONS = ["sigmoid", "sigmoid", "sigmoid"]
L2_GRAD = "ex-batch-l2-grad"


def _signed(rng: np.random.Generator, shape: tuple[int, ...], low: float, high: float) -> list:
    """Numbers with random signs and magnitudes in [low, high], 2 decimals, as nested lists."""
    values = rng.choice([-1, 1], size=shape) * rng.uniform(low, high, size=shape)
    return np.round(values, 2).tolist()


def _linear_cost_gradient(Delta: np.ndarray, param: np.ndarray, build_Z) -> np.ndarray:
    """dC/d param by centered differences, for the cost C = sum(Delta * Z(param)).

    That cost has dC/dZ = Delta exactly, whatever ``build_Z`` is, so the finite-difference
    gradient is what backprop must produce from the given Delta.
    """
    work = np.array(param, dtype=float)
    return numerical_gradient(lambda p: float(np.sum(Delta * build_Z(p))), work)


# ------------------------------------------------------------------ 1. the bias gradient


def bias_grad_numbers() -> dict:
    """Delta^(l) of a batch, shape (n_l, m) = (3, 4), with the 1/m of the mean inside."""

    def draw(rng: np.random.Generator) -> dict:
        return {"Delta": _signed(rng, (3, 4), 0.01, 0.3)}

    default = {
        "Delta": [
            [0.12, -0.05, 0.08, 0.21],
            [-0.17, 0.03, -0.09, 0.06],
            [0.04, 0.11, -0.14, -0.02],
        ]
    }
    return given(BIAS_GRAD, default, draw)


def check_bias_grad(answer: object) -> Verdict:
    """dC/db^(l) of the batch from the given Delta^(l): a column of shape (n_l, 1)."""
    Delta = np.asarray(bias_grad_numbers()["Delta"], dtype=float)
    n, m = Delta.shape
    A_prev = np.random.default_rng(7).uniform(-1.0, 1.0, (2, m))
    W = np.random.default_rng(8).uniform(-1.0, 1.0, (n, 2))
    expected = _linear_cost_gradient(Delta, np.full((n, 1), 0.3), lambda b: W @ A_prev + b)
    what = "dC/db"
    if not is_placeholder(answer):
        got = np.asarray(answer, dtype=float) if _numeric(answer) else None
        if got is not None and got.size == m and np.allclose(got.ravel(), Delta.sum(axis=0)):
            raise NotQuiteRight(
                f"{what}: you summed down each column (over the neurons, axis=0). A bias is "
                "shared by the samples, not by the neurons: sum along each row, over the "
                "samples, and keep the column."
            )
    return check_array(
        answer, expected, what=what, m=m,
        mistakes={
            "that is the first sample's column only; the bias is shared by all m samples, so "
            "their columns add up.": Delta[:, [0]],
        },
    )


def _numeric(answer: object) -> bool:
    try:
        np.asarray(answer, dtype=float)
    except (TypeError, ValueError):
        return False
    return not isinstance(answer, str | bytes | bool)


# ------------------------------------------------------------------ 2. the shape of dC/dW


def grad_shape_numbers() -> dict:
    """Layer widths [n_0, ..., n_L], the layer l asked about, and the batch size m."""

    def draw(rng: np.random.Generator) -> dict:
        sizes = [int(v) for v in rng.choice(np.arange(3, 90), size=4, replace=False)]
        m = int(rng.choice([v for v in (16, 32, 50, 64, 100, 128) if v not in sizes]))
        return {"sizes": sizes, "layer": int(rng.integers(2, 4)), "m": m}

    return given(GRAD_SHAPE, {"sizes": [64, 48, 20, 10], "layer": 2, "m": 32}, draw)


def check_grad_shape(answer: object) -> Verdict:
    """The shape of dC/dW^(layer) for a batch of m samples, as a tuple (rows, columns)."""
    nums = grad_shape_numbers()
    sizes, layer, m = nums["sizes"], nums["layer"], nums["m"]
    params = ref.init_params(sizes, seed=0)
    rng = np.random.default_rng(1)
    X = rng.normal(size=(sizes[0], m))
    Y = rng.normal(size=(sizes[-1], m))
    names = ["sigmoid"] * (len(sizes) - 1)
    grads = ref.backward(params, ref.forward(params, X, names), Y, names, "squared_error")
    expected = np.shape(grads[layer - 1][0])
    n_out, n_in = sizes[layer], sizes[layer - 1]
    what = f"the shape of dC/dW^({layer})"
    if is_placeholder(answer):
        return not_done(what)
    if isinstance(answer, str):
        raise NotQuiteRight(f"{what} should be a tuple of two integers, like (3, 4), not a "
                            "string.")
    got = tuple(int(v) for v in np.ravel(answer)) if _numeric(answer) else None
    if got in {(m, n_out, n_in), (n_out, n_in, m)}:
        raise NotQuiteRight(
            f"{what}: that is one matrix per sample, stacked. The batch gradient is one "
            "matrix: the product Delta A^T sums the samples' outer products for you."
        )
    try:
        return _check_shape(answer, expected, what, layer, n_in, n_out, m, sizes)
    except NotQuiteRight as err:
        if got is None or len(got) != 2 or not str(err).startswith(f"{what} is "):
            raise
        raise NotQuiteRight(
            f"{what}: {got} is not it. A gradient has the shape of its parameter: W^({layer}) "
            f"has one row per neuron of layer {layer} ('to') and one column per neuron of "
            f"layer {layer - 1} ('from')."
        ) from None


def _check_shape(answer, expected, what, layer, n_in, n_out, m, sizes) -> Verdict:
    off_by_one = {}
    if layer + 1 < len(sizes):
        off_by_one[f"that is the shape of W^({layer + 1}), the next layer's weights; layer "
                   f"{layer}'s weights go from layer {layer - 1} to layer {layer}."] = (
            sizes[layer + 1], sizes[layer])
    if layer >= 2:
        off_by_one[f"that is the shape of W^({layer - 1}), the layer before's weights; layer "
                   f"{layer}'s weights go from layer {layer - 1} to layer {layer}."] = (
            sizes[layer - 1], sizes[layer - 2])
    return check_array(
        answer,
        expected,
        what=what,
        mistakes={
            **off_by_one,
            "that is transposed. W^(l) maps layer l-1 to layer l, so it has n_l rows ('to') "
            "and n_{l-1} columns ('from'), and its gradient has the same shape.": (n_in, n_out),
            f"that is the shape of Delta^({layer}), one column per sample; the gradient has "
            "the shape of the weights.": (n_out, m),
            f"that is the shape of A^({layer - 1}); the gradient has the shape of W^({layer})."
            : (n_in, m),
        },
    )


# ------------------------------------------------------------------ 3. the weight gradient


def weight_grad_numbers() -> dict:
    """Per-sample deltas D (n_l, m) = (2, 3), WITHOUT the 1/m, and A^(l-1) of shape (3, 3)."""

    def draw(rng: np.random.Generator) -> dict:
        return {"D": _signed(rng, (2, 3), 0.05, 0.9), "A_prev": _signed(rng, (3, 3), 0.1, 0.95)}

    default = {
        "D": [[0.42, -0.18, 0.66], [-0.35, 0.27, 0.09]],
        "A_prev": [[0.81, 0.12, -0.44], [-0.63, 0.55, 0.29], [0.17, -0.92, 0.71]],
    }
    return given(WEIGHT_GRAD, default, draw)


def check_weight_grad(answer: object) -> Verdict:
    """dC/dW^(l) of the MEAN cost from per-sample deltas D and activations A_prev."""
    nums = weight_grad_numbers()
    D, A = np.asarray(nums["D"], dtype=float), np.asarray(nums["A_prev"], dtype=float)
    m = D.shape[1]
    Delta = D / m  # the batch cost is the mean, so dC/dZ is each sample's delta over m
    W0 = np.random.default_rng(9).uniform(-1.0, 1.0, (D.shape[0], A.shape[0]))
    expected = _linear_cost_gradient(Delta, W0, lambda W: W @ A)
    return check_array(
        answer,
        expected,
        what="dC/dW",
        m=m,
        mistakes={
            "that is the product of the means, mean(D) mean(A)^T. The gradient is the mean "
            "of the products: one outer product per sample (its delta times its activations "
            "transposed), averaged.": np.outer(D.mean(axis=1), A.mean(axis=1)),
            "A_prev is not transposed: D @ A_prev pairs sample i's delta with row i of "
            "A_prev, a neuron, not a sample. (A_prev is square, so the shapes fit; the "
            "numbers do not.) Each sample is a column of both D and A_prev.": D @ A / m,
            "that uses only the first sample. Every column of D pairs with the same column "
            "of A_prev, and the m outer products are averaged.": np.outer(D[:, 0], A[:, 0]),
        },
    )


# ------------------------------------------------------------------ 4. the L2 term


def l2_grad_numbers() -> dict:
    """W (2, 3), the data cost's gradient dW_data (2, 3), lambda, and the batch size m."""

    def draw(rng: np.random.Generator) -> dict:
        return {
            "W": _signed(rng, (2, 3), 0.2, 1.8),
            "dW_data": _signed(rng, (2, 3), 0.01, 0.4),
            "lam": round(float(rng.uniform(0.02, 0.3)), 3),
            "m": int(rng.choice([16, 32, 64])),
        }

    default = {
        "W": [[0.9, -1.4, 0.35], [-0.6, 1.1, 1.7]],
        "dW_data": [[0.12, -0.03, 0.27], [-0.18, 0.05, -0.09]],
        "lam": 0.05,
        "m": 32,
    }
    return given(L2_GRAD, default, draw)


def check_l2_grad(answer: object) -> Verdict:
    """dC/dW for C = C_data + (lam/2) sum W^2, the penalty added once to the mean cost."""
    nums = l2_grad_numbers()
    W = np.asarray(nums["W"], dtype=float)
    G = np.asarray(nums["dW_data"], dtype=float)
    lam, m = float(nums["lam"]), int(nums["m"])

    def cost(w: np.ndarray) -> float:  # a data cost with gradient G, plus the penalty
        return float(np.sum(G * w) + 0.5 * lam * np.sum(w**2))

    expected = numerical_gradient(cost, W.copy())
    return check_array(
        answer,
        expected,
        what="the regularized dC/dW",
        mistakes={
            "the penalty's gradient is there but the data gradient dW_data is missing: "
            "the two add.": lam * W,
            "the penalty's term is twice too large: the 1/2 in (lambda/2) w^2 cancels the 2 "
            "from differentiating the square.": G + 2 * lam * W,
            "the penalty's term is half the right size: differentiate (lambda/2) w^2 once "
            "more, and let the 1/2 meet the 2 of the square.": G + 0.5 * lam * W,
            "the penalty's term has the wrong sign: it pulls every weight toward zero, so "
            "its gradient has the sign of the weight.": G - lam * W,
            f"the penalty's term is divided by m = {m}; here the penalty is added once to "
            "the mean cost, not to each sample's cost, so no 1/m reaches its gradient.": G
            + lam * W / m,
            "that is the L1 penalty's gradient, lambda sign(w); this penalty squares the "
            "weights, so its gradient grows with them.": G + lam * np.sign(W),
        },
    )


def numbers_table(numbers: dict) -> str:
    """The given numbers, one labelled line each, arrays to 3 digits."""
    return checkers.numbers_table(numbers, precision=3)


# ------------------------------------------------------------------ the batched pass, as code

#: Batch sizes of the fresh cases: m = 4 equals the hidden widths, so a bias left unsummed
#: or a dropped transpose still has shapes that fit somewhere.
BATCHES = [4, 5, 3]


def backward_example() -> dict:
    """The example the page prints: a 3-4-4-2 sigmoid network and a batch of m = 4."""
    return _dense.network(np.random.default_rng(3442), [3, 4, 4, 2], ACTIVATIONS, 4,
                          "squared_error")


def check_backward_batch(backward_batch: object, part: str | None = None) -> Verdict:
    """A function ``backward_batch(params, cache, Y) -> [(dW1, db1), ...]``: the gradient of
    the mean cost C = (1/m) sum_i 1/2 ||a_i - y_i||^2 over a batch (samples as columns)."""
    cases = [_dense.network(rng, [3, 4, 4, 2], ACTIVATIONS, m, "squared_error")
             for rng, m in zip(fresh_rngs(BACKWARD), BATCHES, strict=True)]
    return _dense.check_backward(backward_batch, what="your backward_batch", cases=cases,
                                 activations=ACTIVATIONS, cost="squared_error", batch=True,
                                 part=part)


check_backward_batch.parts = _dense.parts(3)


# ------------------------------------------------------------------ a derivation, typed


def check_derive_batch_bias(formula: object) -> Verdict:
    """dC/db for one sigmoid output neuron and a batch of m = 2 samples,
    C = (1/2) sum_i 1/2 (a_i - y_i)^2, as a formula in a_1, a_2, y_1, y_2."""
    import sympy as sp

    s = {n: sp.Symbol(n, real=True) for n in ("a_1", "a_2", "y_1", "y_2")}
    a1, a2, y1, y2 = s.values()
    d = [(a1 - y1) * a1 * (1 - a1), (a2 - y2) * a2 * (1 - a2)]
    return check_derivation(
        formula, (d[0] + d[1]) / 2, what="dC/db", symbols=s,
        factors={"1/m = 1/2 (the cost is the MEAN over the batch)": sp.Rational(1, 2)},
        mistakes={
            "that is the first sample's share only; the bias is shared by every sample, so "
            "the samples' terms add (then 1/m).": d[0] / 2,
            "the sigmoid's slope is missing: (a_i - y_i) is dC/da_i; b moves z_i, and "
            "a_i = sigma(z_i).": ((a1 - y1) + (a2 - y2)) / 2,
            "the slope was taken at the activation, sigma'(a_i) = sigma(a_i)(1 - "
            "sigma(a_i)); it belongs at z_i, and there it is written with a_i itself.":
                sum((a - y) * sg * (1 - sg) for a, y, sg in
                    ((a1, y1, 1 / (1 + sp.exp(-a1))), (a2, y2, 1 / (1 + sp.exp(-a2))))) / 2,
        },
    )


# ------------------------------------------------------------------ find the bug

FIND_BUG = "ex-batch-find-bug"
SUSPECT_BUGS = [("db", 2, "mean"), ("dW", 2, "transposed"), ("db", 3, "mean"),
                ("dW", 2, "next-activation"), ("db", 1, "mean")]


def suspect_network() -> dict:
    """A 3-4-4-2 sigmoid network and a batch of m = 6 samples, for the find-the-bug exercise."""
    case = _dense.network(np.random.default_rng(4426), [3, 4, 4, 2], ACTIVATIONS, 6,
                          "squared_error")
    return {"params": case["params"], "X": case["cache"].as_[0], "Y": case["Y"]}


def _suspect_bug() -> tuple:
    index = given(FIND_BUG, {"bug": 0}, lambda rng: {"bug": int(rng.integers(len(SUSPECT_BUGS)))})
    return SUSPECT_BUGS[index["bug"]]


def suspect_backward(params, X, Y):
    """[(dW1, db1), ...] of the mean squared error over the batch: one array is wrong.

    Find it with a gradient check, not by reading this code.
    """
    return _dense.suspect_backward(params, X, Y, ACTIVATIONS, "squared_error", _suspect_bug())


def check_found_bug(bug_at: object) -> Verdict:
    """The array the suspect batched pass gets wrong, as a string ("dW2", "db1", ...)."""
    n = suspect_network()
    return _dense.check_found_bug(bug_at, what="the wrong array", params=n["params"], X=n["X"],
                                  Y=n["Y"], activations=ACTIVATIONS, cost="squared_error",
                                  bug=_suspect_bug())


__all__ = [
    "suspect_network",
    "suspect_backward",
    "check_found_bug",
    "check_derive_batch_bias",
    "backward_example",
    "check_backward_batch",
    "bias_grad_numbers",
    "check_bias_grad",
    "grad_shape_numbers",
    "check_grad_shape",
    "weight_grad_numbers",
    "check_weight_grad",
    "l2_grad_numbers",
    "check_l2_grad",
    "numbers_table",
]
