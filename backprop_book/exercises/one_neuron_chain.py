"""Exercises of the 1-1-1 chapter: the given numbers and the checkers.

The chain is z1 = w1 x + b1, a1 = sigma(z1), z2 = w2 a1 + b2, a2 = sigma(z2), C = (a2 - y)^2
(no 1/2). Right answers come from :mod:`backprop_book.reference`, which uses the cost
1/2 (a - y)^2: its gradients are doubled here. The classic wrong answers each checker
recognises are built from the same numbers.
"""

from __future__ import annotations

import numpy as np

from .. import codecheck
from .. import reference as ref
from ..checkers import SIGN_A_MINUS_Y, Verdict, check_array, check_expr, check_function, given
from ..codecheck import check_code, fresh_rngs
from ..derivations import check_derivation

SIGMOID_SLOPE = "ex-111-sigmoid-slope"
GRAD_W1 = "ex-111-grad-w1"
SENSITIVITY = "ex-111-sensitivity"
TANH = "ex-111-tanh"
BACKWARD = "ex-111-backward"


def _chain_params(n: dict) -> list[tuple[np.ndarray, np.ndarray]]:
    return [
        (np.array([[n["w1"]]]), np.array([[n["b1"]]])),
        (np.array([[n["w2"]]]), np.array([[n["b2"]]])),
    ]


def _draw_chain(rng: np.random.Generator) -> dict:
    w1, w2 = rng.choice([-1, 1], size=2) * rng.uniform(0.4, 2.0, size=2)
    return {
        "w1": round(float(w1), 2),
        "b1": round(float(rng.uniform(-1, 1)), 2),
        "w2": round(float(w2), 2),
        "b2": round(float(rng.uniform(-1, 1)), 2),
        "x": round(float(rng.uniform(0.5, 2.0)), 2),
        "y": round(float(rng.uniform(0.05, 0.95)), 2),
    }


# ------------------------------------------------------------------ 1. the sigmoid's slope


def sigmoid_slope_numbers() -> dict:
    """The point z at which the reader evaluates sigma'(z)."""
    return given(
        SIGMOID_SLOPE,
        {"z": 0.7},
        # three decimals: about 4,400 points, so few students of a class share one
        lambda rng: {"z": round(float(rng.choice([-1, 1]) * rng.uniform(0.3, 2.5)), 3)},
    )


def check_sigmoid_slope(answer: object) -> Verdict:
    """sigma'(z) at the given z, a number."""
    z = sigmoid_slope_numbers()["z"]
    s = float(ref.sigmoid(z))
    return check_array(
        answer,
        float(ref.sigmoid_prime(z)),
        what=f"sigma'({z})",
        mistakes={
            "you evaluated a(1 - a) at a = z. The formula sigma(z)(1 - sigma(z)) needs "
            "a = sigma(z) first.": z * (1 - z),
            "that is sigma(z) itself; the slope is sigma(z)(1 - sigma(z)).": s,
            "you used sigma(a)(1 - sigma(a)) with a = sigma(z): the derivative is taken "
            "at z, not at the activation.": float(ref.sigmoid_prime(s)),
        },
    )


# ------------------------------------------------------------------ 2. dC/dw1 by hand


def chain_numbers(label: str = GRAD_W1) -> dict:
    """w1, b1, w2, b2, x, y of a chain the reader differentiates by hand."""
    defaults = {
        GRAD_W1: {"w1": 1.2, "b1": -0.5, "w2": -0.9, "b2": 0.3, "x": 1.4, "y": 0.8},
        SENSITIVITY: {"w1": -0.7, "b1": 0.4, "w2": 1.6, "b2": -0.2, "x": 0.9, "y": 0.3},
    }
    return given(label, defaults[label], _draw_chain)


