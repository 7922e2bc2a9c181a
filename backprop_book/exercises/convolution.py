"""Exercises of the chapter on backprop through convolution: given numbers and checkers.

1. ``ex-conv-output-size``: how many positions a kernel takes along an axis, with stride
   and padding (diagnoses: padding left out, rounded up instead of down, the + 1 forgotten).
2. ``ex-conv-input-grad``: a function for dC/dx of a one-channel convolution with a stride
   (diagnoses: the kernel not flipped, flipped on one axis only, no full padding or 'same'
   padding, the stride ignored, dy spread out without the trailing zeros that fill the
   stride-1 grid when the stride does not divide size - kernel).
3. ``ex-conv-kernel-grad``: a function for dC/dk (diagnoses: the kernel flipped, the stride
   ignored, dy flipped as in a convolution).
4. ``ex-conv-maxpool-backward``: a function for max-pooling's backward pass (diagnoses:
   every maximum of a tie gets the gradient, the last maximum instead of the first, `=`
   where overlapping windows must add, the stride ignored, the average pool's rule).

The function checkers call the reader's function on fresh random inputs, drawn from seeds
the page never prints, and compare each result with the package's reference
(:mod:`backprop_book.conv`) and with centered differences of C = sum(dy * forward). A wrong
result is compared with what each classic bug returns on the same inputs, so the message
can name the bug; an exception in the reader's code is reported with the reader's own line.
"""

from __future__ import annotations

import linecache
import os
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .. import conv
from ..checkers import (
    NotQuiteRight,
    Verdict,
    as_numbers,
    check_array,
    given,
    is_placeholder,
    not_done,
    numbers_table,
    right,
)
from ..gradcheck import numerical_gradient

OUTPUT_SIZE = "ex-conv-output-size"
INPUT_GRAD = "ex-conv-input-grad"
KERNEL_GRAD = "ex-conv-kernel-grad"
MAXPOOL = "ex-conv-maxpool-backward"

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# ------------------------------------------------------------------ 1. the output size


def _output_sizes(size: int, kernel: int, stride: int, padding: int) -> dict[str, int]:
    """The right count, by sliding a window along the padded axis, and three wrong ones."""
    span = size + 2 * padding - kernel
    return {
        "right": len(range(0, span + 1, stride)),  # every start where the window still fits
        "no padding": (size - kernel) // stride + 1,
        "rounded up": -(-span // stride) + 1,
        "no + 1": span // stride,
    }


def output_size_numbers() -> dict:
    """An input width, a kernel width, a stride and a padding; every mistake gives its own count."""

    def draw(rng: np.random.Generator) -> dict:
        while True:
            n = {"size": int(rng.integers(9, 100)), "kernel": int(rng.integers(2, 8)),
                 "stride": int(rng.integers(2, 5)), "padding": int(rng.integers(1, 4))}  # fmt: skip
            if len(set(_output_sizes(**n).values())) == 4:
                return n

    return given(OUTPUT_SIZE, {"size": 28, "kernel": 5, "stride": 2, "padding": 2}, draw)


def check_output_size(answer: object) -> Verdict:
    """(size + 2 padding - kernel) // stride + 1, counted by sliding a window along the axis."""
    counts = _output_sizes(**output_size_numbers())
    return check_array(
        answer,
        counts["right"],
        what="the output size",
        mistakes={
            "the padding is left out: it adds `padding` positions on BOTH sides, "
            "size + 2 padding in all.": counts["no padding"],
            "the division is rounded up: a window that runs past the padded edge is not "
            "taken, so round down, (size + 2 padding - kernel) // stride + 1.":
            counts["rounded up"],
            "the + 1 is missing: the window's first position, at 0, counts too.":
            counts["no + 1"],
        },  # fmt: skip
        atol=0.0,
        rtol=0.0,
    )


# ------------------------------------------------------------------ the function checkers


@dataclass(frozen=True)
class Case:
    """One call of the reader's function: its arguments and how to name them in feedback."""

    args: tuple
    about: str
    differentiable: bool = True  # False where a tie in a max makes differences meaningless


def _user_line(err: BaseException) -> str:
    """Where in the reader's own code ``err`` was raised: the last frame outside packages."""
    frames = traceback.extract_tb(err.__traceback__)
    mine = [
        f for f in frames[1:]
        if not f.filename.startswith(_PACKAGE) and "site-packages" not in f.filename
        and "/lib/python" not in f.filename
    ]  # fmt: skip
    if not mine:
        return ""
    frame = mine[-1]
    text = (frame.line or linecache.getline(frame.filename, frame.lineno)).strip()
    return f" at line {frame.lineno} of your code: {text}" if text else ""


def _call(answer: Callable, case: Case, what: str) -> np.ndarray | None:
    """The reader's result as an array; None for "not done yet"; NotQuiteRight for the rest."""
    try:
        result = answer(*case.args)
    except NotImplementedError:
        return None
    except Exception as err:  # the reader's code: one line, theirs, never a traceback
        raise NotQuiteRight(
            f"calling {what} on {case.about} raised {type(err).__name__}: {err}"
            f"{_user_line(err)}"
        ) from None
    if result is None:
        raise NotQuiteRight(f"{what} returned None on {case.about}: it needs a `return`.")
    return as_numbers(result, f"{what} should return a NumPy array; it returned a {{type}}.",
                      f"{what} returned NaN or infinity on {case.about}.")


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-7, atol=1e-9))


