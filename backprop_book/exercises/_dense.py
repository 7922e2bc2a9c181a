"""What the code exercises on dense networks share: fresh networks, and the classic bugs.

A reader's backward pass is ``backward(params, cache, Y, ...) -> [(dW1, db1), ...]`` (the
shape of ``bb.backward``'s result). :func:`buggy_backward` is the book's backward pass with
one classic bug switched on; the checkers compare the reader's arrays with each, so a
mistake is named by what it produces, not by reading the reader's code.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .. import gradcheck
from .. import reference as ref

PRIME = {"sigmoid": ref.sigmoid_prime, "tanh": ref.tanh_prime, "relu": ref.relu_prime,
         "identity": ref.identity_prime}


def network(rng: np.random.Generator, sizes: Sequence[int], activations: Sequence[str],
            m: int, cost: str) -> dict:
    """A fresh case: params, the forward pass's cache, targets Y (n_L, m); no z near a kink."""
    for _ in range(50):
        params = [(rng.uniform(-1.5, 1.5, (n_out, n_in)), rng.uniform(-0.5, 0.5, (n_out, 1)))
                  for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True)]
        X = rng.uniform(-1.5, 1.5, (sizes[0], m))
        cache = ref.forward(params, X, activations)
        kinks = [np.abs(z).min() for z, name in zip(cache.zs[1:], activations, strict=True)
                 if name == "relu"]
        if not kinks or min(kinks) > 1e-3:
            break
    if cost == "cross_entropy":
        Y = np.eye(sizes[-1])[:, rng.integers(0, sizes[-1], size=m)]
    else:
        Y = rng.uniform(0.1, 0.9, (sizes[-1], m))
    return {"params": params, "cache": cache, "Y": Y}


def numeric(params, cache, Y, activations, cost) -> list:
    """Centered differences of the cost for every W and b, shaped like params."""
    return gradcheck.check_gradients(params, cache.as_[0], Y, activations, cost).numerical


def buggy_backward(params, cache, Y, activations, cost, *, slope_at_a=(), no_slope=(),
                   no_transpose=False, prev=1, output="right", slope_of=None,
                   z_for_a=False):
    """The backward pass, with the bugs asked for:

    slope_at_a: layers whose f' is evaluated at A^(l) instead of Z^(l);
    no_slope: hidden layers whose f'(Z^(l)) is left out;
    no_transpose: W^(l+1) Delta^(l+1) instead of (W^(l+1))^T Delta^(l+1);
    prev: dW^(l) = Delta^(l) A^(l - prev)^T (prev = 0 is the wrong layer's activation);
    output: "right"; "no-slope" (squared error without f'(z^(L))); "softmax-slope"
        ((S - Y) * s(1 - s) for softmax + cross-entropy);
    slope_of: "next": layer l uses layer l + 1's f' (the output layer keeps its own);
        "prev": layer l uses layer l - 1's (layer 1 keeps its own); "sigmoid": every
        layer uses the sigmoid's, whatever ``activations`` says;
    z_for_a: the sigmoid's slope written a(1 - a) with z put in for a: z(1 - z).
    """
    L, m = len(params), Y.shape[1]
    A = cache.as_[L]
    if cost == "cross_entropy" and output == "diagonal":
        delta = -Y * (1 - A) / m  # dC/ds = -y/s through the Jacobian's diagonal s(1 - s) only
    elif cost == "cross_entropy":
        delta = (A - Y) / m * (A * (1 - A) if output == "softmax-slope" else 1.0)
    else:
        g = (A - Y) / m
        delta = g if output == "no-slope" else _back(activations, L, cache, g, slope_at_a,
                                                     slope_of, z_for_a)
    grads = [None] * L
    for layer in range(L, 0, -1):
        W = params[layer - 1][0]
        grads[layer - 1] = (delta @ cache.as_[layer - prev].T, delta.sum(axis=1, keepdims=True))
        if layer > 1:
            g = (W if no_transpose else W.T) @ delta
            delta = g if layer - 1 in no_slope else _back(activations, layer - 1, cache, g,
                                                          slope_at_a, slope_of, z_for_a)
    return grads


