"""Convolution and max-pooling, forward and backward, in plain NumPy.

Layout (PyTorch's, batch first, because an image is a grid and not a column):

    x       (N, C_in, H, W)          N images of C_in channels
    k       (C_out, C_in, kh, kw)    one kh x kw filter per (output, input) channel pair
    b       (C_out,)                 one bias per output channel
    y       (N, C_out, H', W')       H' = (H + 2 p - kh) // s + 1, likewise W'

What deep learning calls a convolution is a **cross-correlation**: the kernel is NOT
flipped in the forward pass,

    y[n, o, i, j] = b[o] + sum_{c, p, q} k[o, c, p, q] * xpad[n, c, s i + p, s j + q],

with ``xpad`` the input padded by ``p`` zeros on every side and ``s`` the stride. The
flip appears in the backward pass: the input gradient is a *full* convolution (a
correlation with the kernel turned by 180 degrees) of the output gradient, spread out
by the stride; the kernel gradient is a correlation of the input with the output gradient.

Public functions check their inputs once, then run the private kernels (``_conv2d``,
``_conv2d_input_grad``, ...), which is also where the mutation tests plant their bugs.
Max-pooling routes each window's gradient to the window's FIRST largest entry in
row-major order (the same choice as PyTorch on the CPU); overlapping windows add.
"""

from __future__ import annotations

import numbers

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from . import _validate as check

Pair = tuple[int, int]

__all__ = [
    "correlate",
    "convolve",
    "conv_output_size",
    "conv1d",
    "conv1d_backward",
    "conv2d",
    "conv2d_backward",
    "maxpool2d",
    "maxpool2d_backward",
]


# ------------------------------------------------------------------ input checks


def _pair(value, name: str, minimum: int) -> Pair:
    """An int or a pair of ints, each >= minimum, as a pair."""
    items = value if isinstance(value, tuple | list) else (value, value)
    if len(items) != 2 or any(
        isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < minimum
        for v in items
    ):
        raise ValueError(
            f"{name} must be a whole number >= {minimum} or a pair of them "
            f"(rows, columns); got {value!r}"
        )
    return int(items[0]), int(items[1])


def _array(x, name: str, ndim: int, layout: str) -> np.ndarray:
    arr = check.finite_array(x, name)
    if arr.ndim != ndim:
        raise ValueError(
            f"{name} must have {ndim} axes {layout}; got shape {arr.shape}"
        )
    return arr


def conv_output_size(size: int, kernel: int, stride: int = 1, padding: int = 0) -> int:
    """How many positions a kernel of width ``kernel`` takes along an axis of ``size``.

    ``(size + 2 padding - kernel) // stride + 1``; a ValueError if the kernel does not fit.
    """
    span = size + 2 * padding - kernel
    if span < 0:
        raise ValueError(
            f"a kernel of width {kernel} does not fit an axis of {size} with padding "
            f"{padding} (it needs size + 2 padding >= kernel)"
        )
    return span // stride + 1


def _conv_args(x, k, b, stride, padding):
    x = _array(x, "x", 4, "(N, C_in, H, W)")
    k = _array(k, "k", 4, "(C_out, C_in, kh, kw)")
    if k.shape[1] != x.shape[1]:
        raise ValueError(
            f"k has {k.shape[1]} input channels (k.shape[1]) but x has {x.shape[1]} "
            f"(x.shape[1]); they must match"
        )
    s, p = _pair(stride, "stride", 1), _pair(padding, "padding", 0)
    for axis, name in ((0, "rows"), (1, "columns")):
        try:
            conv_output_size(x.shape[2 + axis], k.shape[2 + axis], s[axis], p[axis])
        except ValueError as err:
            raise ValueError(f"along the {name}: {err}") from None
    if b is not None:
        b = _array(b, "b", 1, "(C_out,)")
        if b.shape[0] != k.shape[0]:
            raise ValueError(
                f"b must have one entry per output channel ({k.shape[0]}); got {b.shape}"
            )
    return x, k, b, s, p


def _output_grad(dy, shape: tuple[int, ...]) -> np.ndarray:
    dy = check.finite_array(dy, "dy")
    if dy.shape != shape:
        raise ValueError(
            f"dy must have the shape of the forward output, {shape}; got {dy.shape}"
        )
    return dy


# ------------------------------------------------------------------ 2-D, one channel


def correlate(x, k, mode: str = "valid") -> np.ndarray:
    """The 2-D cross-correlation of one image ``x`` with one kernel ``k``.

    ``valid``: out[i, j] = sum_{p, q} k[p, q] x[i + p, j + q], shape (H - kh + 1, W - kw + 1).
    ``full``: the same on ``x`` padded by kh - 1 and kw - 1 zeros, every overlap counted,
    shape (H + kh - 1, W + kw - 1).
    """
    x = _array(x, "x", 2, "(H, W)")
    k = _array(k, "k", 2, "(kh, kw)")
    if mode not in ("valid", "full"):
        raise ValueError(f"mode must be 'valid' or 'full'; got {mode!r}")
    kh, kw = k.shape
    if mode == "full":
        x = np.pad(x, ((kh - 1, kh - 1), (kw - 1, kw - 1)))
    elif x.shape[0] < kh or x.shape[1] < kw:
        raise ValueError(f"a valid correlation needs x at least as large as k; got x "
                         f"{x.shape}, k {k.shape}")
    return np.einsum("ijpq,pq->ij", sliding_window_view(x, (kh, kw)), k)


