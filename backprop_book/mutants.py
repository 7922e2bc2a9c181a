"""Mutation tests: plant the classic backprop bugs and require the book's checks to go red.

Three places get bugs planted:

* the reference implementation (:mod:`backprop_book.reference`): a mutant replaces one of
  its functions while it runs; the catcher is the gradient check
  (:func:`backprop_book.check_gradients`) on three small networks, including its shape check;
* the attention chapter's package (:mod:`backprop_book.attention`): a mutant replaces one of
  its private kernels, which its public functions call; the catchers are the checks the
  chapter runs on the same functions, on the package's public functions: centered
  differences (embedding, attention, a whole tiny language model) and the causal check that
  the earlier outputs do not move when a later position changes;
* a chapter notebook's own hand-written backward pass, through a documented hook: the cells
  tagged ``mutants:setup``, ``mutants:target`` and ``mutants:check`` run in notebook order
  in one fresh namespace, the target with one text substitution applied; the check cells
  are the chapter's own assertions. The notebook is read, never copied; the unmutated run
  must pass.

A mutant that no check catches *survives*, and :func:`survivors` names it.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from . import attention as att
from . import reference as ref
from .checkers import NotQuiteRight, check_array
from .gradcheck import check_gradients, numerical_gradient, relative_error

TAG = "mutants:"


@dataclass
class Outcome:
    """What happened to one mutant."""

    mutant: str
    bug: str
    where: str
    caught: bool
    caught_by: str
    relative_error: float | None = None
    error_kind: str = "relative error"
    entries_off: str = ""
    diagnosis: str = ""


@dataclass
class Mutant:
    """A bug, where it is planted, and how: ``patch`` for the reference, ``old -> new`` for a
    notebook's ``mutants:target`` cell."""

    name: str
    bug: str
    why: str
    patch: dict[str, Callable] = field(default_factory=dict)
    notebook: str = ""
    old: str = ""
    new: str = ""
    module: str = "reference"

    @property
    def where(self) -> str:
        if self.notebook:
            return f"{self.notebook}: the hand-written backward pass"
        return f"{self.module}." + f", {self.module}.".join(self.patch)


# ------------------------------------------------------------------ the reference's bugs

# The public functions check their inputs once and then run these private kernels, so the
# bugs are planted in the kernels (a patched public name would never be called by the others).
_orig = {name: getattr(ref, name) for name in
         ("_output_delta", "_activation_backward", "_backward_deltas", "_backward")}


def _sign_flipped_output_delta(cache, Y, name, cost):
    return -_orig["_output_delta"](cache, Y, name, cost)


def _no_one_over_m(cache, Y, name, cost):
    return _orig["_output_delta"](cache, Y, name, cost) * Y.shape[1]


def _slope_at_a(name, z, a, g):
    if name == "softmax":
        return _orig["_activation_backward"](name, z, a, g)
    return _orig["_activation_backward"](name, a, ref.activate(name, a), g)  # f'(a), not f'(z)


def _relu_slope_at_the_kink(name, z, a, g):
    if name != "relu":
        return _orig["_activation_backward"](name, z, a, g)
    return g * (a >= 0)  # the slope read off the activation, with the kink counted as 1


def _softmax_diagonal_only(cache, Y, name, cost):
    if cost != "cross_entropy":
        return _orig["_output_delta"](cache, Y, name, cost)
    S, m = cache.as_[-1], Y.shape[1]
    dC_dS = -Y / S / m
    return S * (1 - S) * dC_dS  # only diag(s - s^2) of the Jacobian diag(s) - s s^T


def _deltas_with(step: Callable) -> Callable:
    def backward_deltas(params, cache, Y, activations, cost):
        L = len(params)
        deltas = [None] * (L + 1)
        deltas[L] = ref._output_delta(cache, Y, activations[-1], cost)
        for layer in range(L - 1, 0, -1):
            W_next, z, a = params[layer][0], cache.zs[layer], cache.as_[layer]
            deltas[layer] = step(W_next, deltas[layer + 1], activations[layer - 1], z, a)
        return deltas

    return backward_deltas


def _transpose_dropped(W, delta, name, z, a):
    return ref._activation_backward(name, z, a, W @ delta)


def _matmul_for_hadamard(W, delta, name, z, a):
    slope = ref._activation_backward(name, z, a, np.ones_like(z))
    return (W.T @ delta) @ slope


