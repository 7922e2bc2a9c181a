"""Exercises of the chapter on making deep networks train: the given numbers and the checkers.

1. ``ex-deep-init-scale``: the standard deviation of the weights of a tanh layer that keeps
   Var z level, Var(w) = 1/n_in (diagnoses: He's scale, the variance for the standard
   deviation, the backward width, Glorot's compromise).
2. ``ex-deep-lr-limit``: the largest stable learning rate from lambda_max, 2 / lambda_max.
3. ``ex-deep-momentum``: a function for one momentum step, v <- beta v + g, w <- w - eta v
   (diagnoses: the wrong sign, the old velocity, beta on the gradient).
4. ``ex-deep-adam``: one Adam step with its bias correction (diagnoses: no correction,
   t - 1 for t, epsilon inside the root, the old m and s).
5. ``ex-deep-choose-lambda``: the penalty chosen on the validation set (diagnoses: chosen on
   the test set, chosen on the training set).

Right answers are computed independently of the formulas the reader writes: the init scale
by SymPy solving the variance balance, the learning-rate limit by SymPy solving
|1 - eta lambda| < 1, the update rules by running them the long way (the heavy-ball
recursion for momentum, Adam from its running sums written out over all past gradients).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import sympy as sp

from ..checkers import (
    NotQuiteRight,
    Verdict,
    check_array,
    check_function,
    given,
    is_placeholder,
    not_done,
    numbers_table,
)
from ..codecheck import check_code, fresh_rngs
from ..derivations import check_derivation

INIT_SCALE = "ex-deep-init-scale"
LR_LIMIT = "ex-deep-lr-limit"
MOMENTUM = "ex-deep-momentum"
ADAM = "ex-deep-adam"
CHOOSE_LAMBDA = "ex-deep-choose-lambda"
ADAM_CODE = "ex-deep-adam-code"

# ------------------------------------------------------------------ 1. the init scale


def init_scale_numbers() -> dict:
    """The widths n_in and n_out of one tanh layer (n_in != n_out)."""

    def draw(rng: np.random.Generator) -> dict:
        n_in, n_out = (int(v) for v in rng.choice(np.arange(20, 800), size=2, replace=False))
        return {"n_in": n_in, "n_out": n_out, "activation": "tanh"}

    return given(INIT_SCALE, {"n_in": 256, "n_out": 64, "activation": "tanh"}, draw)


def check_init_scale(answer: object) -> Verdict:
    """The standard deviation of W that keeps Var z^(l) = Var z^(l-1) in a tanh layer."""
    nums = init_scale_numbers()
    n_in, n_out = nums["n_in"], nums["n_out"]
    sd, q = sp.symbols("sd q", positive=True)
    # near 0, tanh(z) ~ z: E[a^2] = Var z = q, and Var z_next = n_in sd^2 q must equal q
    (expected,) = sp.solve(sp.Eq(n_in * sd**2 * q, q), sd)
    return check_array(
        answer,
        float(expected),
        what="the weights' standard deviation",
        mistakes={
            "that is He's scale, sqrt(2/n_in), made for ReLU, where half the units are off and "
            "E[a^2] is half of Var z. tanh passes both signs, E[a^2] ~ Var z, so Var(w) = "
            "1/n_in.": math.sqrt(2 / n_in),
            "that is the variance 1/n_in; the standard deviation is its square root.": 1 / n_in,
            "that uses n_out, the width the backward pass sums over. The forward pass sums "
            "over the n_in inputs of each neuron.": 1 / math.sqrt(n_out),
            "that is Glorot's compromise sqrt(2/(n_in + n_out)), which balances forward and "
            "backward. Asked was the scale that keeps the forward spread level, with "
            "E[a^2] ~ Var z.": math.sqrt(
                2 / (n_in + n_out)
            ),
        },
    )


# ------------------------------------------------------------------ 2. the learning-rate limit


def lr_limit_numbers() -> dict:
    """The largest eigenvalue lambda_max of a Hessian."""

    def draw(rng: np.random.Generator) -> dict:
        return {"lambda_max": round(float(rng.uniform(0.3, 40.0)), 3)}

    return given(LR_LIMIT, {"lambda_max": 12.5}, draw)


def check_lr_limit(answer: object) -> Verdict:
    """The learning rate above which gradient descent diverges along the sharpest direction."""
    lam = sp.nsimplify(lr_limit_numbers()["lambda_max"])
    eta = sp.Symbol("eta", positive=True)
    stable = sp.solve_univariate_inequality(sp.Abs(1 - eta * lam) < 1, eta, relational=False)
    expected = float(stable.sup)
    lam_f = float(lam)
    return check_array(
        answer,
        expected,
        what="the learning-rate limit",
        mistakes={
            "that is 1/lambda_max, where the step lands exactly on the minimum of the sharpest "
            "direction. Above it the step overshoots, but the overshoot still shrinks while "
            "|1 - eta lambda| < 1.": 1 / lam_f,
            "that is 2 lambda_max: the limit is 2 DIVIDED by the curvature (a sharper bowl "
            "needs a smaller step).": 2 * lam_f,
            "that is lambda_max / 2: the limit is 2 / lambda_max.": lam_f / 2,
        },
    )


# ------------------------------------------------------------------ 3. a momentum step


def _momentum_by_heavy_ball(w, v, g, eta, beta):
    """The reference, the long way: w_prev = w + eta v (the step that led here), then
    w_next = w - eta g + beta (w - w_prev); v_next = (w - w_next) / eta."""
    w, v, g = (np.asarray(x, dtype=float) for x in (w, v, g))
    w_prev = w + eta * v
    w_next = w - eta * g + beta * (w - w_prev)
    return np.stack([w_next, (w - w_next) / eta])


def _momentum_inputs() -> list[tuple]:
    rng = np.random.default_rng(11)
    return [
        (rng.normal(size=3), rng.normal(size=3), rng.normal(size=3), eta, beta)
        for eta, beta in ((0.1, 0.9), (0.03, 0.5), (0.5, 0.0))
    ]


def check_momentum_step(answer: object) -> Verdict:
    """``momentum_step(w, v, g, eta, beta) -> (w_new, v_new)``: v <- beta v + g, w <- w - eta v."""
    if is_placeholder(answer):
        return not_done("momentum_step")
    wrapped = _stacked(answer)
    mistakes: dict[str, Callable] = {
        "the step has the wrong sign: w + eta v climbs uphill. Gradient descent subtracts: "
        "w - eta v.": lambda w, v, g, eta, beta: np.stack([w + eta * (beta * v + g), beta * v + g]),
        "the velocity subtracts the gradient (v <- beta v - g) and then w - eta v adds it: "
        "the step goes uphill. Keep one sign convention: v <- beta v + g, w <- w - eta v.":
        lambda w, v, g, eta, beta: np.stack([w - eta * (beta * v - g), beta * v - g]),
        "the weights step with the OLD velocity. Update v first, then step with the new one: "
        "w - eta (beta v + g).": lambda w, v, g, eta, beta: np.stack([w - eta * v, beta * v + g]),
        "beta multiplies the gradient instead of the old velocity: v <- beta v + g keeps "
        "beta of the past and adds the whole new gradient.":
        lambda w, v, g, eta, beta: np.stack([w - eta * (v + beta * g), v + beta * g]),
    }  # fmt: skip
    return check_function(
        wrapped, _momentum_by_heavy_ball, what="momentum_step", inputs=_momentum_inputs(),
        mistakes=mistakes, rtol=1e-9, atol=1e-12,
    )  # fmt: skip


def _stacked(answer: object) -> object:
    """The reader's function, its pair (w_new, v_new) stacked into one array for comparison."""
    if not callable(answer):
        return answer

    def call(*args):
        result = answer(*args)
        if not isinstance(result, tuple | list) or len(result) != 2:
            raise NotQuiteRight(
                "momentum_step must return a pair (w_new, v_new); it returned "
                f"{type(result).__name__}{'' if not hasattr(result, '__len__') else f' of length {len(result)}'}"
            )
        return np.stack([np.asarray(r, dtype=float) for r in result])

    return call


