"""Exercises of the chapter "A transformer block by hand": the given numbers and the checkers.

1. ``ex-attn-embedding``: the gradient of an embedding table from the gradient of its rows,
   with a repeated token (diagnoses: overwritten instead of added, only the first
   occurrence kept, transposed).
2. ``ex-attn-weight-derivative``: the derivative of an attention weight with respect to the
   query, typed as a formula string and proved equal (or named) by SymPy.
3. ``ex-attn-softmax-jvp``: a function for the row-wise softmax's Jacobian-vector product.
4. ``ex-attn-backward``: a function for causal attention's forward and backward pass.
5. ``ex-attn-rms-norm``: the backward pass of a layer the chapter never shows, RMS norm
   (judged by :func:`backprop_book.codecheck.check_code`; diagnoses: the root mean square
   treated as a constant, layer norm's mean term kept, the 1/d of the mean left out, eps
   moved out of the root, gamma left out of dX, dgamma from x instead of x / r).

The function checkers call the reader's function on fresh random inputs (seeds of their
own, never printed on the page), compare every returned array with the package's
reference and with centered differences, and name a classic mistake by comparing with what
that bug produces. They never show the reference code. An exception in the reader's code is
reported in one line, with the reader's own line that raised it.
"""

from __future__ import annotations

import math
import traceback
from collections.abc import Callable
from pathlib import Path

import numpy as np
import sympy as sp

from .. import attention as ref
from ..checkers import (
    NotQuiteRight,
    Verdict,
    as_numbers,
    check_array,
    check_expr,
    given,
    is_placeholder,
    not_done,
    right,
)
from ..codecheck import check_code, fresh_rngs
from ..gradcheck import numerical_gradient

EMBEDDING = "ex-attn-embedding"
WEIGHT_DERIVATIVE = "ex-attn-weight-derivative"
SOFTMAX_JVP = "ex-attn-softmax-jvp"
BACKWARD = "ex-attn-backward"
RMS_NORM = "ex-attn-rms-norm"

_PACKAGE = str(Path(__file__).resolve().parent.parent)


# ------------------------------------------------------------------ calling the reader's code


class _NotDone(Exception):
    """The reader's function still raises the handout's NotImplementedError."""


def _call(fn: Callable, args: tuple, what: str):
    """fn(*args); an exception becomes one line naming the reader's own line."""
    try:
        return fn(*args)
    except NotImplementedError:
        raise _NotDone from None
    except NotQuiteRight:
        raise
    except Exception as err:  # the reader's code: one line, never a deep traceback
        frames = [f for f in traceback.extract_tb(err.__traceback__)
                  if not f.filename.startswith(_PACKAGE) and "site-packages" not in f.filename
                  and "/numpy/" not in f.filename]
        where = ""
        if frames:
            line = (frames[-1].line or "").strip()
            where = f" in your line {frames[-1].lineno}" + (f": `{line}`" if line else "")
        shapes = ", ".join(str(np.shape(a)) for a in args)
        raise NotQuiteRight(
            f"calling {what} on arrays of shapes {shapes} raised {type(err).__name__}{where}: "
            f"{err}"
        ) from None


def _arrays(result, names: tuple[str, ...], what: str) -> list[np.ndarray]:
    """The reader's result as float arrays, one per name."""
    if len(names) == 1:
        result = (result,)
    elif not isinstance(result, tuple | list) or len(result) != len(names):
        n = len(result) if isinstance(result, tuple | list) else "no tuple"
        raise NotQuiteRight(
            f"{what} should return {len(names)} arrays, ({', '.join(names)}); it returned "
            f"{type(result).__name__} ({n})."
        )
    out = []
    for name, value in zip(names, result, strict=True):
        if is_placeholder(value):
            raise NotQuiteRight(f"{what} returned None for {name}: every array must be computed.")
        out.append(as_numbers(
            value, f"{what} returned a {{type}} for {name}; expected a NumPy array.",
            f"{name} from {what} contains NaN or infinity: is -inf from the mask reaching "
            "a product (0 * inf) or an exponent without the max shift?"))
    return out