def _check_gradient_function(
    answer: object,
    *,
    what: str,
    cases: Sequence[Case],
    reference: Callable[..., np.ndarray],
    differences: Callable[..., np.ndarray],
    bugs: dict[str, Callable[..., np.ndarray]],
    shape_reason: str,
) -> Verdict:
    if is_placeholder(answer):
        return not_done(what)
    if not callable(answer):
        raise NotQuiteRight(
            f"{what} should be a function (def {what}(...): ...); you gave a "
            f"{type(answer).__name__}."
        )
    got = []
    for case in cases:
        result = _call(answer, case, what)
        if result is None:
            return not_done(what)
        got.append(result)
    want = [reference(*c.args) for c in cases]
    for diagnosis, bug in bugs.items():
        try:
            wrong = [bug(*c.args) for c in cases]
        except (ValueError, IndexError):  # this bug cannot even run on these inputs
            continue
        same = all(_close(g, w) for g, w in zip(got, wrong, strict=True))
        if same and not all(_close(w, r) for w, r in zip(wrong, want, strict=True)):
            raise NotQuiteRight(f"{what}: {diagnosis}")
    for case, g, w in zip(cases, got, want, strict=True):
        if g.shape != w.shape:
            raise NotQuiteRight(
                f"{what} returned shape {g.shape} on {case.about}; expected {w.shape}: "
                f"{shape_reason}"
            )
    numeric = [differences(*c.args) if c.differentiable else None for c in cases]
    for case, g, w, fd in zip(cases, got, want, numeric, strict=True):
        if _close(g, w):
            continue
        worst = np.unravel_index(np.argmax(np.abs(g - w)), w.shape)
        where = tuple(int(i) for i in worst)
        versus = "" if fd is None else (
            f"; centered differences give {fd[worst]:.6g} there too, so the right value is "
            "not in doubt"
        )
        raise NotQuiteRight(
            f"{what} is not a mistake we recognise. On {case.about} the worst entry is at "
            f"{where}: yours {g[worst]:.6g}, expected {w[worst]:.6g}{versus}."
        )
    n_fd = sum(fd is not None for fd in numeric)
    return right(
        what,
        f"(it agrees with the reference on {len(cases)} fresh inputs, and with centered "
        f"differences on the {n_fd} where the cost is differentiable.)",
    )


def _one(a: np.ndarray) -> np.ndarray:
    return np.asarray(a, dtype=float)[None, None]


def _differences(cost: Callable[[np.ndarray], float], at: np.ndarray) -> np.ndarray:
    at = np.array(at, dtype=float)
    return numerical_gradient(lambda _: cost(at), at)


# ------------------------------------------------------------------ 2. the input gradient


def _input_grad(dy, k, x_shape, stride):
    return conv._conv2d_input_grad(_one(dy), _one(k), (1, 1) + tuple(x_shape),
                                   (stride, stride), (0, 0))[0, 0]  # fmt: skip


def _spread_full(dy, k, x_shape, stride, pad=None):
    """dy spread out by the stride, padded by ``pad`` (kernel size - 1 if None)."""
    kh, kw = np.shape(k)
    rows, cols = x_shape[0] - kh + 1, x_shape[1] - kw + 1
    g = np.zeros((rows, cols))
    g[::stride, ::stride] = dy
    ph, pw = (kh - 1, kw - 1) if pad is None else pad
    return np.pad(g, ((ph, ph), (pw, pw)))


