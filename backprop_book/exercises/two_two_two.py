"""Exercises of the 2-2-2 chapter: the given numbers and the checkers.

The network: z^(l) = W^(l) a^(l-1) + b^(l), a^(l) = sigma(z^(l)), a^(0) = x, and for one sample
C = 1/2 sum_j (a^(2)_j - y_j)^2, so delta^(2) = (a^(2) - y) * sigma'(z^(2)),
delta^(1) = (W^(2))^T delta^(2) * sigma'(z^(1)), dC/dW^(l) = delta^(l) (a^(l-1))^T.

Right answers come from :mod:`backprop_book.reference` (never from the formulas above):
a tiny network is built whose backward pass must produce the given activations and deltas,
and the reference differentiates it. The classic wrong answers are built from the same numbers.
"""

from __future__ import annotations

import inspect
import textwrap

import numpy as np

from .. import reference as ref
from ..checkers import NotQuiteRight, Verdict, check_array, check_function, given, not_done, right
from ..codecheck import fresh_rngs
from ..derivations import check_derivation
from . import _dense

GRAD_W2_21 = "ex-222-dw2-21"
DELTA1 = "ex-222-delta1"
PATHS = "ex-222-paths"
UPDATE = "ex-222-update"
BACKWARD = "ex-222-backward"
ACTIVATIONS = ["sigmoid", "sigmoid"]


def _column(values) -> np.ndarray:
    return np.asarray(values, dtype=float).reshape(-1, 1)


def _signed(rng: np.random.Generator, low: float, high: float, size: int) -> list[float]:
    """``size`` numbers with random signs and magnitudes in [low, high], rounded to 2 places."""
    values = rng.choice([-1, 1], size=size) * rng.uniform(low, high, size=size)
    return [round(float(v), 2) for v in values]


def _reference_layer2(a1: np.ndarray, W2: np.ndarray, delta2: np.ndarray, hidden_z=None):
    """The reference's deltas and gradients of a network built to have these numbers.

    Layer 1 is the identity map W^(1) = I, b^(1) = 0 fed with x = z^(1) (given, or the logit of
    the given a^(1)), so the reference's z^(1) and a^(1) are the given ones. Layer 2 has weights
    W2, no bias and the identity activation, and the target y = z^(2) - delta^(2), so that the
    reference's output delta (a^(2) - y) * 1 is the given delta^(2) (one sample, m = 1).
    """
    z1 = np.log(a1 / (1 - a1)) if hidden_z is None else hidden_z
    params = [(np.eye(2), np.zeros((2, 1))), (np.asarray(W2, dtype=float), np.zeros((2, 1)))]
    names = ["sigmoid", "identity"]
    cache = ref.forward(params, z1, names)
    y = cache.zs[2] - delta2
    deltas = ref.backward_deltas(params, cache, y, names, "squared_error")
    grads = ref.backward(params, cache, y, names, "squared_error")
    return deltas, grads


# ------------------------------------------------------------------ 1. dC/dW^(2)_21


def grad_w2_21_numbers() -> dict:
    """x, a^(1) and delta^(2) of one sample (each a list of two numbers)."""
    return given(
        GRAD_W2_21,
        {"x": [0.8, -1.3], "a1": [0.64, 0.27], "delta2": [0.072, -0.105]},
        lambda rng: {
            "x": _signed(rng, 0.3, 1.8, 2),
            "a1": [round(float(v), 2) for v in rng.uniform(0.1, 0.9, size=2)],
            "delta2": [round(float(v), 3) for v in _signed(rng, 0.02, 0.2, 2)],
        },
    )


def check_grad_w2_21(answer: object) -> Verdict:
    """dC/dW^(2)_21 at the given numbers, a number."""
    n = grad_w2_21_numbers()
    x, a1, d2 = n["x"], n["a1"], n["delta2"]
    W2 = np.array([[0.5, -0.4], [0.3, 0.9]])  # any W2: dC/dW2 does not depend on it
    _, grads = _reference_layer2(_column(a1), W2, _column(d2))
    return check_array(
        answer,
        grads[1][0][1, 0],
        what="dC/dW^(2)_21",
        mistakes={
            "that is dC/dW^(2)_12. The first index is the neuron the weight goes TO (its "
            "delta), the second the neuron it comes FROM (its activation).": d2[0] * a1[1],
            "you used the input x. The weights of layer 2 multiply a^(1), the activations "
            "of layer 1, so dz^(2)_2/dW^(2)_21 = a^(1)_1.": d2[1] * x[0],
            "that is the delta alone, dC/db^(2)_2: a weight's gradient also has the factor "
            "a^(1)_1 it multiplies.": d2[1],
        },
    )