def _backward_with(grads: Callable) -> Callable:
    def backward(params, cache, Y, activations, cost):
        deltas = ref._backward_deltas(params, cache, Y, activations, cost)
        return [grads(d, a) for d, a in zip(deltas[1:], cache.as_[:-1], strict=True)]

    return backward


def _overwrite_not_accumulate(delta, a_prev):
    dW = np.zeros((delta.shape[0], a_prev.shape[0]))
    for i in range(delta.shape[1]):
        dW = np.outer(delta[:, i], a_prev[:, i])  # `=` where `+=` was meant
    return dW, delta.sum(axis=1, keepdims=True)


REFERENCE_MUTANTS = [
    Mutant("sign-flip", "output delta with (y - a) instead of (a - y)",
           "the derivative of (a - y)^2 is taken with respect to y, not a",
           {"_output_delta": _sign_flipped_output_delta}),
    Mutant("slope-at-a", "f'(a) used where f'(z) is meant",
           "sigma'(z) = a(1 - a) is misread as 'sigma prime of a'",
           {"_activation_backward": _slope_at_a}),
    Mutant("transpose-dropped", "W instead of W^T in the delta recursion",
           "the forward pass multiplies by W, so the backward pass 'should' too",
           {"_backward_deltas": _deltas_with(_transpose_dropped)}),
    Mutant("matmul-for-hadamard", "a matrix product where the Hadamard product belongs",
           "the sigmoid's Jacobian is diagonal; written as a matrix it invites @",
           {"_backward_deltas": _deltas_with(_matmul_for_hadamard)}),
    Mutant("missing-1/m", "the 1/m of the batch mean left out",
           "the per-sample formula is copied to the batch unchanged",
           {"_output_delta": _no_one_over_m}),
    Mutant("softmax-diagonal", "only the diagonal s(1 - s) of the softmax Jacobian",
           "each output treated like an independent sigmoid",
           {"_output_delta": _softmax_diagonal_only}),
    Mutant("overwrite-not-accumulate", "`=` instead of `+=` where the samples' paths meet",
           "a loop over samples overwrites the gradient it should sum",
           {"_backward": _backward_with(_overwrite_not_accumulate)}),
    Mutant("bias-not-summed", "the bias gradient not summed over the batch",
           "the per-sample delta is used as the bias gradient",
           {"_backward": _backward_with(lambda d, a: (d @ a.T, d))}),
    Mutant("bias-1d", "the bias gradient returned 1-D, which broadcasts against a column",
           "sum(axis=1) without keepdims gives shape (n,); b - eta * db is then (n, n)",
           {"_backward": _backward_with(lambda d, a: (d @ a.T, d.sum(axis=1)))}),
    Mutant("relu-kink", "the ReLU slope read off the activation, 1 at the kink",
           "relu'(a) with a = max(0, z) is 1 for every z <= 0 when the kink counts as 1",
           {"_activation_backward": _relu_slope_at_the_kink}),
]


def probe_networks() -> list[tuple[str, list, np.ndarray, np.ndarray, list[str], str]]:
    """The networks the gradient check runs on: (label, params, X, Y, activations, cost).

    Widths are chosen so that shape-preserving bugs stay silent (a square W^(2), as many
    samples as neurons) and only the values can betray them.
    """
    rng = np.random.default_rng(2024)
    nets = []
    p = ref.init_params([2, 3, 3, 2], seed=5, scale=1.0)
    nets.append(("sigmoid 2-3-3-2, squared error, m=3", p, rng.normal(size=(2, 3)),
                 rng.uniform(0.1, 0.9, size=(2, 3)), ["sigmoid"] * 3, "squared_error"))
    p = ref.init_params([3, 3, 3, 3], seed=6, scale=1.0)
    Y = np.eye(3)[:, rng.integers(0, 3, size=3)]
    nets.append(("sigmoid 3-3-3-3, softmax + cross-entropy, m=3", p, rng.normal(size=(3, 3)), Y,
                 ["sigmoid", "sigmoid", "softmax"], "cross_entropy"))
    p = ref.init_params([3, 4, 3], seed=7, scale=1.0)
    Y = np.eye(3)[:, rng.integers(0, 3, size=5)]
    nets.append(("ReLU 3-4-3, softmax + cross-entropy, m=5", p, rng.normal(size=(3, 5)), Y,
                 ["relu", "softmax"], "cross_entropy"))
    return nets


