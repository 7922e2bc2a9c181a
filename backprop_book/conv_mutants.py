"""Mutation tests of the convolution code: plant the classic bugs in :mod:`backprop_book.conv`.

Each mutant replaces one private kernel of ``conv`` (``_conv2d_input_grad``,
``_conv2d_kernel_grad``, ``_maxpool2d_backward``) while the probe runs. The probe is the
chapter's own kind of check, written without ``conv``'s backward code: centered
differences of C = sum(G * forward) on small layers (strides 1 and 2, padding, overlapping
pooling windows without ties), each pooling window passing back exactly its G on an image
full of ties, and the first-maximum rule on one tie. A mutant no check catches survives.
(Run by ``tests/reader/test_conv_mutants.py`` and shown on the appendix *What our checks
catch*; the chapter's own hand-written network gets its
bugs through the notebook hook of :mod:`backprop_book.mutants`.)
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from . import conv
from .gradcheck import numerical_gradient, relative_error

_orig = {name: getattr(conv, name) for name in
         ("_conv2d_input_grad", "_conv2d_kernel_grad", "_maxpool2d_backward")}


@dataclass(frozen=True)
class ConvMutant:
    name: str
    bug: str
    patch: dict[str, Callable]


def _unflipped(dy, k, x_shape, s, p):
    return _orig["_conv2d_input_grad"](dy, k[:, :, ::-1, ::-1], x_shape, s, p)


def _stride_ignored_input(dy, k, x_shape, s, p):
    """dy used as if the stride were 1, cut or padded to fit: the positions are wrong."""
    _, _, H, W = x_shape
    kh, kw = k.shape[2:]
    rows, cols = H + 2 * p[0] - kh + 1, W + 2 * p[1] - kw + 1
    g = np.zeros(dy.shape[:2] + (rows, cols))
    g[:, :, : dy.shape[2], : dy.shape[3]] = dy[:, :, :rows, :cols]
    return _orig["_conv2d_input_grad"](g, k, x_shape, (1, 1), p)


def _wrong_crop(dy, k, x_shape, s, p):
    """The padded input's gradient cut from its top-left corner, not its middle."""
    N, C, H, W = x_shape
    full = _orig["_conv2d_input_grad"](dy, k, (N, C, H + 2 * p[0], W + 2 * p[1]), s, (0, 0))
    return full[:, :, :H, :W]


def _kernel_flipped(dy, x, kh, kw, s, p):
    return _orig["_conv2d_kernel_grad"](dy, x, kh, kw, s, p)[:, :, ::-1, ::-1]


def _kernel_stride_ignored(dy, x, kh, kw, s, p):
    xp = conv._pad(x, p)
    win = conv._windows(xp, kh, kw, (1, 1))[:, :, : dy.shape[2], : dy.shape[3]]
    return np.tensordot(dy, win, axes=([0, 2, 3], [0, 2, 3]))


def _pool_overwrite(dy, x, size, s):
    _, idx = conv._maxpool_windows(x, size, s)
    dx = np.zeros_like(x)
    for n, c, i, j in np.ndindex(idx.shape):
        r, q = divmod(int(idx[n, c, i, j]), size[1])
        dx[n, c, i * s[0] + r, j * s[1] + q] = dy[n, c, i, j]  # `=` where `+=` was meant
    return dx


def _pool_every_max(dy, x, size, s):
    flat, _ = conv._maxpool_windows(x, size, s)
    dx = np.zeros_like(x)
    top = flat.max(axis=-1, keepdims=True)
    for n, c, i, j in np.ndindex(flat.shape[:4]):
        for t in np.flatnonzero(flat[n, c, i, j] == top[n, c, i, j, 0]):
            r, q = divmod(int(t), size[1])
            dx[n, c, i * s[0] + r, j * s[1] + q] += dy[n, c, i, j]
    return dx


def _pool_last_max(dy, x, size, s):
    flat, _ = conv._maxpool_windows(x, size, s)
    last = flat.shape[-1] - 1 - flat[..., ::-1].argmax(axis=-1)
    dx = np.zeros_like(x)
    for n, c, i, j in np.ndindex(last.shape):
        r, q = divmod(int(last[n, c, i, j]), size[1])
        dx[n, c, i * s[0] + r, j * s[1] + q] += dy[n, c, i, j]
    return dx