def _shape_problem(name: str, got: tuple, want: tuple, of: str) -> str | None:
    if got == want:
        return None
    msg = (f"{name} should have shape {want}, the shape of {of} (a gradient has the shape of "
           f"what it is the gradient of); yours has shape {got}.")
    if got == want[:-2] + want[-2:][::-1]:
        msg += " It looks transposed (the last two axes swapped)."
    return msg


def _worst(name: str, got: np.ndarray, want: np.ndarray, fd: np.ndarray | None) -> str:
    diff = np.abs(got - want)
    idx = tuple(int(i) for i in np.unravel_index(np.argmax(diff), diff.shape))
    fd_text = f", centered differences {fd[idx]:.6g}" if fd is not None else ""
    return (f"{name} is not a mistake we recognise: {int((diff > 1e-6 * (1 + abs(want))).sum())} "
            f"of {got.size} entries are off, the worst at index {idx}: yours {got[idx]:.6g}, "
            f"right {want[idx]:.6g}{fd_text}.")


def _close(a: np.ndarray, b: np.ndarray, tol: float = 1e-7) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=tol, atol=tol))


# ------------------------------------------------------------------ 1. an embedding's gradient


def embedding_numbers() -> dict:
    """Token ids (one repeated) of a vocabulary of V, and dX = dC/dX, one row per token."""

    def draw(rng: np.random.Generator) -> dict:
        V, T, d = int(rng.integers(5, 8)), 5, 3
        tokens = rng.integers(0, V, size=T)
        tokens[rng.choice(T, size=2, replace=False)] = int(rng.integers(0, V))
        return {"V": V, "tokens": tokens.tolist(),
                "dX": np.round(rng.normal(0, 1, (T, d)), 2).tolist()}

    default = {"V": 6, "tokens": [2, 5, 0, 2, 3],
               "dX": [[0.5, -1.0, 0.25], [1.5, 0.0, -0.5], [-0.25, 2.0, 1.0],
                      [0.75, 0.5, -1.5], [1.0, -0.5, 0.5]]}
    return given(EMBEDDING, default, draw)


def check_embedding(answer: object) -> Verdict:
    """dC/dE, shape (V, d), for X = E[tokens]."""
    nums = embedding_numbers()
    tokens, dX, V = np.array(nums["tokens"]), np.array(nums["dX"]), nums["V"]
    expected = ref.embed_backward(dX, tokens, V)
    overwritten = np.zeros_like(expected)
    overwritten[tokens] = dX  # the last occurrence wins
    first = np.zeros_like(expected)
    for t in range(len(tokens) - 1, -1, -1):
        first[tokens[t]] = dX[t]
    return check_array(
        answer, expected, what="dC/dE",
        mistakes={
            "a repeated token's rows were overwritten, not added: `dE[tokens] = dX` keeps only "
            "the last occurrence. Each use of a row is a path to the cost, and paths add: "
            "np.add.at(dE, tokens, dX).": overwritten,
            "only the first occurrence of the repeated token counts; every occurrence adds "
            "its row of dX.": first,
        },
    )  # fmt: skip


# ------------------------------------------------------------------ 2. a weight's derivative

_Q, _K1, _K2, _D = sp.symbols("q k1 k2 d", positive=True)
_P1, _P2 = sp.symbols("p1 p2", positive=True)


def weight_derivative_symbols() -> dict[str, sp.Symbol]:
    """The names a formula may use: q, k1, k2, d, and p1, p2 for the two weights."""
    return {"q": _Q, "k1": _K1, "k2": _K2, "d": _D, "p1": _P1, "p2": _P2}


def _weights():
    s1, s2 = _Q * _K1 / sp.sqrt(_D), _Q * _K2 / sp.sqrt(_D)
    return sp.exp(s1) / (sp.exp(s1) + sp.exp(s2)), sp.exp(s2) / (sp.exp(s1) + sp.exp(s2))