#: The modules a mutant may patch, by the name ``Mutant.module`` gives.
MODULES = {"reference": ref, "attention": att}


@contextlib.contextmanager
def planted(mutant: Mutant) -> Iterator[None]:
    """Replace the functions named in ``mutant.patch`` (of ``mutant.module``) while the block runs."""
    module = MODULES[mutant.module]
    unknown = [name for name in mutant.patch if not callable(getattr(module, name, None))]
    if unknown:  # a patch of a name nobody calls would survive for the wrong reason
        raise ValueError(f"mutant {mutant.name!r} patches {unknown}, not functions of the "
                         f"{mutant.module}")
    saved = {name: getattr(module, name) for name in mutant.patch}
    try:
        for name, fn in mutant.patch.items():
            setattr(module, name, fn)
        yield
    finally:
        for name, fn in saved.items():
            setattr(module, name, fn)


def _entries_off(analytic: np.ndarray, numerical: np.ndarray) -> str:
    off = ~np.isclose(analytic, numerical, rtol=1e-5, atol=1e-8)
    return f"{int(off.sum())} of {off.size}"


def run_reference_mutant(mutant: Mutant) -> Outcome:
    """Plant ``mutant`` and run the gradient check on every probe network."""
    outcome = Outcome(mutant.name, mutant.bug, mutant.where, False, "nothing: it survived")
    crash = ""
    with planted(mutant):
        for label, params, X, Y, acts, cost in probe_networks():
            try:
                report = check_gradients(params, X, Y, acts, cost)
            except ValueError as err:  # a shape check, or NumPy refusing the shapes
                crash = crash or f"shape error ({label}): {err}"
                continue
            if not report.ok:  # silently wrong values: the more telling catch, reported first
                name, err = report.worst
                layer, is_b = int(name[1:]) - 1, name[0] == "b"
                got, want = report.analytic[layer][is_b], report.numerical[layer][is_b]
                outcome.caught = True
                outcome.caught_by = f"gradient check ({label}): worst {name}"
                outcome.relative_error = float(err)
                outcome.entries_off = f"{_entries_off(got, want)} entries of {name}"
                outcome.diagnosis = _diagnose(got, want, name, X.shape[1])
                return outcome
    if crash:
        outcome.caught, outcome.caught_by = True, crash
    return outcome


def _diagnose(got: np.ndarray, want: np.ndarray, name: str, m: int) -> str:
    """What the exercise checkers would tell a reader who handed in ``got``."""
    try:
        check_array(got, want, what=f"dC/d{name}", m=m, rtol=1e-5, atol=1e-8)
    except NotQuiteRight as err:
        return str(err)
    return "(the checker accepts it)"


# ------------------------------------------------------------------ the attention package's bugs

# Planted in backprop_book.attention's private kernels, which its public functions call (and
# which call each other): the same classic mistakes the chapter shows in its own code.


def _softmax_backward_columns(P, dP):
    return P * (dP - np.sum(dP * P, axis=-2, keepdims=True))  # the Jacobian's sum down columns


def _attention_backward_with(dQ_dK: Callable) -> Callable:
    def attention_backward(dO, cache):
        Q, K, V, P, scale = cache["Q"], cache["K"], cache["V"], cache["P"], cache["scale"]
        dV = P.swapaxes(-1, -2) @ dO
        dS = att._softmax_rows_backward(P, dO @ V.swapaxes(-1, -2))
        return (*dQ_dK(dS, Q, K, scale), dV)

    return attention_backward


def _attention_mask_after(Q, K, V, causal):
    scale = 1.0 / math.sqrt(Q.shape[-1])
    S = (Q @ K.swapaxes(-1, -2)) * scale
    P = att._softmax_rows(S)
    if causal:
        P = np.where(att.causal_mask(S.shape[-1]), 0.0, P)  # zeroed weights, not hidden scores
    return P @ V, {"kind": "attention", "Q": Q, "K": K, "V": V, "P": P, "scale": scale}


def _embed_backward_overwrite(dX, tokens, vocab):
    dE = np.zeros((vocab, dX.shape[-1]))
    dE[tokens.reshape(-1)] = dX.reshape(-1, dX.shape[-1])  # the last write wins
    return dE