def _back(activations, layer, cache, g, slope_at_a, slope_of, z_for_a=False):
    """g * f'(.) at ``layer``, as asked: at Z or at A, with this layer's f' or another's."""
    of = {"next": min(layer + 1, len(activations)), "prev": max(layer - 1, 1)}.get(
        slope_of, layer)
    name = "sigmoid" if slope_of == "sigmoid" else activations[of - 1]
    at = cache.as_[layer] if layer in slope_at_a else cache.zs[layer]
    if name == "softmax":
        return ref.softmax_vjp(at, g)
    if z_for_a and name == "sigmoid":
        return g * at * (1 - at)
    return g * PRIME[name](at)


def bias_sum_axis0(params, cache, Y, activations, cost):
    """db summed over the neurons (axis 0) instead of the samples."""
    grads = ref.backward(params, cache, Y, activations, cost)
    deltas = ref.backward_deltas(params, cache, Y, activations, cost)
    return [(dW, deltas[layer].sum(axis=0, keepdims=True))
            for layer, (dW, _) in enumerate(grads, start=1)]


def bias_not_summed(params, cache, Y, activations, cost):
    """db left as Delta^(l), one column per sample."""
    grads = ref.backward(params, cache, Y, activations, cost)
    deltas = ref.backward_deltas(params, cache, Y, activations, cost)
    return [(dW, deltas[layer]) for layer, (dW, _) in enumerate(grads, start=1)]


def parts(depth: int) -> list[str]:
    """The arrays of a backward pass of ``depth`` layers: dW1, db1, ..., dWL, dbL."""
    return [f"{p}{k}" for k in range(1, depth + 1) for p in ("dW", "db")]


def names(case: dict) -> list[str]:
    """dW1, db1, dW2, db2, ... for the case's depth."""
    return [f"{p}{k}" for k in range(1, len(case["params"]) + 1) for p in ("dW", "db")]


def why(name: str, case: dict) -> str:
    """The reason of an array's shape: the parameter it is the gradient of."""
    layer = int(name[2:])
    W, b = case["params"][layer - 1]
    if name.startswith("dW"):
        return (f"the shape of W{layer} ({W.shape[0]} 'to' neurons by {W.shape[1]} 'from' "
                "neurons)")
    return f"the shape of b{layer}, one column"


def describe(case: dict) -> str:
    """The pairs the function returns, for the message on a wrong structure."""
    return "a list of (dW, db) pairs, one per layer: [(dW1, db1), (dW2, db2), ...]"


# ------------------------------------------------------------------ the checker of a backward pass


def _unpack(args, activations, cost):
    params, cache, Y = args[:3]
    return params, cache, Y, (args[3] if len(args) > 3 else activations), cost