# ------------------------------------------------------------------ 2. delta^(1) by hand


def delta1_numbers() -> dict:
    """W^(2) (2 x 2, rows = 'to'), delta^(2) and z^(1) (two numbers each)."""
    return given(
        DELTA1,
        {"W2": [[0.9, -1.3], [0.4, 0.7]], "delta2": [0.12, -0.08], "z1": [0.5, -1.2]},
        lambda rng: {
            "W2": [_signed(rng, 0.2, 1.6, 2), _signed(rng, 0.2, 1.6, 2)],
            "delta2": [round(float(v), 3) for v in _signed(rng, 0.02, 0.2, 2)],
            "z1": _signed(rng, 0.2, 1.8, 2),
        },
    )


def check_delta1(answer: object) -> Verdict:
    """delta^(1) at the given numbers, a column of shape (2, 1)."""
    n = delta1_numbers()
    W2, d2, z1 = np.asarray(n["W2"], dtype=float), _column(n["delta2"]), _column(n["z1"])
    deltas, _ = _reference_layer2(None, W2, d2, hidden_z=z1)
    slope = ref.sigmoid_prime(z1)
    return check_array(
        answer,
        deltas[1],
        what="delta^(1)",
        mistakes={
            "the transpose is missing. Neuron k of layer 1 sends its output along column k "
            "of W^(2), so it collects (W^(2))^T delta^(2).": (W2 @ d2) * slope,
            "the slope was taken at the activation, sigma'(sigma(z)). It belongs at z^(1): "
            "sigma'(z^(1)).": (W2.T @ d2) * ref.sigmoid_prime(ref.sigmoid(z1)),
            "the factor sigma'(z^(1)) is missing: (W^(2))^T delta^(2) is dC/da^(1); one more "
            "step takes it to z^(1).": W2.T @ d2,
            "you multiplied by sigma(z^(1)), the activation; the factor is its slope "
            "sigma'(z^(1)) = sigma(z)(1 - sigma(z)).": (W2.T @ d2) * ref.sigmoid(z1),
            "you evaluated a(1 - a) at a = z^(1). The slope sigma(z)(1 - sigma(z)) needs the "
            "activation a = sigma(z) first.": (W2.T @ d2) * z1 * (1 - z1),
            "that is one number for both neurons: the inner product (sigma')^T (W^T delta) "
            "adds the two neurons' terms. Each neuron keeps its own entry: the product is "
            "entry by entry (*), not a matrix product.": np.full(
                (2, 1), (slope.T @ (W2.T @ d2)).item()),
        },
    )


# ------------------------------------------------------------------ 3. counting paths


def _count_paths(n: int, L: int, layer: int = 1) -> int:
    """Walk the graph: from a neuron of ``layer``, every neuron of the next layer, ..., to C."""
    if layer == L:
        return 1  # a^(L)_j -> C
    return sum(_count_paths(n, L, layer + 1) for _ in range(n))


def check_paths(paths: object) -> Verdict:
    """A function ``paths(n, L)``: paths from one weight of layer 1 to C, L layers of width n."""
    inputs = [(n, L) for n in (1, 2, 3, 5) for L in (1, 2, 3, 4)]
    return check_function(
        paths,
        _count_paths,
        what="paths(n, L)",
        inputs=inputs,
        mistakes={
            "that counts a free choice in layer 1 too. W^(1)_jk feeds only z^(1)_j, so the "
            "path starts at neuron j; the choices are in layers 2 to L.": lambda n, L: n**L,
            "the choices multiply, they do not add: n neurons in each of the L - 1 later "
            "layers give n times n times ... paths.": lambda n, L: n * (L - 1),
            "that is one too few: with L layers of weights there are L - 1 layers after "
            "layer 1, each a free choice.": lambda n, L: n ** (L - 2) if L >= 2 else 1,
        },
    )


# ------------------------------------------------------------------ 4. spot the bug


def _forward(params, x):
    (W1, b1), (W2, b2) = params
    z1 = W1 @ x + b1
    a1 = ref.sigmoid(z1)
    z2 = W2 @ a1 + b2
    return z1, a1, z2, ref.sigmoid(z2)


def _step(params, grads, eta):
    return [(W - eta * dW, b - eta * db) for (W, b), (dW, db) in zip(params, grads, strict=True)]