def check_weight_derivative(answer: object) -> Verdict:
    """d p1 / d q for one query q over two keys k1, k2 (all scalars, d = the width)."""
    what = "dp1/dq"
    if is_placeholder(answer):
        return not_done(what)
    if not isinstance(answer, str):
        raise NotQuiteRight(
            f"{what} should be your formula as a string, such as \"p1 * k1 / sqrt(d)\"; you "
            f"gave a {type(answer).__name__}."
        )
    names = weight_derivative_symbols()
    local = {**names, "exp": sp.exp, "sqrt": sp.sqrt, "log": sp.log}
    from sympy.parsing.sympy_parser import (
        convert_xor,
        implicit_multiplication,
        parse_expr,
        standard_transformations,
    )

    try:
        expr = parse_expr(answer, local_dict=local, global_dict={"__builtins__": {},
                          "Integer": sp.Integer, "Float": sp.Float, "Rational": sp.Rational,
                          "Symbol": sp.Symbol},
                          transformations=standard_transformations
                          + (convert_xor, implicit_multiplication))
    except Exception as err:  # a typo in the reader's formula
        raise NotQuiteRight(
            f"could not read {answer!r} as a formula ({type(err).__name__}): write it with "
            "q, k1, k2, d, p1, p2, +, -, *, /, ** (or ^), exp() and sqrt()."
        ) from None
    unknown = sorted(str(s) for s in expr.free_symbols - set(names.values()))
    if unknown:
        raise NotQuiteRight(
            f"your formula uses {', '.join(unknown)}, which the exercise does not define; use "
            "q, k1, k2, d, and p1, p2 for the two weights."
        )
    p1, p2 = _weights()
    expanded = expr.subs({_P1: p1, _P2: p2})
    expected = sp.diff(p1, _Q)
    rt = sp.sqrt(_D)
    return check_expr(
        expanded, expected, what=what,
        mistakes={
            "only the path through s1 = q k1 / sqrt(d) is there. The shared denominator "
            "makes p1 depend on s2 = q k2 / sqrt(d) too, and the two paths add: "
            "p1 (1 - p1) k1 / sqrt(d) - p1 p2 k2 / sqrt(d).": p1 * (1 - p1) * _K1 / rt,
            "the factor 1/sqrt(d) is missing: the scores are q k_j / sqrt(d), and the chain "
            "rule brings the scale down.": p1 * p2 * (_K1 - _K2),
            "the factor k1 - k2 from ds_j/dq is missing: that is dp1/d(s1 - s2) times "
            "1/sqrt(d).": p1 * p2 / rt,
        },
    )  # fmt: skip


# ------------------------------------------------------------------ 3. the softmax's JVP


def _jvp_inputs() -> list[tuple[np.ndarray, np.ndarray]]:
    """Fresh inputs (seeds never printed on the page): one square, one not, one batched."""
    out = []
    for seed, shape in ((2901, (4, 4)), (2902, (3, 5)), (2903, (2, 3, 4))):
        rng = np.random.default_rng(seed)
        out.append((ref.softmax_rows(rng.normal(0, 1.5, shape)), rng.normal(0, 1, shape)))
    return out


_COLUMNS = ("the sum runs down the columns (axis=0 or -2): the softmax normalises each ROW, "
            "so row i of dS uses only row i's sum, sum_k dP_ik P_ik (axis=-1, keepdims=True).")


def _jvp_mistakes() -> list[tuple[str, Callable]]:
    return [
        (_COLUMNS, lambda P, dP: P * (dP - np.sum(dP * P, axis=-2, keepdims=True))),
        (_COLUMNS, lambda P, dP: P * (dP - np.sum(dP * P, axis=0, keepdims=True))),
    ] + list({
        "only the diagonal of each row's Jacobian, P (1 - P) dP: every weight of a row "
        "also depends on the other scores of that row (the -p_i p_j terms).":
        lambda P, dP: P * (1 - P) * dP,
        "the factor P in front is missing: dS = P * (dP - rowsum(dP * P)).":
        lambda P, dP: dP - np.sum(dP * P, axis=-1, keepdims=True),
        "the row sum is taken of dP alone and then multiplied by P; the Jacobian weighs "
        "each entry first: rowsum(dP * P) = sum_k dP_ik P_ik.":
        lambda P, dP: P * (dP - np.sum(dP, axis=-1, keepdims=True) * P),
    }.items())  # fmt: skip