def _forward(n: dict) -> dict:
    z1 = n["w1"] * n["x"] + n["b1"]
    a1 = float(ref.sigmoid(z1))
    z2 = n["w2"] * a1 + n["b2"]
    return {"z1": z1, "a1": a1, "z2": z2, "a2": float(ref.sigmoid(z2))}


def _reference_grads(n: dict) -> dict:
    """dC/dw1, dC/db1, dC/dw2, dC/db2 for C = (a2 - y)^2, from the reference (times 2)."""
    _, grads = ref.loss_and_grads(
        _chain_params(n), [[n["x"]]], [[n["y"]]], ["sigmoid", "sigmoid"], "squared_error"
    )
    (dW1, db1), (dW2, db2) = grads
    return {"w1": 2 * dW1.item(), "b1": 2 * db1.item(), "w2": 2 * dW2.item(), "b2": 2 * db2.item()}


def check_grad_w1(answer: object) -> Verdict:
    """dC/dw1 at the given numbers, a number."""
    n = chain_numbers(GRAD_W1)
    f = _forward(n)
    dC_da2 = 2 * (f["a2"] - n["y"])
    wrong_slope = float(ref.sigmoid_prime(f["a2"]) * n["w2"] * ref.sigmoid_prime(f["a1"]) * n["x"])
    s1, s2 = float(ref.sigmoid_prime(f["z1"])), float(ref.sigmoid_prime(f["z2"]))
    s1_at_a, s2_at_a = float(ref.sigmoid_prime(f["a1"])), float(ref.sigmoid_prime(f["a2"]))
    return check_array(
        answer,
        _reference_grads(n)["w1"],
        what="dC/dw1",
        sign=SIGN_A_MINUS_Y,
        mistakes={
            "the factor sigma'(z1) is missing: w2 delta2 is dC/da1; the hidden neuron's "
            "sigmoid stands between a1 and z1, and its slope a1(1 - a1) is the next factor.":
                dC_da2 * s2 * n["w2"] * n["x"],
            "the factor sigma'(z2) is missing: 2(a2 - y) is dC/da2; the output neuron's "
            "sigmoid stands between a2 and z2, and its slope a2(1 - a2) is the next factor.":
                dC_da2 * n["w2"] * s1 * n["x"],
            "the hidden neuron's slope was taken at its activation, sigma'(a1); it belongs at "
            "z1: sigma'(z1) = a1(1 - a1).": dC_da2 * s2 * n["w2"] * s1_at_a * n["x"],
            "the output neuron's slope was taken at its activation, sigma'(a2); it belongs at "
            "z2: sigma'(z2) = a2(1 - a2).": dC_da2 * s2_at_a * n["w2"] * s1 * n["x"],
            "sigma'(z2) is there twice: dC/dz2 = dC/da2 * da2/dz2 already holds it, so the "
            "next factor is dz2/da1 = w2.": dC_da2 * s2 * s2 * n["w2"] * s1 * n["x"],
            "you used w1 where w2 belongs: from a1 the path to the cost goes through the "
            "OUTPUT neuron's weight, dz2/da1 = w2.": dC_da2 * s2 * n["w1"] * s1 * n["x"],
            "you used a1 where x belongs: w1 multiplies the input x, so dz1/dw1 = x (a1 is "
            "what w2 multiplies).": dC_da2 * s2 * n["w2"] * s1 * f["a1"],
            "the sigmoid's slope was taken at the activations (sigma'(a)) instead of at z. "
            "Use sigma'(z) = a(1 - a), with a = sigma(z).": dC_da2 * wrong_slope,
            "the factor w2 (= dz2/da1) is missing: the path from a1 to the cost goes "
            "through the output neuron's weight.": dC_da2
            * float(ref.sigmoid_prime(f["z2"]) * ref.sigmoid_prime(f["z1"]))
            * n["x"],
            "the factor x (= dz1/dw1) is missing.": dC_da2
            * float(ref.sigmoid_prime(f["z2"]) * ref.sigmoid_prime(f["z1"]))
            * n["w2"],
            "that is dC/dw2 (its last factor is a1, not w2 sigma'(z1) x).": _reference_grads(n)[
                "w2"
            ],
        },
    )