# ------------------------------------------------------------------ 4. an Adam step


def adam_numbers() -> dict:
    """The gradients g_1..g_t of one parameter vector, the weights before step t, eta, betas."""

    def draw(rng: np.random.Generator) -> dict:
        t = int(rng.integers(2, 5))
        grads = np.round(rng.normal(0, 0.5, size=(t, 3)), 2)
        # one weight with small gradients (0.001 to 0.005): only where s is small does eps
        # inside the square root change the step by more than the checker's tolerance
        small = rng.uniform(0.001, 0.005, size=t) * rng.choice([-1.0, 1.0], size=t)
        grads[:, int(rng.integers(0, 3))] = np.round(small, 3)
        return {
            "grads": grads.tolist(),
            "w": np.round(rng.normal(0, 1, size=3), 2).tolist(),
            "eta": float(rng.choice([0.01, 0.02, 0.05])),
            "beta1": 0.9, "beta2": 0.999, "eps": 1e-8,
        }  # fmt: skip

    default = {
        "grads": [[0.4, -0.1, 0.02], [0.3, 0.05, -0.02], [0.35, -0.2, 0.01]],
        "w": [0.5, -1.2, 0.8],
        "eta": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8,
    }  # fmt: skip
    return given(ADAM, default, draw)


def adam_state(nums: dict) -> dict:
    """m and s after steps 1..t-1 (what the reader is given), and t, from the gradients."""
    g = np.asarray(nums["grads"], dtype=float)
    b1, b2 = nums["beta1"], nums["beta2"]
    m, s = np.zeros(g.shape[1]), np.zeros(g.shape[1])
    for g_k in g[:-1]:
        m, s = b1 * m + (1 - b1) * g_k, b2 * s + (1 - b2) * g_k**2
    return {"m": m, "s": s, "t": len(g), "g": g[-1]}