def _between_only(dy, k, x_shape, stride):
    """dy spread out with zeros between its entries only (none after the last), padded by
    kernel size - 1, correlated with the turned kernel: short by the remainder of
    (size - kernel) / stride along each axis."""
    kh, kw = np.shape(k)
    g = np.zeros((stride * (dy.shape[0] - 1) + 1, stride * (dy.shape[1] - 1) + 1))
    g[::stride, ::stride] = dy
    return conv.correlate(np.pad(g, ((kh - 1, kh - 1), (kw - 1, kw - 1))), k[::-1, ::-1])


def _input_grad_bugs() -> dict[str, Callable]:
    def corr(g, kernel):
        return conv.correlate(g, kernel) if all(
            a >= b for a, b in zip(g.shape, kernel.shape, strict=True)) else np.zeros((0, 0))

    return {
        "the kernel is not flipped. The forward pass correlates (no flip), so its input "
        "gradient is a FULL CONVOLUTION: correlate with the kernel turned 180 degrees, "
        "k[::-1, ::-1].": lambda dy, k, xs, s: corr(_spread_full(dy, k, xs, s), k),
        "the kernel is flipped along one axis only; turn it 180 degrees, k[::-1, ::-1] "
        "(both axes).": lambda dy, k, xs, s: corr(_spread_full(dy, k, xs, s), k[::-1]),
        "no padding for the full convolution: a 'valid' correlation of dy with the flipped "
        "kernel only reaches the inputs every kernel position touches. Pad dy by kh - 1 rows "
        "and kw - 1 columns on every side first, so each input meets every output it fed.":
        lambda dy, k, xs, s: corr(_spread_full(dy, k, xs, s, pad=(0, 0)), k[::-1, ::-1]),
        "dy is padded by kh // 2 ('same' padding); the full convolution pads by kh - 1 rows "
        "and kw - 1 columns on every side.":
        lambda dy, k, xs, s: corr(_spread_full(dy, k, xs, s, pad=(k.shape[0] // 2, k.shape[1] // 2)),
                                  k[::-1, ::-1]),
        "the stride is ignored in the backward pass. Output (i, j) read the window that starts "
        "at (stride i, stride j): put dy[i, j] there (zeros between) before the full "
        "convolution.": lambda dy, k, xs, s: conv.convolve(dy, k, "full"),
        "the spread-out dy has zeros between its entries but none after the last one. When "
        "x_shape - kernel size is not a multiple of the stride, the last rows or columns of x "
        "lie under no window: spread dy onto the stride-1 grid, x_shape[0] - kh + 1 by "
        "x_shape[1] - kw + 1 slots, dy[i, j] in slot (stride i, stride j) and zeros in all the "
        "others, trailing ones included, so the full convolution comes out the shape of x "
        "(with 0 for the inputs no window read).": _between_only,
    }  # fmt: skip


def _input_grad_cases(seed: int = 7001) -> list[Case]:
    rng = np.random.default_rng(seed)
    shapes = [((5, 6), (3, 2), 1), ((7, 7), (3, 3), 2), ((8, 6), (3, 3), 2), ((9, 8), (2, 3), 3)]
    cases = []
    for x_shape, k_shape, s in shapes:
        k = np.round(rng.normal(size=k_shape), 2)
        out = [conv.conv_output_size(n, kk, s) for n, kk in zip(x_shape, k_shape, strict=True)]
        dy = np.round(rng.normal(size=out), 2)
        cases.append(Case((dy, k, x_shape, s),
                          f"dy of shape {dy.shape}, k of shape {k.shape}, x_shape {x_shape}, "
                          f"stride {s}"))  # fmt: skip
    return cases


def _input_grad_differences(dy, k, x_shape, stride):
    def cost(x):
        return float(np.sum(dy * conv.conv2d(_one(x), _one(k), stride=stride)[0, 0]))

    return _differences(cost, np.random.default_rng(1).normal(size=x_shape))


def input_grad_example() -> dict:
    """The inputs the page prints for trying ``input_grad`` by hand (not the checker's)."""
    rng = np.random.default_rng(29)
    return {"dy": rng.integers(-3, 4, size=(2, 2)).astype(float),
            "k": rng.integers(-2, 3, size=(2, 2)).astype(float), "x_shape": (5, 5), "stride": 2}


def check_input_grad(answer: object) -> Verdict:
    """``input_grad(dy, k, x_shape, stride) -> dx``: dC/dx of y = correlate(x, k, stride)."""
    return _check_gradient_function(
        answer, what="input_grad", cases=_input_grad_cases(), reference=_input_grad,
        differences=_input_grad_differences, bugs=_input_grad_bugs(),
        shape_reason="dC/dx has the shape of x, x_shape (each input gets one derivative).",
    )  # fmt: skip


# ------------------------------------------------------------------ 3. the kernel gradient


def _kernel_grad(dy, x, kernel_shape, stride):
    return conv._conv2d_kernel_grad(_one(dy), _one(x), *kernel_shape,
                                    (stride, stride), (0, 0))[0, 0]  # fmt: skip


def _kernel_grad_bugs() -> dict[str, Callable]:
    def spread(dy, x, ks, s):
        g = np.zeros((x.shape[0] - ks[0] + 1, x.shape[1] - ks[1] + 1))
        g[::s, ::s] = dy
        return g

    def no_stride(dy, x, ks, s):
        if dy.shape[0] > x.shape[0] or dy.shape[1] > x.shape[1]:
            return np.zeros((0, 0))
        return conv.correlate(x, dy)

    return {
        "that is the kernel gradient turned 180 degrees: the flip belongs to the INPUT "
        "gradient. dC/dk[p, q] = sum_ij dy[i, j] x[s i + p, s j + q], a correlation of x "
        "with the spread-out dy, no flip.":
        lambda dy, x, ks, s: conv.correlate(x, spread(dy, x, ks, s))[::-1, ::-1],
        "the stride is ignored: output (i, j) read x from (stride i, stride j) on, so spread "
        "dy out (stride - 1 zeros between entries) before correlating, or step through x by "
        "the stride.": no_stride,
        "dy is flipped (a convolution, np.convolve-style) where the kernel gradient is a plain "
        "correlation: dC/dk[p, q] = sum_ij dy[i, j] x[s i + p, s j + q], nothing turned.":
        lambda dy, x, ks, s: conv.convolve(x, spread(dy, x, ks, s)),
    }  # fmt: skip


def _kernel_grad_cases(seed: int = 7101) -> list[Case]:
    rng = np.random.default_rng(seed)
    shapes = [((5, 6), (3, 2), 1), ((7, 7), (3, 3), 2), ((8, 6), (2, 3), 2), ((9, 9), (3, 3), 3)]
    cases = []
    for x_shape, k_shape, s in shapes:
        x = np.round(rng.normal(size=x_shape), 2)
        out = [conv.conv_output_size(n, kk, s) for n, kk in zip(x_shape, k_shape, strict=True)]
        dy = np.round(rng.normal(size=out), 2)
        cases.append(Case((dy, x, k_shape, s),
                          f"dy of shape {dy.shape}, x of shape {x.shape}, kernel_shape "
                          f"{k_shape}, stride {s}"))  # fmt: skip
    return cases


def _kernel_grad_differences(dy, x, kernel_shape, stride):
    def cost(k):
        return float(np.sum(dy * conv.conv2d(_one(x), _one(k), stride=stride)[0, 0]))

    return _differences(cost, np.random.default_rng(2).normal(size=kernel_shape))


def check_kernel_grad(answer: object) -> Verdict:
    """``kernel_grad(dy, x, kernel_shape, stride) -> dk``: dC/dk of y = correlate(x, k, stride)."""
    return _check_gradient_function(
        answer, what="kernel_grad", cases=_kernel_grad_cases(), reference=_kernel_grad,
        differences=_kernel_grad_differences, bugs=_kernel_grad_bugs(),
        shape_reason="dC/dk has the shape of the kernel, kernel_shape (one derivative per "
        "weight, summed over every position the weight was used at).",
    )  # fmt: skip


# ------------------------------------------------------------------ 4. max-pool backward


def _maxpool_backward(dy, x, size, stride):
    return conv._maxpool2d_backward(_one(dy), _one(x), (size, size), (stride, stride))[0, 0]


def _pool_loop(dy, x, size, stride, pick, assign=False):
    """Route each window's dy with ``pick(window) -> list of (r, c)``; add or assign."""
    dx = np.zeros_like(x, dtype=float)
    for i, j in np.ndindex(dy.shape):
        r0, c0 = i * stride, j * stride
        window = x[r0 : r0 + size, c0 : c0 + size]
        for r, c in pick(window, dy[i, j]):
            if assign:
                dx[r0 + r, c0 + c] = dy[i, j]
            else:
                dx[r0 + r, c0 + c] += dy[i, j]
    return dx


def _first(window, _):
    return [np.unravel_index(np.argmax(window), window.shape)]


def _every(window, _):
    return [tuple(rc) for rc in np.argwhere(window == window.max())]


def _last(window, _):
    flat = window.ravel()
    return [np.unravel_index(flat.size - 1 - np.argmax(flat[::-1]), window.shape)]


def _maxpool_bugs() -> dict[str, Callable]:
    def no_stride(dy, x, size, stride):
        rows, cols = (dy.shape[0] - 1) * size + size, (dy.shape[1] - 1) * size + size
        if rows > x.shape[0] or cols > x.shape[1]:
            return np.zeros((0, 0))
        return _pool_loop(dy, x, size, size, _first)

    def average(dy, x, size, stride):
        dx = np.zeros_like(x, dtype=float)
        for i, j in np.ndindex(dy.shape):
            dx[i * stride : i * stride + size, j * stride : j * stride + size] += dy[i, j] / size**2
        return dx

    return {
        "on a tie every maximum gets the whole gradient, so the window passes back more than "
        "it received. The max took ONE entry: send dy to the first largest entry (row by row, "
        "as np.argmax finds it) and 0 to the others.":
        lambda dy, x, size, s: _pool_loop(dy, x, size, s, _every),
        "on a tie the gradient goes to the LAST largest entry; the rule (and PyTorch's) is "
        "the first, in row-major order, as np.argmax finds it.":
        lambda dy, x, size, s: _pool_loop(dy, x, size, s, _last),
        "where windows overlap, one entry can be the maximum of two windows: its gradient "
        "must ADD both (+=), but yours keeps only the last (=).":
        lambda dy, x, size, s: _pool_loop(dy, x, size, s, _first, assign=True),
        "the stride is ignored: window (i, j) starts at (stride i, stride j), not at (size i, "
        "size j).": no_stride,
        "that is average pooling's backward (dy / size^2 to every entry of the window). Max "
        "pooling sends all of dy to the one entry that was the maximum.": average,
    }  # fmt: skip


def _maxpool_cases(seed: int = 7201) -> list[Case]:
    rng = np.random.default_rng(seed)
    cases = []
    for shape, size, stride, ties in (((6, 6), 2, 2, True), ((7, 7), 3, 2, True),
                                      ((5, 6), 2, 1, False), ((9, 9), 3, 3, False)):  # fmt: skip
        x = rng.integers(0, 3, size=shape).astype(float) if ties else np.round(
            rng.normal(size=shape), 3)
        out = [conv.conv_output_size(n, size, stride) for n in shape]
        dy = np.round(rng.normal(size=out), 2)
        about = (f"x of shape {shape}{' with ties' if ties else ''}, dy of shape {dy.shape}, "
                 f"size {size}, stride {stride}")  # fmt: skip
        cases.append(Case((dy, x, size, stride), about, differentiable=not ties))
    return cases


def _maxpool_differences(dy, x, size, stride):
    def cost(at):
        return float(np.sum(dy * conv.maxpool2d(_one(at), size, stride)[0, 0]))

    return _differences(cost, x)


def maxpool_example() -> dict:
    """The inputs the page prints for trying ``maxpool_backward`` (not the checker's)."""
    x = np.array([[1.0, 3.0, 2.0, 0.0], [3.0, 0.0, 1.0, 2.0], [0.0, 1.0, 4.0, 4.0],
                  [2.0, 2.0, 1.0, 0.0]])  # fmt: skip
    return {"dy": np.array([[1.0, -2.0], [0.5, 3.0]]), "x": x, "size": 2, "stride": 2}


def check_maxpool_backward(answer: object) -> Verdict:
    """``maxpool_backward(dy, x, size, stride) -> dx`` of y = maxpool2d(x, size, stride)."""
    return _check_gradient_function(
        answer, what="maxpool_backward", cases=_maxpool_cases(), reference=_maxpool_backward,
        differences=_maxpool_differences, bugs=_maxpool_bugs(),
        shape_reason="dC/dx has the shape of x (the entries no window picked get 0).",
    )  # fmt: skip


__all__ = [
    "output_size_numbers",
    "check_output_size",
    "input_grad_example",
    "check_input_grad",
    "check_kernel_grad",
    "maxpool_example",
    "check_maxpool_backward",
    "numbers_table",
]