# ------------------------------------------------------------------ 3. dC/da1


def check_sensitivity(answer: object) -> Verdict:
    """dC/da1 at the numbers of exercise ``ex-111-sensitivity``, a number."""
    n = chain_numbers(SENSITIVITY)
    f = _forward(n)
    delta2 = 2 * (f["a2"] - n["y"]) * float(ref.sigmoid_prime(f["z2"]))
    # Independent route: dC/dw1 = dC/da1 * sigma'(z1) * x, so dC/da1 follows from the reference.
    expected = _reference_grads(n)["w1"] / (float(ref.sigmoid_prime(f["z1"])) * n["x"])
    s2_at_a = float(ref.sigmoid_prime(f["a2"]))
    return check_array(
        answer,
        expected,
        what="dC/da1",
        sign=SIGN_A_MINUS_Y,
        mistakes={
            "the factor sigma'(z2) is missing: 2(a2 - y) is dC/da2; the output neuron's "
            "sigmoid stands between a2 and z2, and its slope a2(1 - a2) comes before w2.":
                2 * (f["a2"] - n["y"]) * n["w2"],
            "the output neuron's slope was taken at its activation, sigma'(a2); it belongs at "
            "z2: sigma'(z2) = a2(1 - a2).": 2 * (f["a2"] - n["y"]) * s2_at_a * n["w2"],
            "you multiplied by a1 (that is dz2/dw2). How z2 moves with a1 is its weight: "
            "dz2/da1 = w2.": delta2 * f["a1"],
            "that is delta2 = dC/dz2; one more factor, dz2/da1 = w2, takes it to a1.": delta2,
            "you went one step too far: that is dC/dz1, which also has the factor "
            "sigma'(z1).": delta2 * n["w2"] * float(ref.sigmoid_prime(f["z1"])),
        },
    )


# ------------------------------------------------------------------ 4. a new activation: tanh


def check_tanh_derivative(answer: object) -> Verdict:
    """d tanh(z)/dz as a SymPy expression in the symbol ``z``."""
    import sympy as sp

    z = sp.Symbol("z", real=True)
    if isinstance(answer, sp.Basic):  # accept the reader's z whatever its assumptions
        answer = answer.subs({s: z for s in answer.free_symbols if s.name == "z"})
    return check_expr(
        answer,
        1 - sp.tanh(z) ** 2,
        what="d tanh(z)/dz",
        mistakes={
            "that is 1 - tanh(z): the square is missing, tanh'(z) = 1 - tanh(z)^2.": 1 - sp.tanh(z),
            "that is the sigmoid's slope, a(1 - a) with a = tanh(z); tanh has its own.": sp.tanh(z)
            * (1 - sp.tanh(z)),
        },
    )