def check_softmax_jvp(answer: object) -> Verdict:
    """``softmax_rows_jvp(P, dP) -> dS`` for P = softmax of each row of S."""
    what = "softmax_rows_jvp"
    if is_placeholder(answer):
        return not_done(what)
    if not callable(answer):
        raise NotQuiteRight(f"{what} should be a function (def ...); you gave a "
                            f"{type(answer).__name__}.")
    inputs = _jvp_inputs()
    try:
        got = [_arrays(_call(answer, (P.copy(), dP.copy()), what), ("dS",), what)[0]
               for P, dP in inputs]
    except _NotDone:
        return not_done(what)
    for (P, _), g in zip(inputs, got, strict=True):
        problem = _shape_problem("dS", g.shape, P.shape, "S (and of P)")
        if problem:
            raise NotQuiteRight(problem)
    want = [ref.softmax_rows_backward(P, dP) for P, dP in inputs]
    if all(_close(g, w) for g, w in zip(got, want, strict=True)):
        return right(what, f"(checked on {len(inputs)} fresh inputs against the Jacobian "
                     "and centered differences.)")
    for diagnosis, bug in _jvp_mistakes():
        if all(_close(g, bug(P, dP)) for g, (P, dP) in zip(got, inputs, strict=True)):
            raise NotQuiteRight(f"{what}: {diagnosis}")
    k = next(i for i, (g, w) in enumerate(zip(got, want, strict=True)) if not _close(g, w))
    P, dP = inputs[k]
    S = np.log(P)  # softmax(log P) = P: the scores up to a constant per row
    fd = numerical_gradient(lambda s: float(np.sum(ref.softmax_rows(s) * dP)), S.copy())
    raise NotQuiteRight(_worst("dS", got[k], want[k], fd))


# ------------------------------------------------------------------ 4. attention's backward


def _attn_inputs() -> list[tuple[np.ndarray, ...]]:
    """(Q, K, V, dO) at fresh seeds: square first (T = d, so transposes fit), then not."""
    out = []
    for seed, (B, T, d) in ((2911, (1, 4, 4)), (2912, (2, 5, 3)), (2913, (1, 6, 4))):
        rng = np.random.default_rng(seed)
        out.append(tuple(rng.normal(0, 1, (B, T, d)) for _ in range(4)))
    return out


def _attention_with(Q, K, V, dO, *, scale_fwd=True, scale_bwd=True, mask="before",
                    rows=True, k_t=True, v_t=True, p_t=True, q_t=False):
    """Forward and backward of causal attention with one classic bug switched on."""
    d, T = Q.shape[-1], Q.shape[-2]
    c = 1 / math.sqrt(d)
    S = Q @ np.swapaxes(K, -1, -2) * (c if scale_fwd else 1.0)
    M = ref.causal_mask(T)
    if mask == "before":
        P = ref.softmax_rows(np.where(M, -np.inf, S))
    elif mask == "after":
        P = np.where(M, 0.0, ref.softmax_rows(S))
    else:
        P = ref.softmax_rows(S)
    out = P @ V
    dV = (np.swapaxes(P, -1, -2) if p_t else P) @ dO
    dP = dO @ (np.swapaxes(V, -1, -2) if v_t else V)
    dS = P * (dP - np.sum(dP * P, axis=-1 if rows else -2, keepdims=True))
    cb = c if scale_bwd else 1.0
    dQ = ((np.swapaxes(dS, -1, -2) if q_t else dS) @ K) * cb
    dK = ((np.swapaxes(dS, -1, -2) if k_t else dS) @ Q) * cb
    return out, dQ, dK, dV