def _adam_by_sums(nums: dict, correct: bool = True, shift: int = 0, eps_inside: bool = False) -> np.ndarray:
    """w after step t, from m_t = (1 - b1) sum_k b1^(t-k) g_k and the same for s (no loop)."""
    g = np.asarray(nums["grads"], dtype=float)
    b1, b2, eta, eps = nums["beta1"], nums["beta2"], nums["eta"], nums["eps"]
    t = len(g)
    powers = np.arange(t - 1, -1, -1)  # t - k for k = 1..t
    m = (1 - b1) * (b1**powers) @ g
    s = (1 - b2) * (b2**powers) @ (g**2)
    tc = t - shift
    m_hat, s_hat = (m / (1 - b1**tc), s / (1 - b2**tc)) if correct else (m, s)
    root = np.sqrt(s_hat + eps) if eps_inside else np.sqrt(s_hat) + eps
    return np.asarray(nums["w"], dtype=float) - eta * m_hat / root


def check_adam_step(answer: object) -> Verdict:
    """The weights after Adam's step t, from the given m, s (after step t-1), g_t, t."""
    nums = adam_numbers()
    expected = _adam_by_sums(nums)
    st = adam_state(nums)
    old = np.asarray(nums["w"]) - nums["eta"] * (st["m"] / (1 - nums["beta1"] ** st["t"])) / (
        np.sqrt(st["s"] / (1 - nums["beta2"] ** st["t"])) + nums["eps"]
    )
    return check_array(
        answer,
        expected,
        what="w after the Adam step",
        mistakes={
            "that is Adam WITHOUT the bias correction. m and s start at 0, so early on they "
            "are too small by the factors 1 - beta1^t and 1 - beta2^t; divide them out: "
            "m_hat = m / (1 - beta1^t), s_hat = s / (1 - beta2^t).": _adam_by_sums(nums, correct=False),
            "the bias correction uses t - 1; this is step t (the first step is t = 1), so "
            "divide by 1 - beta^t.": _adam_by_sums(nums, shift=1),
            "epsilon went inside the square root; Adam adds it after: sqrt(s_hat) + eps "
            "(here the difference shows because s is small).": _adam_by_sums(nums, eps_inside=True),
            "that uses m and s from before this step. First fold in the new gradient: m <- "
            "beta1 m + (1 - beta1) g, s <- beta2 s + (1 - beta2) g^2, then correct and step.": old,
        },
        rtol=1e-9,
        atol=1e-12,
    )