ATTENTION_MUTANTS = [
    Mutant("attn-softmax-columns", "the softmax's Jacobian applied column-wise",
           "rowsum with axis=-2 for axis=-1: P is square, so the shapes still fit",
           {"_softmax_rows_backward": _softmax_backward_columns}, module="attention"),
    Mutant("attn-no-scale", "the 1/sqrt(d) forgotten in the backward pass",
           "the scale looks like a detail of the forward pass",
           {"_attention_backward": _attention_backward_with(
               lambda dS, Q, K, scale: (dS @ K, dS.swapaxes(-1, -2) @ Q))}, module="attention"),
    Mutant("attn-mask-after", "the causal mask applied after the softmax",
           "zeroing the future's weights looks the same as hiding their scores",
           {"_attention": _attention_mask_after}, module="attention"),
    Mutant("attn-embed-overwrite", "embedding gradients overwritten, dE[tokens] = dX",
           "fancy-index assignment for np.add.at: a repeated token keeps its last row only",
           {"_embed_backward": _embed_backward_overwrite}, module="attention"),
    Mutant("attn-k-transpose", "dK = dS Q / sqrt(d), the transpose of dS missing",
           "S = Q K^T has K transposed, easy to lose on the way back; T = d hides the shape",
           {"_attention_backward": _attention_backward_with(
               lambda dS, Q, K, scale: (dS @ K * scale, dS @ Q * scale))}, module="attention"),
]

#: A gradient computed in float64 agrees with centered differences to about 1e-9 or better.
ATTENTION_TOLERANCE = 1e-7


def embedding_check() -> tuple[float, str]:
    """The chapter's embedding check: tokens (4, 1, 4, 0, 4), dE against centered differences."""
    rng = np.random.default_rng(29)
    E, tokens = rng.normal(size=(6, 3)), np.array([4, 1, 4, 0, 4])
    G = rng.normal(size=(5, 3))
    fd = numerical_gradient(lambda _: float(np.sum(G * att.embed(E, tokens))), E)
    return relative_error(att.embed_backward(G, tokens, 6), fd), "dE"


def _attention_inputs() -> list[np.ndarray]:
    """Q, K, V and dC/dO of the chapter's check cell: B = 2, square T = d = 4."""
    rng = np.random.default_rng(2929)
    return [rng.normal(size=(2, 4, 4)) for _ in range(4)]


def causal_check() -> tuple[float, str]:
    """eq-causal-no-future: change the last position; the earlier outputs must not move."""
    Q, K, V, _ = _attention_inputs()
    out_before, _ = att.attention(Q, K, V)
    for X in (Q, K, V):
        X[:, -1] += 1.0
    out_after, _ = att.attention(Q, K, V)
    return float(np.abs(out_after[:, :-1] - out_before[:, :-1]).max()), "earlier outputs"


def attention_check() -> tuple[float, str]:
    """dQ, dK, dV of ``attention_backward`` against centered differences; the worst."""
    Q, K, V, G = arrays = _attention_inputs()
    grads = att.attention_backward(G, att.attention(Q, K, V)[1])
    errors = {}
    for name, which, ours in zip(("dQ", "dK", "dV"), range(3), grads, strict=True):
        fd = numerical_gradient(lambda _: float(np.sum(G * att.attention(*arrays[:3])[0])),
                                arrays[which])
        errors[name] = relative_error(ours, fd)
    worst = max(errors, key=errors.get)
    return errors[worst], worst


def language_model_check() -> tuple[float, str]:
    """Every parameter of a tiny language model (one block, 2 heads, a repeated token)."""
    p = att.init_lm(vocab=5, d=4, context=4, n_layers=1, d_ff=8, seed=3)
    tokens, targets = np.array([[1, 3, 1, 0], [2, 1, 1, 4]]), np.array([[3, 1, 0, 2], [1, 1, 4, 0]])
    _, grads = att.lm_loss_and_grads(p, tokens, targets, n_heads=2)
    errors = {}
    for name in p:
        fd = numerical_gradient(lambda _: att.lm_loss_and_grads(p, tokens, targets, 2)[0], p[name])
        errors[name] = relative_error(grads[name], fd)
    worst = max(errors, key=errors.get)
    return errors[worst], worst


#: The checks, in the order they run: the first that fails names the catch.
ATTENTION_CHECKS = (
    ("embedding gradient vs centered differences", embedding_check, "relative error"),
    ("causal check (eq-causal-no-future)", causal_check, "max difference"),
    ("attention gradients vs centered differences", attention_check, "relative error"),
    ("language model gradients vs centered differences", language_model_check, "relative error"),
)