def convolve(x, k, mode: str = "valid") -> np.ndarray:
    """The 2-D convolution of the mathematicians: a correlation with ``k`` turned 180 degrees.

    out[i, j] = sum_{p, q} k[p, q] x[i - p, j - q] (``full``: every overlap).
    """
    k = _array(k, "k", 2, "(kh, kw)")
    return correlate(x, k[::-1, ::-1], mode)


# ------------------------------------------------------------------ private kernels


def _pad(x: np.ndarray, p: Pair) -> np.ndarray:
    """x with p[0] rows and p[1] columns of zeros on each side (np.pad, but faster here)."""
    if p == (0, 0):
        return x
    out = np.zeros(x.shape[:2] + (x.shape[2] + 2 * p[0], x.shape[3] + 2 * p[1]), x.dtype)
    out[:, :, p[0] : p[0] + x.shape[2], p[1] : p[1] + x.shape[3]] = x
    return out


def _windows(x: np.ndarray, kh: int, kw: int, s: Pair) -> np.ndarray:
    """(N, C, H', W', kh, kw): every window the kernel sees, a view (no copy)."""
    return sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, :: s[0], :: s[1]]


def _conv2d(x, k, b, s: Pair, p: Pair) -> np.ndarray:
    win = _windows(_pad(x, p), k.shape[2], k.shape[3], s)
    y = np.tensordot(win, k, axes=([1, 4, 5], [1, 2, 3]))  # (N, H', W', C_out)
    y = y.transpose(0, 3, 1, 2)
    return y if b is None else y + b[:, None, None]


def _spread(dy: np.ndarray, s: Pair, rows: int, cols: int) -> np.ndarray:
    """dy placed at every s-th position of a zero grid of rows x cols (stride undone)."""
    g = np.zeros(dy.shape[:2] + (rows, cols), dtype=dy.dtype)
    g[:, :, :: s[0], :: s[1]][:, :, : dy.shape[2], : dy.shape[3]] = dy
    return g


def _conv2d_input_grad(dy, k, x_shape, s: Pair, p: Pair) -> np.ndarray:
    """dC/dx: the full convolution of the spread-out dy with k, the padding cut off."""
    _, _, H, W = x_shape
    kh, kw = k.shape[2:]
    g = _spread(dy, s, H + 2 * p[0] - kh + 1, W + 2 * p[1] - kw + 1)
    g = _pad(g, (kh - 1, kw - 1))  # "full": every overlap of kernel and grid
    flipped = k[:, :, ::-1, ::-1]  # turned 180 degrees
    win = _windows(g, kh, kw, (1, 1))  # (N, C_out, Hp, Wp, kh, kw)
    dxp = np.tensordot(win, flipped, axes=([1, 4, 5], [0, 2, 3]))  # (N, Hp, Wp, C_in)
    dxp = dxp.transpose(0, 3, 1, 2)
    return dxp[:, :, p[0] : p[0] + H, p[1] : p[1] + W]


def _conv2d_kernel_grad(dy, x, kh, kw, s: Pair, p: Pair) -> np.ndarray:
    """dC/dk: the correlation of the padded input with dy, summed over the batch."""
    win = _windows(_pad(x, p), kh, kw, s)  # (N, C_in, H', W', kh, kw)
    return np.tensordot(dy, win, axes=([0, 2, 3], [0, 2, 3]))  # (C_out, C_in, kh, kw)


def _maxpool_windows(x, size: Pair, s: Pair) -> tuple[np.ndarray, np.ndarray]:
    """The windows flattened row by row, and each window's first argmax."""
    win = _windows(x, size[0], size[1], s)
    flat = win.reshape(win.shape[:4] + (-1,))
    return flat, flat.argmax(axis=-1)  # argmax: the first largest entry


def _maxpool2d(x, size: Pair, s: Pair) -> np.ndarray:
    flat, idx = _maxpool_windows(x, size, s)
    return np.take_along_axis(flat, idx[..., None], axis=-1)[..., 0]


def _maxpool2d_backward(dy, x, size: Pair, s: Pair) -> np.ndarray:
    _, idx = _maxpool_windows(x, size, s)
    n, c, i, j = np.indices(idx.shape)
    rows = i * s[0] + idx // size[1]
    cols = j * s[1] + idx % size[1]
    flat = np.ravel_multi_index((n, c, rows, cols), x.shape)
    # overlapping windows add up: bincount sums every dy sent to one entry
    dx = np.bincount(flat.ravel(), weights=dy.ravel(), minlength=x.size)
    return dx.reshape(x.shape).astype(x.dtype, copy=False)