def rule_no_transpose(params, x, y, eta):
    (W1, b1), (W2, b2) = params
    z1, a1, z2, a2 = _forward(params, x)
    delta2 = (a2 - y) * ref.sigmoid_prime(z2)
    delta1 = (W2 @ delta2) * ref.sigmoid_prime(z1)
    return _step(params, [(delta1 @ x.T, delta1), (delta2 @ a1.T, delta2)], eta)


def rule_slope_at_a(params, x, y, eta):
    (W1, b1), (W2, b2) = params
    z1, a1, z2, a2 = _forward(params, x)
    delta2 = (a2 - y) * ref.sigmoid_prime(a2)
    delta1 = (W2.T @ delta2) * ref.sigmoid_prime(a1)
    return _step(params, [(delta1 @ x.T, delta1), (delta2 @ a1.T, delta2)], eta)


def rule_correct(params, x, y, eta):
    (W1, b1), (W2, b2) = params
    z1, a1, z2, a2 = _forward(params, x)
    delta2 = (a2 - y) * ref.sigmoid_prime(z2)
    delta1 = (W2.T @ delta2) * ref.sigmoid_prime(z1)
    return _step(params, [(delta1 @ x.T, delta1), (delta2 @ a1.T, delta2)], eta)


def rule_sign(params, x, y, eta):
    (W1, b1), (W2, b2) = params
    z1, a1, z2, a2 = _forward(params, x)
    delta2 = (y - a2) * ref.sigmoid_prime(z2)
    delta1 = (W2.T @ delta2) * ref.sigmoid_prime(z1)
    return _step(params, [(delta1 @ x.T, delta1), (delta2 @ a1.T, delta2)], eta)


def rule_outer_flipped(params, x, y, eta):
    (W1, b1), (W2, b2) = params
    z1, a1, z2, a2 = _forward(params, x)
    delta2 = (a2 - y) * ref.sigmoid_prime(z2)
    delta1 = (W2.T @ delta2) * ref.sigmoid_prime(z1)
    return _step(params, [(x @ delta1.T, delta1), (a1 @ delta2.T, delta2)], eta)


_RULES = {
    rule_no_transpose: "in this rule delta^(1) uses W^(2) without the transpose. With a "
    "square W^(2) the shapes fit, so nothing warns; compare it with the true gradient.",
    rule_slope_at_a: "this rule takes sigma' at the activations a instead of at z.",
    rule_correct: "",
    rule_sign: "this rule has (y - a) in the output delta, so with the minus sign of the "
    "update every step climbs the cost.",
    rule_outer_flipped: "this rule builds dC/dW as a (delta)^T, the transpose of "
    "delta a^T: the row of W^(l) is the 'to' neuron, so the delta's index comes first.",
}


def update_rules() -> dict:
    """The candidate rules ``{letter: function(params, x, y, eta) -> new params}``."""
    order = given(
        UPDATE,
        {"order": [0, 1, 2, 3, 4]},
        lambda rng: {"order": [int(i) for i in rng.permutation(len(_RULES))]},
    )["order"]
    rules = list(_RULES)
    return {letter: rules[i] for letter, i in zip("ABCDE", order, strict=True)}


def show_update_rules() -> None:
    """Print the candidate rules' code, one after the other.

    Each rule is the body of a function of (params, x, y, eta); ``_forward`` returns z1, a1,
    z2, a2 and ``_step`` returns the parameters minus eta times the gradients given to it.
    """
    for letter, rule in update_rules().items():
        body = textwrap.dedent(inspect.getsource(rule).split("\n", 1)[1]).replace("ref.", "")
        print(f"# rule {letter}\n{body}")


def check_update_rule(answer: object) -> Verdict:
    """The letter of the one rule that takes a gradient-descent step on C."""
    what = "Your choice"
    if answer is None or answer is Ellipsis:
        return not_done(what)
    rules = update_rules()
    if not isinstance(answer, str) or answer.strip().upper() not in rules:
        raise NotQuiteRight(f"answer with one letter among {', '.join(rules)}, as a string.")
    letter = answer.strip().upper()
    rng = np.random.default_rng(222)
    params = ref.init_params([2, 2, 2], seed=222, scale=1.2)
    x, y, eta = rng.uniform(-1.5, 1.5, (2, 1)), rng.uniform(0.1, 0.9, (2, 1)), 0.5
    _, grads = ref.loss_and_grads(params, x, y, ["sigmoid", "sigmoid"], "squared_error")
    want = ref.flatten(_step(params, grads, eta))
    chosen = rules[letter]
    if np.allclose(ref.flatten(chosen(params, x, y, eta)), want, rtol=1e-10, atol=1e-12):
        # the verdict stays on the built page, under the exercise: it names no rule
        return right(what, "(the rule you chose matches a step along the reference "
                           "gradient.)")
    raise NotQuiteRight(f"rule {letter} is not it: {_RULES[chosen]}")