_ATTN_MISTAKES = {
    "the softmax's Jacobian is applied column-wise: the row sum must run along each row "
    "of the scores (axis=-1), since each query's weights are normalised over the keys.":
    {"rows": False},
    "the 1/sqrt(d) is missing in the backward pass: the scores are Q K^T / sqrt(d), so dQ "
    "and dK carry the same factor 1/sqrt(d).": {"scale_bwd": False},
    "the 1/sqrt(d) is missing (forward and backward): the scores are Q K^T / sqrt(d).":
    {"scale_fwd": False, "scale_bwd": False},
    "the mask is applied AFTER the softmax: zeroing the weights of future keys leaves rows "
    "that no longer sum to 1, and the future still moves the normalisation. Set those "
    "scores to -inf BEFORE the softmax.": {"mask": "after"},
    "there is no causal mask: position i must not see keys j > i (scores -inf there, "
    "before the softmax).": {"mask": "none"},
    "dK is missing a transpose: S = Q K^T, so dK = dS^T Q / sqrt(d), not dS Q / sqrt(d).":
    {"k_t": False},
    "dQ has a transpose too many: S = Q K^T, so dQ = dS K / sqrt(d), not dS^T K.":
    {"q_t": True},
    "dP is missing the transpose on V: O = P V, so dP = dO V^T.": {"v_t": False},
    "dV is missing the transpose on P: O = P V, so dV = P^T dO.": {"p_t": False},
}  # fmt: skip

_ATTN_NAMES = ("O", "dQ", "dK", "dV")


def _attn_fd(Q, K, V, dO, which: int) -> np.ndarray:
    arrays = [Q.copy(), K.copy(), V.copy()]

    def cost(_):
        return float(np.sum(ref.attention(*arrays, causal=True)[0] * dO))

    return numerical_gradient(cost, arrays[which - 1])


def check_attention_backward(answer: object) -> Verdict:
    """``causal_attention(Q, K, V, dO) -> (O, dQ, dK, dV)``, one head, scaled, causal."""
    what = "causal_attention"
    if is_placeholder(answer):
        return not_done(what)
    if not callable(answer):
        raise NotQuiteRight(f"{what} should be a function (def ...); you gave a "
                            f"{type(answer).__name__}.")
    results, crash = [], None
    try:
        for args in _attn_inputs():
            try:
                got = _arrays(_call(answer, tuple(a.copy() for a in args), what), _ATTN_NAMES,
                              what)
            except NotQuiteRight as err:
                if "raised" not in str(err):
                    raise
                crash = crash or err  # a named mistake on another input is more telling
                continue
            for name, g, like, of in zip(_ATTN_NAMES, got, (args[2], *args[:3]),
                                         ("P V, that is (B, T, d_v)", "Q", "K", "V"),
                                         strict=True):
                problem = _shape_problem(name, g.shape, like.shape, of)
                if problem:
                    raise NotQuiteRight(problem)
            results.append((args, got))
    except _NotDone:
        return not_done(what)
    wrong_runs = [(a, g) for a, g in results
                  if not all(_close(x, w) for x, w in zip(g, _attention_with(*a), strict=True))]
    if not wrong_runs and crash is None:
        return right(what, f"(O, dQ, dK and dV checked on {len(results)} fresh inputs against "
                     "the reference and centered differences.)")
    for args, got in wrong_runs:
        for diagnosis, switches in _ATTN_MISTAKES.items():
            try:
                bug = _attention_with(*args, **switches)
            except ValueError:  # the bug does not even fit these shapes
                continue
            if all(_close(g, b) for g, b in zip(got, bug, strict=True)):
                raise NotQuiteRight(f"{what}: {diagnosis}")
    if crash is not None:
        raise crash
    args, got = wrong_runs[0]
    want = _attention_with(*args)
    # each array on its own: say which are right and how the first wrong one is off
    wrong = [i for i in range(4) if not _close(got[i], want[i])]
    good = [_ATTN_NAMES[i] for i in range(4) if i not in wrong]
    first = wrong[0]
    fd = None if first == 0 else _attn_fd(*args, which=first)
    said = f" ({', '.join(good)} right)" if good else ""
    raise NotQuiteRight(f"{what}{said}: " + _worst(_ATTN_NAMES[first], got[first], want[first],
                                                    fd))


# ------------------------------------------------------------------ 5. a layer never shown