def mistakes(activations: Sequence[str] | None, cost: str, batch: bool = False) -> dict:
    """``{diagnosis: buggy backward(*args)}`` for the classic mistakes of a dense backward pass.

    ``activations`` None: the case passes them as its fourth argument (any-width).
    """
    def bug(**kw):
        def run(*args):
            params, cache, Y, acts, c = _unpack(args, activations, cost)
            L = len(params)
            kw2 = {k: (v(L) if callable(v) else v) for k, v in kw.items()}
            return buggy_backward(params, cache, Y, acts, c, **kw2)
        return run

    def raw(fn):
        return lambda *args: fn(*_unpack(args, activations, cost))

    out = {
        "at the output layer the slope f'(z) was taken at the activation, f'(a^(L)); it "
        "belongs at z^(L) (for the sigmoid, a(1 - a) with a = sigma(z) IS sigma'(z)).":
            bug(slope_at_a=lambda L: {L}),
        "at the hidden layers the slope was taken at the activation, f'(a^(l)); it belongs "
        "at z^(l) (for the sigmoid, a(1 - a) IS sigma'(z)).":
            bug(slope_at_a=lambda L: set(range(1, L))),
        "the slope was taken at the activations, f'(a^(l)), at every layer; it belongs at "
        "z^(l) (for the sigmoid, a(1 - a) IS sigma'(z)).":
            bug(slope_at_a=lambda L: set(range(1, L + 1))),
        "the factor f'(z^(l)) of the hidden layers is missing: (W^(l+1))^T delta^(l+1) is "
        "dC/da^(l); one more step, through the activation, reaches z^(l).":
            bug(no_slope=lambda L: set(range(1, L))),
        "the transpose is missing: a neuron of layer l sends its output along a COLUMN of "
        "W^(l+1), so it collects (W^(l+1))^T delta^(l+1). (The shapes fit because W is "
        "square; the numbers do not.)": bug(no_transpose=True),
        "the wrong layer's activation: dC/dW^(l) = delta^(l) (a^(l-1))^T, the activations "
        "that go INTO layer l; you used a^(l).": bug(prev=0),
        "the slope of the wrong layer's activation: layer l's f' is activations[l - 1] (the "
        "list starts at layer 1), not the next layer's.": bug(slope_of="next"),
        "the slope of the wrong layer's activation: layer l's f' is activations[l - 1] (the "
        "list starts at layer 1), not the previous layer's.": bug(slope_of="prev"),
        "every layer's slope is the sigmoid's: layer l's activation is activations[l - 1] "
        "(tanh, relu, identity, ...), and its slope is that function's.":
            bug(slope_of="sigmoid"),
        "the sigmoid's slope was computed as z(1 - z), from z; the formula a(1 - a) needs "
        "the activation a = sigma(z).": bug(z_for_a=True),
        **_one_layer(bug),
    }
    if cost == "squared_error":
        out["the output layer's slope f'(z^(L)) is missing: a - y is dC/da^(L); delta^(L) "
            "= (a - y) * f'(z^(L))."] = bug(output="no-slope")
    else:
        out["the output delta was multiplied by s(1 - s): with softmax and cross-entropy "
            "delta^(L) = s - y exactly (the softmax's Jacobian and the log's 1/s cancel)."] = (
            bug(output="softmax-slope"))
        out["the output delta keeps only the softmax Jacobian's diagonal, s_j (1 - s_j): "
            "every logit moves every probability, so the off-diagonal terms -s_j s_k count "
            "too, and with them delta^(L) = s - y."] = bug(output="diagonal")
    if batch:
        out["the bias gradient was summed over axis 0, the neurons; it sums over the samples "
            "(axis 1) and stays a column."] = raw(bias_sum_axis0)
        out["the bias gradient is not summed over the batch: it has one column per sample; "
            "add the columns up (axis 1, keeping the column)."] = raw(bias_not_summed)
    return out


def _one_layer(bug, deepest: int = 4) -> dict:
    """The slope mistakes made at one layer l only. The layers below l inherit its wrong
    delta, so every array from layer l down is wrong: the message names layer l."""
    out = {}
    for layer in range(1, deepest + 1):
        below = (f" The layers below inherit delta^({layer}): fix layer {layer} first."
                 if layer > 1 else "")
        out[f"at layer {layer} the slope was taken at the activation, f'(a^({layer})); it "
            f"belongs at z^({layer}) (for the sigmoid, a(1 - a) IS sigma'(z)).{below}"] = (
            bug(slope_at_a={layer}))
        out[f"the factor f'(z^({layer})) of layer {layer} is missing: "
            f"(W^({layer + 1}))^T delta^({layer + 1}) is dC/da^({layer}); one more step, "
            f"through the activation, reaches z^({layer}).{below}"] = bug(no_slope={layer})
    return out


def check_backward(answer, *, what: str, cases: list[dict], activations, cost: str,
                   batch: bool = False, part: str | None = None, extra: dict | None = None,
                   arguments: list[str] | None = None):
    """The code checker of a reader's ``backward(params, cache, Y[, activations])``."""
    from ..codecheck import SIGN_A_MINUS_Y, check_code

    def reference(*args):
        return ref.backward(*_unpack(args, activations, cost))

    def fd(*args):
        return numeric(*_unpack(args, activations, cost))

    return check_code(
        answer, reference, what=what, cases=cases, names=names,
        returns=describe(cases[0]), mistakes={**(extra or {}), **mistakes(activations, cost,
                                                                          batch)},
        numeric=fd, why=why, batch=(lambda case: case["cache"].as_[0].shape[1]) if batch else None,
        part=part, sign=SIGN_A_MINUS_Y, arguments=arguments,
    )