# ------------------------------------------------------------------ public functions


def conv2d(x, k, b=None, stride=1, padding=0) -> np.ndarray:
    """The convolutional layer's forward pass (a cross-correlation; see the module's text).

    Args:
        x: (N, C_in, H, W). k: (C_out, C_in, kh, kw). b: (C_out,) or None.
        stride, padding: an int, or a pair (rows, columns).

    Returns:
        y: (N, C_out, H', W'), H' = (H + 2 padding - kh) // stride + 1.
    """
    x, k, b, s, p = _conv_args(x, k, b, stride, padding)
    return _conv2d(x, k, b, s, p)


def conv2d_backward(dy, x, k, stride=1, padding=0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """dC/dx, dC/dk and dC/db of a convolutional layer, given dy = dC/dy.

    dx (N, C_in, H, W): the full convolution of dy (spread out by the stride) with k;
    dk (C_out, C_in, kh, kw): the correlation of the padded x with dy, summed over the batch;
    db (C_out,): dy summed over the batch and every position.
    """
    x, k, _, s, p = _conv_args(x, k, None, stride, padding)
    out = tuple(conv_output_size(x.shape[2 + a], k.shape[2 + a], s[a], p[a]) for a in (0, 1))
    dy = _output_grad(dy, (x.shape[0], k.shape[0]) + out)
    dx = _conv2d_input_grad(dy, k, x.shape, s, p)
    dk = _conv2d_kernel_grad(dy, x, k.shape[2], k.shape[3], s, p)
    return dx, dk, dy.sum(axis=(0, 2, 3))


def _as_2d(x, k, stride, padding):
    x = _array(x, "x", 3, "(N, C_in, L)")
    k = _array(k, "k", 3, "(C_out, C_in, kl)")
    if isinstance(stride, tuple | list) or isinstance(padding, tuple | list):
        raise ValueError("a 1-D convolution takes one stride and one padding (whole numbers)")
    _pair(stride, "stride", 1), _pair(padding, "padding", 0)
    return x[:, :, None, :], k[:, :, None, :], (1, stride), (0, padding)


def conv1d(x, k, b=None, stride: int = 1, padding: int = 0) -> np.ndarray:
    """A 1-D convolutional layer: x (N, C_in, L), k (C_out, C_in, kl) -> (N, C_out, L').

    y[n, o, i] = b[o] + sum_{c, p} k[o, c, p] xpad[n, c, s i + p]; the 2-D layer with one row.
    """
    x2, k2, s, p = _as_2d(x, k, stride, padding)
    return conv2d(x2, k2, b, s, p)[:, :, 0, :]


def conv1d_backward(dy, x, k, stride: int = 1, padding: int = 0):
    """dC/dx (N, C_in, L), dC/dk (C_out, C_in, kl), dC/db (C_out,) of :func:`conv1d`."""
    x2, k2, s, p = _as_2d(x, k, stride, padding)
    dy = check.finite_array(dy, "dy")
    if dy.ndim != 3:
        raise ValueError(f"dy must have 3 axes (N, C_out, L'); got shape {dy.shape}")
    dx, dk, db = conv2d_backward(dy[:, :, None, :], x2, k2, s, p)
    return dx[:, :, 0, :], dk[:, :, 0, :], db


def _pool_args(x, size, stride):
    x = _array(x, "x", 4, "(N, C, H, W)")
    size = _pair(size, "size", 1)
    s = size if stride is None else _pair(stride, "stride", 1)
    for axis, name in ((0, "rows"), (1, "columns")):
        if x.shape[2 + axis] < size[axis]:
            raise ValueError(
                f"along the {name}: a pooling window of {size[axis]} does not fit an "
                f"axis of {x.shape[2 + axis]}"
            )
    return x, size, s


def maxpool2d(x, size=2, stride=None) -> np.ndarray:
    """Max-pooling: the largest entry of each size x size window, windows ``stride`` apart.

    x (N, C, H, W) -> (N, C, H', W'), H' = (H - size) // stride + 1; stride defaults to size.
    """
    x, size, s = _pool_args(x, size, stride)
    return _maxpool2d(x, size, s)


def maxpool2d_backward(dy, x, size=2, stride=None) -> np.ndarray:
    """dC/dx of max-pooling: each window's dy goes to its first largest entry (row-major).

    Every other entry of the window gets 0 from it; where windows overlap (stride < size),
    the contributions to one entry add up. Shape of x.
    """
    x, size, s = _pool_args(x, size, stride)
    out = tuple(conv_output_size(x.shape[2 + a], size[a], s[a]) for a in (0, 1))
    dy = _output_grad(dy, x.shape[:2] + out)
    return _maxpool2d_backward(dy, x, size, s)