def _rms(X, gamma, dY, eps, *, through_r=True, mean_term=False, per_d=True,
         eps_inside=True, gamma_in_dx=True, dgamma_of="xhat"):
    """(dX, dgamma) of Y = gamma * X / r, r = sqrt(mean(X^2) + eps) per row, with one
    classic bug switched on."""
    d = X.shape[-1]
    ms = np.sum(X**2, axis=-1, keepdims=True) / d
    r = np.sqrt(ms + eps) if eps_inside else np.sqrt(ms) + eps
    xhat = X / r
    g = gamma * dY if gamma_in_dx else dY
    if not through_r:
        dX = g / r
    else:
        along = np.sum(g * xhat, axis=-1, keepdims=True) / (d if per_d else 1)
        dX = (g - xhat * along) / r
        if mean_term:
            dX = dX - np.mean(g, axis=-1, keepdims=True) / r
    rows = tuple(range(X.ndim - 1))
    dgamma = np.sum(dY * (xhat if dgamma_of == "xhat" else X), axis=rows)
    return dX, dgamma


def rms_norm_backward_reference(X, gamma, dY, eps):
    """The right (dX, dgamma)."""
    return _rms(X, gamma, dY, eps)


def _rms_forward(X, gamma, eps):
    return gamma * X / np.sqrt(np.mean(X**2, axis=-1, keepdims=True) + eps)


def _rms_numeric(X, gamma, dY, eps):
    """Centered differences of C = sum(dY * Y) in X and in gamma."""
    X, gamma = X.copy(), gamma.copy()

    def cost(_):
        return float(np.sum(dY * _rms_forward(X, gamma, eps)))

    return numerical_gradient(cost, X), numerical_gradient(cost, gamma)


def _rms_case(rng: np.random.Generator, eps: float) -> dict:
    T, d = (int(v) for v in rng.choice(np.arange(3, 8), size=2, replace=False))  # T != d
    return {"X": rng.normal(0.3, 1.2, size=(T, d)), "gamma": rng.uniform(0.5, 1.5, size=d),
            "dY": rng.normal(0.0, 1.0, size=(T, d)), "eps": eps}


def rms_norm_example() -> dict:
    """The example the page prints: X and dY (T, d), gamma (d,), eps."""
    return _rms_case(np.random.default_rng(2024), 1e-5)


_RMS_MISTAKES = {
    "dX treats r as a constant: r = sqrt(mean(x^2) + eps) depends on every x_k of the row, "
    "so dX has a second term, -xhat * mean(g * xhat) / r, with g = gamma * dY.":
    {"through_r": False},
    "dX has layer norm's mean term too. RMS norm subtracts no mean, so nothing in it "
    "depends on mean(x): only r's term, -xhat * mean(g * xhat) / r, is left.":
    {"mean_term": True},
    "the 1/d of the mean is missing from dX's second term: r^2 = (1/d) sum x_k^2, a mean "
    "over the row's d entries, so dr/dx_j = x_j / (d r) carries 1/d.": {"per_d": False},
    "eps sits outside the root: r = sqrt(mean(x^2) + eps), eps inside.":
    {"eps_inside": False},
    "gamma is missing from dX: the gradient reaching xhat is g = gamma * dY.":
    {"gamma_in_dx": False},
    "dgamma multiplies dY by x; gamma scales xhat = x / r, so dgamma = sum over rows of "
    "dY * xhat.": {"dgamma_of": "x"},
}  # fmt: skip


def _rms_why(name: str, case: dict) -> str:
    if name == "dX":
        return "the shape of X, one row per position"
    return ("the shape of gamma, one entry per column: gamma is shared by every row, so its "
            "gradient sums over the rows")


def check_rms_norm_backward(rms_norm_backward: object, part: str | None = None) -> Verdict:
    """A function ``rms_norm_backward(X, gamma, dY, eps) -> (dX, dgamma)``, X of shape
    (T, d), gamma of shape (d,), checked on fresh inputs."""
    rngs = fresh_rngs(RMS_NORM)
    cases = [_rms_case(rng, eps) for rng, eps in zip(rngs, (1e-5, 1e-5, 0.5), strict=True)]
    return check_code(
        rms_norm_backward, rms_norm_backward_reference, what="your rms_norm_backward",
        cases=cases, names=["dX", "dgamma"], returns="the tuple (dX, dgamma)",
        mistakes={text: (lambda *a, kw=kw: _rms(*a, **kw)) for text, kw in _RMS_MISTAKES.items()},
        numeric=_rms_numeric, why=_rms_why, part=part,
    )


check_rms_norm_backward.parts = ["dX", "dgamma"]