def check_tanh_chain(grad_w1: object) -> Verdict:
    """A function ``f(w1, b1, w2, b2, x, y) -> dC/dw1`` for the chain with a tanh hidden neuron."""

    def reference(w1, b1, w2, b2, x, y):  # centered differences of the cost: independent
        def cost(w):
            a2 = ref.sigmoid(w2 * np.tanh(w * x + b1) + b2)
            return (a2 - y) ** 2

        h = 1e-6
        return (cost(w1 + h) - cost(w1 - h)) / (2 * h)

    def sigmoid_slope_used(w1, b1, w2, b2, x, y):
        z1 = w1 * x + b1
        z2 = w2 * np.tanh(z1) + b2
        a2 = ref.sigmoid(z2)
        return 2 * (a2 - y) * ref.sigmoid_prime(z2) * w2 * ref.sigmoid_prime(z1) * x

    def with_hidden_slope(slope):
        def grad(w1, b1, w2, b2, x, y):
            t = np.tanh(w1 * x + b1)
            z2 = w2 * t + b2
            a2 = ref.sigmoid(z2)
            return 2 * (a2 - y) * ref.sigmoid_prime(z2) * w2 * slope(t) * x

        return grad

    rng = np.random.default_rng(111)
    points = [tuple(np.round(rng.uniform(-1.5, 1.5, size=6), 3)) for _ in range(4)]
    return check_function(
        grad_w1,
        reference,
        what="your dC/dw1 function",
        inputs=points,
        rtol=1e-6,
        atol=1e-8,
        mistakes={
            "the hidden neuron's slope is still the sigmoid's; with tanh it is "
            "1 - tanh(z1)^2.": sigmoid_slope_used,
            "the hidden neuron's slope is still the sigmoid's formula a1(1 - a1), now with "
            "a1 = tanh(z1); tanh's own slope is 1 - a1^2.": with_hidden_slope(
                lambda t: t * (1 - t)),
            "the hidden slope was taken at the activation, tanh'(a1) = 1 - tanh(a1)^2; it "
            "belongs at z1: 1 - tanh(z1)^2 = 1 - a1^2.": with_hidden_slope(
                lambda t: 1 - np.tanh(t) ** 2),
            "the hidden neuron's slope is missing: the path from a1 back to z1 goes through "
            "the tanh, whose slope is 1 - a1^2.": with_hidden_slope(lambda t: 1.0),
            "you used 1 - a1 for the slope; tanh'(z1) = 1 - a1^2, with the square.":
                with_hidden_slope(lambda t: 1 - t),
        },
    )


# ------------------------------------------------------------------ 5. all four gradients, as code


def _cache_of(n: dict) -> dict:
    f = _forward(n)
    return {"x": n["x"], "z1": f["z1"], "a1": f["a1"], "z2": f["z2"], "a2": f["a2"]}


def backward_example() -> dict:
    """The example the page prints: a cache of the chain, w2 and y (the checker uses others)."""
    n = chain_numbers(GRAD_W1)
    return {"cache": _cache_of(n), "w2": n["w2"], "y": n["y"]}


def _backward_cases() -> list[dict]:
    cases = []
    for rng in fresh_rngs(BACKWARD):
        n = {k: float(v) for k, v in _draw_chain(rng).items()}
        n["x"] *= float(rng.choice([-1, 1]))
        cases.append({"cache": _cache_of(n), "w2": n["w2"], "y": n["y"]})
    return cases


def _chain_grads(cache, w2, y, slope2, slope1, dz2=None, dw1=None, dw2=None, out=2.0):
    """(dC/dw1, dC/db1, dC/dw2, dC/db2) from the given local factors (a bug swaps one)."""
    delta2 = out * (cache["a2"] - y) * slope2
    delta1 = delta2 * w2 * slope1
    return (delta1 * (cache["x"] if dw1 is None else dw1), delta1,
            delta2 * (cache["a1"] if dw2 is None else dw2), delta2)


def _backward_111(cache, w2, y):
    s2 = float(ref.sigmoid_prime(cache["z2"]))
    return _chain_grads(cache, w2, y, s2, float(ref.sigmoid_prime(cache["z1"])))


def _backward_111_fd(cache, w2, y, h=1e-6):
    """Centered differences of C = (a2 - y)^2: nudging w1 moves z1 by h x, b1 by h, ..."""
    b2 = cache["z2"] - w2 * cache["a1"]

    def cost(dz1=0.0, dz2=0.0):
        a1 = ref.sigmoid(cache["z1"] + dz1)
        return float((ref.sigmoid(w2 * a1 + b2 + dz2) - y) ** 2)

    def fd(**nudge):
        plus = cost(**{k: v * h for k, v in nudge.items()})
        minus = cost(**{k: -v * h for k, v in nudge.items()})
        return (plus - minus) / (2 * h)

    return (fd(dz1=cache["x"]), fd(dz1=1.0), fd(dz2=cache["a1"]), fd(dz2=1.0))