# ------------------------------------------------------------------ find the bug


def suspect_backward(params, X, Y, activations, cost, bug: tuple[str, int, str]):
    """The book's backward pass with one planted bug in one array: ``bug`` is (array, layer,
    kind), e.g. ("dW", 3, "next-activation"), ("db", 2, "mean"), ("dW", 2, "transposed"),
    ("db", 1, "no-slope")."""
    cache = ref.forward(params, X, activations)
    grads = [list(pair) for pair in ref.backward(params, cache, Y, activations, cost)]
    deltas = ref.backward_deltas(params, cache, Y, activations, cost)
    array, layer, kind = bug
    if kind == "next-activation":  # dW^(l) = Delta^(l) (A^(l))^T
        grads[layer - 1][0] = deltas[layer] @ cache.as_[layer].T
    elif kind == "transposed":
        grads[layer - 1][0] = grads[layer - 1][0].T
    elif kind == "mean":  # db^(l) averaged over the batch: the 1/m twice
        grads[layer - 1][1] = deltas[layer].mean(axis=1, keepdims=True)
    elif kind == "no-slope":  # db^(l) from dC/dA^(l): the slope f'(Z^(l)) forgotten there
        if layer == len(params):
            g = (cache.as_[layer] - Y) / Y.shape[1]
        else:
            g = params[layer][0].T @ deltas[layer + 1]
        grads[layer - 1][1] = g.sum(axis=1, keepdims=True)
    else:  # pragma: no cover - the exercises use the four above
        raise ValueError(f"unknown bug {bug}")
    assert array in ("dW", "db")
    return [tuple(pair) for pair in grads]


def read_array_name(answer: object, what: str, layers: int):
    """("dW" or "db", layer) from an answer such as "dW3", "db1", "dC/dW^(2)"."""
    import re

    from ..checkers import NotQuiteRight, a_kind

    if not isinstance(answer, str):
        raise NotQuiteRight(f"{what} should be a string naming one array, like \"dW2\" or "
                            f"\"db1\"; you gave {a_kind(answer)}.")
    found = re.fullmatch(r"\s*(?:dC\s*/\s*)?d?\s*([Wb])\s*\^?\s*\(?\s*(\d+)\s*\)?\s*",
                         answer, flags=re.I)
    if not found:
        raise NotQuiteRight(f"{what}: could not read {answer!r}; name one array, like "
                            "\"dW2\" or \"db1\".")
    kind = "dW" if found.group(1).upper() == "W" else "db"
    layer = int(found.group(2))
    if not 1 <= layer <= layers:
        raise NotQuiteRight(f"{what}: the network has layers 1 to {layers}; there is no "
                            f"{kind}{layer}.")
    return kind, layer


def check_found_bug(answer, *, what, params, X, Y, activations, cost, bug):
    """Whether the reader named the one array the planted ``bug`` makes wrong, and if not,
    what a gradient check of the array they named shows."""
    from ..checkers import NotQuiteRight, Verdict, is_placeholder, not_done

    if is_placeholder(answer):
        return not_done(what)
    kind, layer = read_array_name(answer, what, len(params))
    grads = suspect_backward(params, X, Y, activations, cost, bug)
    fd = gradcheck.check_gradients(params, X, Y, activations, cost).numerical
    part = 0 if kind == "dW" else 1
    err = gradcheck.relative_error(grads[layer - 1][part], fd[layer - 1][part])
    if (kind, layer) == bug[:2]:
        others = max(gradcheck.relative_error(grads[k][p], fd[k][p]) for k in range(len(params))
                     for p in (0, 1) if (k, p) != (layer - 1, part))
        # the verdict stays on the built page, under the exercise: it names no array
        return Verdict(True, what, f"you found the wrong array: its gradient check gives a "
                                   f"relative error of {err:.2g}, while every other array "
                                   f"agrees to {others:.0e} or better.")
    raise NotQuiteRight(
        f"{what}: {kind}{layer} is not it. Exactly one array disagrees with centered "
        "differences of the cost: compute bb.relative_error between each array of the "
        "suspect pass and its centered differences, dW and db of every layer; the wrong one "
        "stands far above 1e-6."
    )