# ------------------------------------------------------------------ 5. choosing lambda


def choose_lambda_numbers() -> dict:
    """Five penalties lambda and each run's final training, validation and test loss."""

    def draw(rng: np.random.Generator) -> dict:
        lams = [0.0, 1e-4, 1e-3, 1e-2, 1e-1]
        i_val = int(rng.integers(1, 4))
        i_test = int(rng.choice([k for k in range(1, 5) if k != i_val]))
        base = lambda i, width: 0.2 + width * (np.arange(5) - i) ** 2  # noqa: E731
        val = base(i_val, 0.03) + rng.uniform(0, 0.005, 5)
        test = base(i_test, 0.02) + 0.01 + rng.uniform(0, 0.005, 5)
        train = 0.02 + 0.1 * np.arange(5) ** 1.5 / 8 + rng.uniform(0, 0.004, 5)
        return {"lambdas": lams, "train": np.round(train, 3).tolist(),
                "validation": np.round(val, 3).tolist(), "test": np.round(test, 3).tolist()}  # fmt: skip

    default = {
        "lambdas": [0.0, 1e-4, 1e-3, 1e-2, 1e-1],
        "train": [0.012, 0.025, 0.061, 0.158, 0.402],
        "validation": [0.241, 0.219, 0.206, 0.232, 0.437],
        "test": [0.236, 0.214, 0.219, 0.205, 0.431],
    }
    return given(CHOOSE_LAMBDA, default, draw)


def check_choose_lambda(answer: object) -> Verdict:
    """The lambda to use: lowest validation loss. The test set only reports, afterwards."""
    nums = choose_lambda_numbers()
    lams = nums["lambdas"]
    pick = lambda key: lams[int(np.argmin(nums[key]))]  # noqa: E731
    return check_array(
        answer,
        pick("validation"),
        what="the chosen lambda",
        mistakes={
            "that lambda was chosen on the TEST set. Every choice made by looking at the test "
            "set fits the test set, and its loss no longer measures unseen data. Choose on "
            "validation; read the test loss once, for the choice made.": pick("test"),
            "that lambda has the lowest TRAINING loss, which always favours the smallest "
            "penalty (the penalty only ever raises the training loss). Choose on validation.":
            pick("train"),
        },  # fmt: skip
        atol=0.0,
        rtol=1e-12,
    )


# ------------------------------------------------------------------ Adam's update, as code


def _adam(w, g, m, s, t, eta, beta1, beta2, eps, *, correct=True, eps_inside=False,
          root=True, old=False, swap=False, sign=1.0, shift=0, correct_s=True,
          hat_state=False):
    """Adam's step (w_new, m_new, s_new), with the bug asked for (``shift``: the bias
    correction at t + shift; ``correct_s`` False: m alone corrected; ``hat_state``: the
    corrected means returned as the new state)."""
    b1, b2 = (beta2, beta1) if swap else (beta1, beta2)
    m_new = b1 * m + (1 - b1) * g
    s_new = b2 * s + (1 - b2) * g**2
    mm, ss = (m, s) if old else (m_new, s_new)
    if correct:
        tc = t + shift
        mm, ss = mm / (1 - beta1**tc), (ss / (1 - beta2**tc) if correct_s else ss)
    scale = np.sqrt(ss + eps) if eps_inside else (np.sqrt(ss) if root else ss) + eps
    if hat_state:
        return w - sign * eta * mm / scale, mm, ss
    return w - sign * eta * mm / scale, m_new, s_new


def adam_example() -> dict:
    """The example the page prints (the checker uses fresh ones)."""
    return _adam_case(np.random.default_rng(1729))