def _slopes(cache, z2, z1):
    return float(ref.sigmoid_prime(z2)), float(ref.sigmoid_prime(z1))


def _backward_111_mistakes() -> dict:
    def g(fn):
        return lambda cache, w2, y: fn(cache, w2, y, *_slopes(cache, cache["z2"], cache["z1"]))

    def at(z2_of, z1_of):
        return lambda cache, w2, y: _chain_grads(
            cache, w2, y, *_slopes(cache, z2_of(cache), z1_of(cache)))

    return {
        "the output neuron's slope was taken at its activation, sigma'(a2); it belongs at "
        "z2: a2 * (1 - a2).": at(lambda c: c["a2"], lambda c: c["z1"]),
        "the hidden neuron's slope was taken at its activation, sigma'(a1); it belongs at "
        "z1: a1 * (1 - a1).": at(lambda c: c["z2"], lambda c: c["a1"]),
        "the sigmoid's slope was taken at the activations, sigma'(a2) and sigma'(a1). "
        "The slope belongs at z: sigma'(z) = a(1 - a) with a = sigma(z), which is "
        "a2 * (1 - a2), not sigma'(a2).": at(lambda c: c["a2"], lambda c: c["a1"]),
        "the factor sigma'(z1) is missing: dC/da1 = delta2 w2 still has to go through the "
        "hidden neuron's sigmoid to reach z1.": g(lambda c, w2, y, s2, s1:
                                                 _chain_grads(c, w2, y, s2, 1.0)),
        "the factor sigma'(z2) is missing: 2 (a2 - y) is dC/da2; the output neuron's "
        "sigmoid stands between a2 and z2.": g(lambda c, w2, y, s2, s1:
                                               _chain_grads(c, w2, y, 1.0, s1)),
        "sigma'(z2) is there twice: delta2 = dC/da2 * da2/dz2 already holds it.":
            g(lambda c, w2, y, s2, s1: _chain_grads(c, w2, y, s2 * s2, s1)),
        "the slope was computed as z(1 - z), from z; the formula a(1 - a) needs the "
        "activation a = sigma(z).": lambda cache, w2, y: _chain_grads(
            cache, w2, y, cache["z2"] * (1 - cache["z2"]), cache["z1"] * (1 - cache["z1"])),
        "the wrong layer's activation: dz2/dw2 is the hidden neuron's output a1, the input "
        "of the weight, not a2.": g(lambda c, w2, y, s2, s1:
                                    _chain_grads(c, w2, y, s2, s1, dw2=c["a2"])),
        "the wrong layer's activation: dz1/dw1 is the input x, not a1.":
            g(lambda c, w2, y, s2, s1: _chain_grads(c, w2, y, s2, s1, dw1=c["a1"])),
    }


def check_backward_111(backward_111: object, part: str | None = None) -> Verdict:
    """A function ``backward_111(cache, w2, y) -> (dC_dw1, dC_db1, dC_dw2, dC_db2)``;
    ``part``: one of them alone (one graded test cell each in the course)."""
    return check_code(
        backward_111,
        _backward_111,
        what="your backward_111",
        cases=_backward_cases(),
        names=["dC_dw1", "dC_db1", "dC_dw2", "dC_db2"],
        returns="the tuple (dC_dw1, dC_db1, dC_dw2, dC_db2)",
        mistakes=_backward_111_mistakes(),
        numeric=_backward_111_fd,
        why=lambda name, case: "one number, like the parameter",
        part=part,
        sign=codecheck.SIGN_A_MINUS_Y,
    )


check_backward_111.parts = ["dC_dw1", "dC_db1", "dC_dw2", "dC_db2"]


def numbers_table(numbers: dict) -> str:
    """The given numbers as one labelled line, for the exercise cells."""
    return ", ".join(f"{k} = {v}" for k, v in numbers.items())