# ------------------------------------------------------------------ the backward pass, as code


def backward_example() -> dict:
    """The example the page prints: params, the cache of one sample and y (2-2-2, sigmoids)."""
    rng = np.random.default_rng(222)
    return _dense.network(rng, [2, 2, 2], ACTIVATIONS, 1, "squared_error")


def check_backward_222(backward_222: object, part: str | None = None) -> Verdict:
    """A function ``backward_222(params, cache, y) -> [(dW1, db1), (dW2, db2)]`` for
    C = 1/2 ||a^(2) - y||^2 and one sample, checked on fresh 2-2-2 networks."""
    cases = [_dense.network(rng, [2, 2, 2], ACTIVATIONS, 1, "squared_error")
             for rng in fresh_rngs(BACKWARD)]
    return _dense.check_backward(backward_222, what="your backward_222", cases=cases,
                                 activations=ACTIVATIONS, cost="squared_error", part=part,
                                 arguments=["params", "cache", "y"])


check_backward_222.parts = _dense.parts(2)


# ------------------------------------------------------------------ a derivation, typed


def derive_symbols() -> dict:
    """The quantities dC/dW^(1)_12 may be written in (names as typed)."""
    import sympy as sp

    names = ["x_1", "x_2", "a1_1", "a1_2", "a2_1", "a2_2", "y_1", "y_2",
             "W2_11", "W2_12", "W2_21", "W2_22"]
    return {n: sp.Symbol(n, real=True) for n in names}


def check_derive_dw1_12(formula: object) -> Verdict:
    """dC/dW^(1)_12 of the 2-2-2 network, C = 1/2 sum_j (a2_j - y_j)^2, as a formula."""
    s = derive_symbols()
    d2 = [(s[f"a2_{j}"] - s[f"y_{j}"]) * s[f"a2_{j}"] * (1 - s[f"a2_{j}"]) for j in (1, 2)]
    slope1 = s["a1_1"] * (1 - s["a1_1"])
    paths = [d2[0] * s["W2_11"], d2[1] * s["W2_21"]]
    right = (paths[0] + paths[1]) * slope1 * s["x_2"]
    return check_derivation(
        formula, right, what="dC/dW^(1)_12", symbols=s,
        factors={"sigma'(z1_1) = a1_1*(1 - a1_1)": slope1, "x_2 (= dz1_1/dW^(1)_12)": s["x_2"]},
        mistakes={
            "only the path through output neuron 1: W^(1)_12 feeds hidden neuron 1, which "
            "feeds BOTH outputs, so the two paths add.": paths[0] * slope1 * s["x_2"],
            "only the path through output neuron 2: hidden neuron 1 feeds both outputs, so "
            "the two paths add.": paths[1] * slope1 * s["x_2"],
            "the weights of the two paths are W2_11 and W2_12, a row of W^(2); hidden "
            "neuron 1 sends its output along COLUMN 1: W2_11 and W2_21 (the transpose).":
                (d2[0] * s["W2_11"] + d2[1] * s["W2_12"]) * slope1 * s["x_2"],
            "the hidden neuron's slope was taken at its activation, sigma'(a1_1) = "
            "sigma(a1_1)(1 - sigma(a1_1)); it belongs at z1_1, and there it is written "
            "with a1_1 itself.": (paths[0] + paths[1]) * _sig_slope(s["a1_1"]) * s["x_2"],
            "the output neurons' slopes were taken at their activations, "
            "sigma(a2_j)(1 - sigma(a2_j)); they belong at z2_j, and there each is written "
            "with a2_j itself.": sum((s[f"a2_{j}"] - s[f"y_{j}"]) * _sig_slope(s[f"a2_{j}"])
                                     * s[f"W2_{j}1"] for j in (1, 2)) * slope1 * s["x_2"],
        },
    )


def _sig_slope(a):
    """sigma'(a) = sigma(a)(1 - sigma(a)): the slope taken at the activation."""
    import sympy as sp

    sig = 1 / (1 + sp.exp(-a))
    return sig * (1 - sig)


__all__ = [
    "derive_symbols",
    "check_derive_dw1_12",
    "backward_example",
    "check_backward_222",
    "grad_w2_21_numbers",
    "check_grad_w2_21",
    "delta1_numbers",
    "check_delta1",
    "check_paths",
    "update_rules",
    "show_update_rules",
    "check_update_rule",
]