def run_attention_mutant(mutant: Mutant) -> Outcome:
    """Plant ``mutant`` in the attention package and run its checks until one fails."""
    outcome = Outcome(mutant.name, mutant.bug, mutant.where, False, "nothing: it survived")
    with planted(mutant):
        for label, check, kind in ATTENTION_CHECKS:
            error, worst = check()
            limit = 0.0 if kind == "max difference" else ATTENTION_TOLERANCE
            if not error <= limit:
                outcome.caught, outcome.caught_by = True, f"{label}: worst {worst}"
                outcome.relative_error, outcome.error_kind = float(error), kind
                return outcome
    return outcome

# ------------------------------------------------------------------ the notebooks' bugs

NOTEBOOK_MUTANTS = [
    Mutant("nb-sign-flip", "dC/da2 written 2(y - a2)", "the order inside the square is swapped",
           notebook="book/one-neuron-chain.ipynb",
           old="dC_da2 = 2 * (a2 - y)", new="dC_da2 = 2 * (y - a2)"),
    Mutant("nb-slope-at-a", "sigma'(a2) instead of sigma'(z2)", "the slope taken at the output",
           notebook="book/one-neuron-chain.ipynb",
           old="delta2 = dC_da2 * a2 * (1 - a2)",
           new="delta2 = dC_da2 * sigmoid(a2) * (1 - sigmoid(a2))"),
    Mutant("nb-missing-w2", "the factor w2 left out of dC/da1", "dz2/da1 forgotten on the way down",
           notebook="book/one-neuron-chain.ipynb",
           old="dC_da1 = delta2 * w2", new="dC_da1 = delta2"),
    Mutant("nb-222-transpose", "W2 instead of W2^T in delta1", "W2 is square: nothing complains",
           notebook="book/two-two-two.ipynb", old="(W2.T @ delta2)", new="(W2 @ delta2)"),
    Mutant("nb-222-one-over-m", "the 1/m of the batch mean left out", "per-sample formula kept",
           notebook="book/two-two-two.ipynb",
           old="bb.sigmoid_prime(z2) / m", new="bb.sigmoid_prime(z2)"),
    Mutant("nb-222-bias-not-summed", "db2 not summed over the batch", "one column per sample kept",
           notebook="book/two-two-two.ipynb",
           old="delta2.sum(axis=1, keepdims=True)", new="delta2"),
    Mutant("nb-softmax-transpose", "W instead of W^T in the delta recursion",
           "the forward pass multiplies by W, so the backward pass 'should' too",
           notebook="book/softmax-four-layer.ipynb", old="W_next.T @", new="W_next @"),
    Mutant("nb-softmax-slope-at-a", "f'(a) used where f'(z) is meant",
           "the slope taken at the activation", notebook="book/softmax-four-layer.ipynb",
           old="f_prime(z[l])", new="f_prime(a[l])"),
    Mutant("nb-softmax-sign", "output delta (y - s) instead of (s - y)",
           "the order in the cross-entropy gradient swapped",
           notebook="book/softmax-four-layer.ipynb", old="(a[L] - y) / m", new="(y - a[L]) / m"),
    Mutant("nb-engine-overwrite", "`=` instead of `+=` where paths meet, in the autodiff engine",
           "a node used twice keeps only the last gradient sent to it",
           notebook="book/autodiff.ipynb",
           old="other.grad += self.data * out.grad", new="other.grad = self.data * out.grad"),
    Mutant("nb-attn-softmax-columns", "the softmax's row sum taken down the columns",
           "axis=-2 for axis=-1: the shapes still fit", notebook="book/transformer-block.ipynb",
           old="np.sum(dP * P, axis=-1, keepdims=True)", new="np.sum(dP * P, axis=-2, keepdims=True)"),
    Mutant("nb-attn-no-scale", "the 1/sqrt(d) left out of dQ and dK",
           "the scale looks like a constant detail of the forward pass",
           notebook="book/transformer-block.ipynb",
           old="    scale = 1 / np.sqrt(Q.shape[-1])", new="    scale = 1.0"),
    Mutant("nb-attn-mask-after", "the causal mask applied after the softmax",
           "zeroing the weights looks the same as hiding the scores",
           notebook="book/transformer-block.ipynb",
           old="P = softmax_rows(np.where(mask, -np.inf, S))",
           new="P = np.where(mask, 0.0, softmax_rows(S))"),
    Mutant("nb-attn-k-transpose", "dK = dS Q instead of dS^T Q", "S = Q K^T has K transposed",
           notebook="book/transformer-block.ipynb",
           old="dK = dS.swapaxes(-1, -2) @ Q", new="dK = dS @ Q"),
    Mutant("nb-attn-v-transpose", "dP = dO V instead of dO V^T", "square shapes hide it",
           notebook="book/transformer-block.ipynb",
           old="dP = dO @ V.swapaxes(-1, -2)", new="dP = dO @ V"),
    Mutant("nb-attn-p-transpose", "dV = P dO instead of P^T dO", "P is square: nothing complains",
           notebook="book/transformer-block.ipynb",
           old="dV = P.swapaxes(-1, -2) @ dO", new="dV = P @ dO"),
    Mutant("nb-norm-mean-constant", "batch/layer norm's backward treats the mean as a constant",
           "the mean depends on every input of the group; that path is forgotten",
           notebook="book/deep-networks-that-train.ipynb",
           old="inv_std * (g_hat - g_mean - x_hat * gx_mean)",
           new="inv_std * (g_hat - x_hat * gx_mean)"),
    Mutant("nb-norm-unbiased-variance", "the variance with 1/(N - 1) instead of 1/N",
           "the unbiased estimate is used where the batch's own variance belongs",
           notebook="book/deep-networks-that-train.ipynb",
           old="keepdims=True) / N\n    inv_std", new="keepdims=True) / (N - 1)\n    inv_std"),
    Mutant("nb-layer-norm-batch-axis", "layer norm normalized over the batch axis",
           "axis=1 (batch norm's) where layer norm averages a sample's features",
           notebook="book/deep-networks-that-train.ipynb",
           old="BN_AXIS, LN_AXIS = 1, 0", new="BN_AXIS, LN_AXIS = 1, 1"),
    Mutant("nb-conv-slope-at-z", "tanh's slope 1 - z^2 where 1 - a^2 is meant",
           "the slope is written with the weighted input", notebook="book/convolution.ipynb",
           old="* (1 - A**2)", new="* (1 - Z**2)"),
    Mutant("nb-conv-maps-transpose", "the features' transpose forgotten on the way back to maps",
           "W^T Delta is 128 x N and reshapes to N x 8 x 4 x 4 without complaint",
           notebook="book/convolution.ipynb", old=".T.reshape(P.shape)", new=".reshape(P.shape)"),
    Mutant("nb-conv-route-everywhere", "max-pooling's gradient sent to every entry of a window",
           "the pooling layer has no weights, so its backward is taken to be a copy",
           notebook="book/convolution.ipynb", old="conv.maxpool2d_backward(dP, A, 2)",
           new="np.repeat(np.repeat(dP, 2, axis=2), 2, axis=3)"),
]