# ------------------------------------------------------------------ 6. derivations, typed as formulas


def _chain_symbols(*names: str) -> dict:
    import sympy as sp

    return {n: sp.Symbol(n, real=True) for n in names}


def check_derive_dw2(formula: object) -> Verdict:
    """dC/dw2 for C = (a2 - y)^2 as a formula in a1, a2, y (a string or SymPy)."""
    s = _chain_symbols("a1", "a2", "y", "w2")
    a1, a2, y = s["a1"], s["a2"], s["y"]
    sig = 1 / (1 + __import__("sympy").exp(-a2))
    return check_derivation(
        formula, 2 * (a2 - y) * a2 * (1 - a2) * a1, what="dC/dw2", symbols=s,
        factors={"sigma'(z2) = a2*(1 - a2)": a2 * (1 - a2), "a1 (= dz2/dw2)": a1,
                 "2 (from the square)": 2, "w2": s["w2"]},
        mistakes={
            "the slope was taken at the activation, sigma'(a2) = sigma(a2)(1 - sigma(a2)); "
            "it belongs at z2, and there it is a2*(1 - a2).": 2 * (a2 - y) * sig * (1 - sig) * a1,
            "you used a2 where a1 belongs: the weight w2 multiplies a1, so dz2/dw2 = a1.":
                2 * (a2 - y) * a2 * (1 - a2) * a2,
        },
    )


def check_derive_dw1(formula: object) -> Verdict:
    """dC/dw1 for C = (a2 - y)^2 as a formula in x, a1, a2, y, w2."""
    s = _chain_symbols("x", "a1", "a2", "y", "w2")
    x, a1, a2, y, w2 = s.values()
    right = 2 * (a2 - y) * a2 * (1 - a2) * w2 * a1 * (1 - a1) * x
    return check_derivation(
        formula, right, what="dC/dw1", symbols=s,
        factors={"sigma'(z1) = a1*(1 - a1)": a1 * (1 - a1),
                 "sigma'(z2) = a2*(1 - a2)": a2 * (1 - a2), "w2 (= dz2/da1)": w2,
                 "x (= dz1/dw1)": x, "2 (from the square)": 2},
        mistakes={
            "you used a1 where x belongs: w1 multiplies the input x, so dz1/dw1 = x.":
                right / x * a1,
            "that is dC/dw2: its last factor is a1; dC/dw1 goes one layer further back, to "
            "the hidden neuron and the weight w1.": 2 * (a2 - y) * a2 * (1 - a2) * a1,
            **_slope_at_a_mistakes(right, {"1": a1, "2": a2}),
        },
    )


def _slope_at_a_mistakes(right, activations: dict) -> dict:
    """The right formula with sigma'(a) = sigma(a)(1 - sigma(a)) for a(1 - a), at one
    neuron and at all of them, each named."""
    import sympy as sp

    def at_a(formula, names):
        for k in names:
            a = activations[k]
            sig = 1 / (1 + sp.exp(-a))
            formula = formula.subs(a * (1 - a), sig * (1 - sig))
        return formula

    out = {}
    for k, a in activations.items():
        out[f"the slope of neuron {k} was taken at its activation, sigma'({a}) = "
            f"sigma({a})(1 - sigma({a})); it belongs at z{k}, and there it is written with "
            f"{a} itself."] = at_a(right, [k])
    out["the sigmoid's slopes were taken at the activations, sigma'(a) = "
        "sigma(a)(1 - sigma(a)); they belong at z, and there each is written with its "
        "neuron's a itself."] = at_a(right, list(activations))
    return out


__all__ = [
    "check_derive_dw2",
    "check_derive_dw1",
    "sigmoid_slope_numbers",
    "check_sigmoid_slope",
    "chain_numbers",
    "check_grad_w1",
    "check_sensitivity",
    "check_tanh_derivative",
    "check_tanh_chain",
    "backward_example",
    "check_backward_111",
    "numbers_table",
]