CONV_MUTANTS = [
    ConvMutant("conv-unflipped", "the input gradient correlates with the kernel unturned",
               {"_conv2d_input_grad": _unflipped}),
    ConvMutant("conv-stride-ignored", "the stride ignored in the input gradient (dy not spread out)",
               {"_conv2d_input_grad": _stride_ignored_input}),
    ConvMutant("conv-wrong-crop", "the padding cut off the wrong side of the padded gradient",
               {"_conv2d_input_grad": _wrong_crop}),
    ConvMutant("conv-kernel-flipped", "the kernel gradient turned 180 degrees",
               {"_conv2d_kernel_grad": _kernel_flipped}),
    ConvMutant("conv-kernel-stride", "the stride ignored in the kernel gradient",
               {"_conv2d_kernel_grad": _kernel_stride_ignored}),
    ConvMutant("pool-overwrite", "`=` instead of `+=` where pooling windows overlap",
               {"_maxpool2d_backward": _pool_overwrite}),
    ConvMutant("pool-every-max", "a tie routes the gradient to every maximum",
               {"_maxpool2d_backward": _pool_every_max}),
    ConvMutant("pool-last-max", "a tie routes the gradient to the last maximum, not the first",
               {"_maxpool2d_backward": _pool_last_max}),
]


@contextlib.contextmanager
def planted(mutant: ConvMutant) -> Iterator[None]:
    """Replace the ``conv`` kernels named in ``mutant.patch`` while the block runs."""
    saved = {name: getattr(conv, name) for name in mutant.patch}
    try:
        for name, fn in mutant.patch.items():
            setattr(conv, name, fn)
        yield
    finally:
        for name, fn in saved.items():
            setattr(conv, name, fn)


def _conv_cost(G, x, k, b, s, p):
    return lambda _: float(np.sum(G * conv.conv2d(x, k, b, s, p)))


def _pool_cost(G, x, size, s):
    return lambda _: float(np.sum(G * conv.maxpool2d(x, size, s)))


def probe() -> list[str]:
    """Every check of the convolution code that fails, as a sentence (empty: all pass)."""
    rng = np.random.default_rng(29)
    failures = []
    for s, p in ((1, 0), (2, 1), (3, 2)):
        x, k, b = rng.normal(size=(2, 2, 7, 6)), rng.normal(size=(3, 2, 3, 2)), rng.normal(size=3)
        G = rng.normal(size=conv.conv2d(x, k, b, s, p).shape)
        try:
            dx, dk, _ = conv.conv2d_backward(G, x, k, s, p)
        except (ValueError, IndexError) as err:
            failures.append(f"conv2d_backward, stride {s}, padding {p}: {err}")
            continue
        for name, got, arr in (("dx", dx, x), ("dk", dk, k)):
            fd = numerical_gradient(_conv_cost(G, x, k, b, s, p), arr)
            if got.shape != fd.shape or relative_error(got, fd) > 1e-7:
                failures.append(f"{name}, stride {s}, padding {p}: differs from centered differences")
    for size, s in ((2, 2), (3, 1), (3, 2)):
        x = rng.normal(size=(1, 2, 7, 7))
        G = rng.normal(size=conv.maxpool2d(x, size, s).shape)
        dx = conv.maxpool2d_backward(G, x, size, s)
        fd = numerical_gradient(_pool_cost(G, x, size, s), x)
        if relative_error(dx, fd) > 1e-7:
            failures.append(f"max-pool {size}, stride {s}: differs from centered differences")
    ties = rng.integers(0, 2, size=(1, 2, 6, 6)).astype(float)
    G = rng.normal(size=(1, 2, 3, 3))
    per_window = conv.maxpool2d_backward(G, ties).reshape(1, 2, 3, 2, 3, 2).sum(axis=(3, 5))
    if not np.allclose(per_window, G, atol=1e-12):
        failures.append("max-pool with ties: a window passes back more or less than its G")
    first = conv.maxpool2d_backward(np.ones((1, 1, 1, 1)), np.array([[[[1.0, 2.0], [2.0, 0.0]]]]))
    if first[0, 0].tolist() != [[0.0, 1.0], [0.0, 0.0]]:
        failures.append("max-pool with a tie: the gradient does not go to the first maximum")
    return failures


def caught_by(mutant: ConvMutant) -> list[str]:
    """What the probe says with ``mutant`` planted (empty: it survived)."""
    with planted(mutant):
        return probe()