def hooked_cells(notebook: dict) -> list[tuple[str, str]]:
    """The hook's cells in notebook order, as (role, source), role setup / target / check."""
    cells = []
    for c in notebook["cells"]:
        tags = c.get("metadata", {}).get("tags", []) if c["cell_type"] == "code" else []
        roles = [t[len(TAG):] for t in tags if t.startswith(TAG)]
        if roles:
            source = "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
            cells.append((roles[0], source))
    n_target = sum(role == "target" for role, _ in cells)
    n_check = sum(role == "check" for role, _ in cells)
    if n_target != 1 or not n_check:
        raise ValueError(
            f"a notebook's mutation hook needs exactly one cell tagged {TAG}target and at least "
            f"one tagged {TAG}check; found {n_target} and {n_check}"
        )
    return cells


def run_cells(sources: list[str], root: Path) -> tuple[str | None, str]:
    """Run cells in one fresh namespace, output captured; (None or the failure, its cell).

    The failure reads ``Error: message`` followed by the last line the failing cell printed
    (the chapter's own report of the mismatch, such as a ``compare`` line).
    """
    import matplotlib
    from IPython.utils.capture import capture_output

    matplotlib.use("Agg")
    namespace: dict = {"__name__": "__mutant__"}
    with contextlib.chdir(root / "book"):
        for source in sources:
            # Capture what the cells print AND display: run inside a kernel (a page being
            # built), a setup cell's display(...) would otherwise land in that page.
            captured = capture_output(stdout=True, stderr=False, display=True)
            try:
                with captured as printed:
                    exec(compile(source, "<cell>", "exec"), namespace)
            except Exception as err:  # the chapter's own check failing is the point
                lines = [line for line in printed.stdout.splitlines() if line.strip()]
                said = f" (it printed: {lines[-1].strip()})" if lines else ""
                first = source.strip().splitlines()[0]
                return f"{type(err).__name__}: {err}".strip() + said, first
    return None, ""


