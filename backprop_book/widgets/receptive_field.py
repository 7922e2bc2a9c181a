"""ReceptiveField: nudge one input pixel or one kernel weight of a convolution, see what moves.

The widget of the convolution chapter. One image ``x`` (H x W), one kernel ``k``
(kh x kw, no padding) and a fixed output gradient ``g`` (the shape of the stride-1 output,
(H - kh + 1) x (W - kw + 1)); at stride 2 the layer keeps every other output, and the
output gradient is ``g[::2, ::2]``, the same numbers at the positions kept. The cost is
C = sum(G * y). The reader selects a cell of ``x`` (mode ``"input"``) or of ``k`` (mode
``"kernel"``) and a nudge epsilon; the front end (``receptive_field.js``) computes, with no
kernel, the outputs before and after the nudge, which outputs the cell reaches, the change
of C, and the gradient entry dC/dx[r, c] (a full convolution) or dC/dk[p, q] (a
correlation). :attr:`ReceptiveField.readout` computes the same with :mod:`backprop_book.conv`.
"""

from __future__ import annotations

import math

import anywidget
import numpy as np
import traitlets

from .. import conv
from ._assets import script, stylesheet

MODES = ("input", "kernel")
STRIDES = (1, 2)


def _grid(value: object, name: str) -> list[list[float]]:
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise traitlets.TraitError(f"{name} must be a 2-D grid of numbers; got {value!r:.60}") from None
    if arr.ndim != 2 or 0 in arr.shape:
        raise traitlets.TraitError(f"{name} must be a 2-D grid of numbers (rows of equal length); got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise traitlets.TraitError(f"{name} must hold finite numbers; it has NaN or inf")
    if arr.shape[0] > 12 or arr.shape[1] > 12:
        raise traitlets.TraitError(f"{name} is {arr.shape}; the widget draws grids of at most 12 x 12")
    return arr.tolist()


class ReceptiveField(anywidget.AnyWidget):
    """Select a pixel of x or a weight of k and a nudge; see the outputs it moves and dC.

    Args:
        x: the image, H x W (at most 12 x 12). k: the kernel, smaller than x.
        g: dC/dy of the stride-1 output, (H - kh + 1) x (W - kw + 1).
        stride: 1 or 2. mode: "input" (nudge x[row, col]) or "kernel" (nudge k[row, col]).
        row, col: the selected cell. nudge: epsilon, in [-1, 1].
    """

    _esm = script("receptive_field")
    _css = stylesheet("card.css", "receptive_field.css")

    x = traitlets.List().tag(sync=True)
    k = traitlets.List().tag(sync=True)
    g = traitlets.List().tag(sync=True)
    stride = traitlets.Int(1).tag(sync=True)
    mode = traitlets.Unicode("input").tag(sync=True)
    row = traitlets.Int(0).tag(sync=True)
    col = traitlets.Int(0).tag(sync=True)
    nudge = traitlets.Float(0.5).tag(sync=True)

    def __init__(self, x, k, g, *, stride: int = 1, mode: str = "input", row: int = 0,
                 col: int = 0, nudge: float = 0.5) -> None:
        x, k, g = _grid(x, "x"), _grid(k, "k"), _grid(g, "g")
        H, W, kh, kw = len(x), len(x[0]), len(k), len(k[0])
        if kh > H or kw > W:
            raise ValueError(f"k ({kh} x {kw}) must fit inside x ({H} x {W})")
        want = (H - kh + 1, W - kw + 1)
        if (len(g), len(g[0])) != want:
            raise ValueError(f"g must have the shape of the stride-1 output, {want}; got {(len(g), len(g[0]))}")
        super().__init__(x=x, k=k, g=g, stride=stride, mode=mode, nudge=nudge)
        self.row, self.col = row, col

    @traitlets.validate("stride")
    def _valid_stride(self, proposal: dict) -> int:
        if proposal["value"] not in STRIDES:
            raise traitlets.TraitError(f"stride must be 1 or 2; got {proposal['value']}")
        return proposal["value"]

    @traitlets.validate("mode")
    def _valid_mode(self, proposal: dict) -> str:
        if proposal["value"] not in MODES:
            raise traitlets.TraitError(f"mode must be 'input' or 'kernel'; got {proposal['value']!r}")
        return proposal["value"]

    @traitlets.validate("nudge")
    def _valid_nudge(self, proposal: dict) -> float:
        value = proposal["value"]
        if not math.isfinite(value) or abs(value) > 1:
            raise traitlets.TraitError(f"nudge must be a number in [-1, 1]; got {value}")
        return value

    @traitlets.validate("row", "col")
    def _valid_cell(self, proposal: dict) -> int:
        if proposal["value"] < 0:
            raise traitlets.TraitError(f"{proposal['trait'].name} must be >= 0; got {proposal['value']}")
        return proposal["value"]

    def _cell(self) -> tuple[int, int]:
        """The selected cell, clamped into the grid of the mode (as the front end does)."""
        grid = self.x if self.mode == "input" else self.k
        return min(self.row, len(grid) - 1), min(self.col, len(grid[0]) - 1)

    @property
    def readout(self) -> dict:
        """What the widget shows, computed with the package: y before and after, the outputs
        the cell reaches, the change of each, dC, and the gradient entry of the cell."""
        x, k = np.array(self.x)[None, None], np.array(self.k)[None, None]
        s = self.stride
        G = np.array(self.g)[::s, ::s]
        r, c = self._cell()
        y = conv.conv2d(x, k, stride=s)[0, 0]
        x2, k2 = x.copy(), k.copy()
        (x2 if self.mode == "input" else k2)[0, 0, r, c] += self.nudge
        change = conv.conv2d(x2, k2, stride=s)[0, 0] - y
        dx, dk, _ = conv.conv2d_backward(G[None, None], x, k, stride=s)
        gradient = float((dx if self.mode == "input" else dk)[0, 0, r, c])
        kh, kw = k.shape[2:]
        if self.mode == "input":  # the outputs whose window holds pixel (r, c)
            moved = [(i, j) for i, j in np.ndindex(y.shape)
                     if s * i <= r < s * i + kh and s * j <= c < s * j + kw]
        else:  # every output uses every weight
            moved = list(np.ndindex(y.shape))
        return {"y": y, "change": change, "moved": moved, "cell": (r, c),
                "dC": float(np.sum(G * change)), "gradient": gradient}