def _adam_case(rng: np.random.Generator) -> dict:
    shape = (int(rng.integers(2, 4)), int(rng.integers(1, 4)))
    return {"w": rng.normal(0, 1, shape), "g": rng.normal(0, 1, shape),
            "m": rng.normal(0, 0.3, shape), "s": rng.uniform(0.05, 0.5, shape),
            "t": int(rng.integers(2, 9)), "eta": float(rng.uniform(0.01, 0.1)),
            "beta1": 0.9, "beta2": 0.999, "eps": float(rng.choice([1e-8, 1e-3]))}


def _adam_bug(**kw):
    return lambda *args: _adam(*args, **kw)


def check_adam_update(adam_update: object, part: str | None = None) -> Verdict:
    """A function ``adam_update(w, g, m, s, t, eta, beta1, beta2, eps) -> (w, m, s)``."""
    cases = [_adam_case(rng) for rng in fresh_rngs(ADAM_CODE)]
    cases[-1]["eps"] = 1e-3  # big enough that where it sits shows in the numbers
    return check_code(
        adam_update, _adam, what="your adam_update", cases=cases,
        names=["w_new", "m_new", "s_new"], returns="the tuple (w_new, m_new, s_new)",
        mistakes={
            "the bias correction is missing: divide the new means by 1 - beta1^t and "
            "1 - beta2^t (both start at 0, so early on they are too small).":
                _adam_bug(correct=False),
            "eps went inside the square root; it is added to sqrt(s_hat), outside.":
                _adam_bug(eps_inside=True),
            "the square root of s_hat is missing: s is a mean of g^2, so the step divides "
            "by its root, the size of a typical gradient.": _adam_bug(root=False),
            "the step uses the means from before this step; fold g in first, then step "
            "with the new means.": _adam_bug(old=True),
            "beta1 and beta2 are swapped: beta1 (0.9) is the gradient's mean, beta2 "
            "(0.999) the squared gradient's.": _adam_bug(swap=True),
            "the step goes uphill: Adam subtracts its step from w.": _adam_bug(sign=-1.0),
            "the bias correction uses t - 1; this is step t (the first step is t = 1), so "
            "divide by 1 - beta^t.": _adam_bug(shift=-1),
            "the bias correction uses t + 1; this is step t, and t already counts this "
            "step, so divide by 1 - beta^t.": _adam_bug(shift=1),
            "only m is bias-corrected: s starts at 0 too, and needs its own correction, by "
            "1 - beta2^t.": _adam_bug(correct_s=False),
            "the new state holds the bias-corrected means; the state keeps the running "
            "means themselves (the correction serves the step only, and is made again "
            "at every step).": _adam_bug(hat_state=True),
        },
        part=part,
    )


check_adam_update.parts = ["w_new", "m_new", "s_new"]


# ------------------------------------------------------------------ a derivation, typed


def check_derive_l2(formula: object) -> Verdict:
    """d/dw of C_data + (lam/2) w^2, as a formula in g (= dC_data/dw), lam and w."""
    s = {n: sp.Symbol(n, real=True) for n in ("g", "lam", "w")}
    g, lam, w = s.values()
    return check_derivation(
        formula, g + lam * w, what="the penalized gradient", symbols=s,
        mistakes={
            "the penalty's term is twice too large: the 1/2 in (lam/2) w^2 cancels the 2 "
            "of the square.": g + 2 * lam * w,
            "the penalty's term is half the right size: differentiate (lam/2) w^2 once "
            "more, and let the 1/2 meet the 2 of the square.": g + lam * w / 2,
            "the penalty's term has the wrong sign: the penalty pulls w toward 0, so its "
            "gradient has the sign of w (a step against it shrinks w).": g - lam * w,
            "the data gradient g is missing: the two terms of the cost add, so do their "
            "gradients.": lam * w,
            "that is the penalty itself, not its derivative.": g + lam * w**2 / 2,
        },
    )


__all__ = [
    "check_derive_l2",
    "init_scale_numbers",
    "check_init_scale",
    "lr_limit_numbers",
    "check_lr_limit",
    "check_momentum_step",
    "adam_numbers",
    "adam_state",
    "check_adam_step",
    "adam_example",
    "check_adam_update",
    "choose_lambda_numbers",
    "check_choose_lambda",
    "numbers_table",
]