def run_notebook_mutant(mutant: Mutant, root: Path) -> Outcome:
    """Apply ``mutant`` to its notebook's target cell and run the hook's cells."""
    cells = hooked_cells(json.loads((root / mutant.notebook).read_text()))
    target = next(source for role, source in cells if role == "target")
    if mutant.old not in target:
        raise ValueError(f"{mutant.name}: {mutant.old!r} is not in {mutant.notebook}'s target cell")
    sources = [s.replace(mutant.old, mutant.new) if role == "target" else s for role, s in cells]
    failure, cell = run_cells(sources, root)
    outcome = Outcome(mutant.name, mutant.bug, mutant.where, failure is not None,
                      f"the chapter's assertion in the cell starting {cell!r}"
                      if failure else "nothing: it survived")
    if failure:
        outcome.diagnosis = failure
        found = failure.startswith("AssertionError") and re.search(
            r"(?:relative error|max diff:)[^0-9]*?([0-9.]+(?:e[+-]?[0-9]+)?)", failure)
        if not found and "shape" in failure:
            outcome.error_kind = "wrong shape"
        outcome.relative_error = float(found.group(1)) if found else None
        if found and "max diff" in found.group(0):
            outcome.error_kind = "max difference"
    return outcome


def control_run(notebook: str, root: Path) -> str | None:
    """The hook's cells without any mutation: must pass (else the hook itself is broken)."""
    cells = hooked_cells(json.loads((root / notebook).read_text()))
    failure, _ = run_cells([source for _, source in cells], root)
    return failure


def run_all(root: Path) -> list[Outcome]:
    """Every mutant: the reference's, the attention package's, then the notebooks' (after each
    notebook's control run)."""
    outcomes = [run_reference_mutant(m) for m in REFERENCE_MUTANTS]
    outcomes += [run_attention_mutant(m) for m in ATTENTION_MUTANTS]
    for notebook in dict.fromkeys(m.notebook for m in NOTEBOOK_MUTANTS):
        failure = control_run(notebook, root)
        if failure:
            raise RuntimeError(f"{notebook}: the unmutated hook cells fail: {failure}")
    outcomes += [run_notebook_mutant(m, root) for m in NOTEBOOK_MUTANTS]
    return outcomes


def survivors(outcomes: list[Outcome]) -> list[str]:
    """Names of the mutants no check caught, with their bug."""
    return [f"{o.mutant} ({o.bug})" for o in outcomes if not o.caught]


def write_report(outcomes: list[Outcome], path: Path) -> None:
    """The report as JSON (one object per mutant)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([asdict(o) for o in outcomes], indent=1) + "\n")


def table(outcomes: list[Outcome]) -> str:
    """The report as a Markdown table: bug, where, caught by, relative error, entries off."""
    rows = ["| bug | planted in | caught by | error it produced | entries off |",
            "| --- | --- | --- | --- | --- |"]
    for o in outcomes:
        err = f"{o.relative_error:.1e}" if o.relative_error is not None else "-"
        if o.relative_error is not None and o.error_kind != "relative error":
            err = f"{o.error_kind} {err}"
        if o.caught_by.startswith("shape error") or o.error_kind == "wrong shape":
            err = "(wrong shape)"
        caught = o.caught_by.replace("|", "/").split(": backward returned")[0]
        rows.append(f"| {o.bug} | {o.where} | {caught if o.caught else '**SURVIVED**'} | "
                    f"{err} | {o.entries_off or '-'} |")
    return "\n".join(rows)


def main() -> int:
    """`make mutants`: run every mutant, print the table, write _build/mutants/report.json."""
    root = Path(__file__).resolve().parent.parent
    outcomes = run_all(root)
    write_report(outcomes, root / "_build" / "mutants" / "report.json")
    print(table(outcomes))
    alive = survivors(outcomes)
    print(f"\n{len(outcomes) - len(alive)} of {len(outcomes)} mutants caught"
          + (f"; SURVIVED: {', '.join(alive)}" if alive else ""))
    return 1 if alive else 0


if __name__ == "__main__":
    raise SystemExit(main())
