"""DepthSpread: the per-layer spread of activations and deltas as the initial scale moves.

The second widget of the chapter on making deep networks train. Python is the source of
truth: :func:`spread_grid` calls the chapter's ``spreads(activation, c)`` for every
activation and every scale factor c of a grid; each call returns, for layers l = 1..L,

    z[l - 1]     = sd of z^(l) over the layer's neurons and the batch   (> 0)
    delta[l - 1] = sd of delta^(l) = dC/dz^(l), likewise                  (> 0)

for weights drawn with standard deviation c times the activation's right scale. The grid
``{"scales", "activations", "depth", "spreads": {activation: {"z": [[...] per scale],
"delta": [...]}}}`` travels to the front end (``depth_spread.js``), which draws the
selected curves with no kernel, so the widget stays live in the static book.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import anywidget
import numpy as np
import traitlets

from ._assets import script, stylesheet

#: What ``spreads`` returns, one value per layer.
SERIES = ("z", "delta")

Spreads = Callable[[str, float], Mapping[str, Sequence[float]]]


def checked_spreads(result: object, depth: int | None, where: str) -> dict[str, list[float]]:
    """One call's spreads as lists of positive finite floats, one per layer, or a clear error.

    ``depth`` None: any common length >= 1 (it is then fixed by the first call).
    """
    expected = "a dict with the keys z and delta, each one positive number per layer"
    if not isinstance(result, Mapping):
        raise TypeError(f"{where} must give {expected}; got {type(result).__name__}")
    missing = [key for key in SERIES if key not in result]
    if missing:
        raise ValueError(f"{where} must give {expected}; missing: {', '.join(missing)}")
    out = {}
    for key in SERIES:
        try:
            values = np.asarray(result[key], dtype=float)
        except (TypeError, ValueError):
            raise TypeError(f"{where}: {key} must be numbers; got {result[key]!r:.80}") from None
        want = depth if depth is not None else (values.shape[0] if values.ndim == 1 else -1)
        if values.ndim != 1 or values.shape[0] != want or want < 1:
            raise ValueError(f"{where}: {key} has shape {values.shape}; expected ({depth or 'L'},), one per layer")
        bad = np.flatnonzero(~np.isfinite(values) | (values <= 0))
        if bad.size:
            raise ValueError(
                f"{where}: {key} is {values[bad[0]]} at layer {bad[0] + 1}; a spread must be a "
                "positive finite number (0 or inf: the signal vanished or overflowed)"
            )
        out[key] = [float(v) for v in values]
    if depth is None and len(out["z"]) != len(out["delta"]):
        raise ValueError(f"{where}: z has {len(out['z'])} layers but delta {len(out['delta'])}")
    return out


def _scales(values: object) -> list[float]:
    if isinstance(values, str | bytes) or not isinstance(values, Sequence | np.ndarray):
        raise TypeError(f"scales must be a list of numbers; got {type(values).__name__}")
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v) or v <= 0:
            raise ValueError(f"scales must hold positive finite numbers; got {v!r}")
        out.append(float(v))
    if len(out) < 2 or any(b <= a for a, b in zip(out[:-1], out[1:], strict=True)):
        raise ValueError(f"scales must be at least two strictly increasing numbers; got {out}")
    return out


def _activations(values: object) -> list[str]:
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise TypeError(f"activations must be a list of names; got {values!r}")
    out = list(values)
    if not out or not all(isinstance(a, str) and a for a in out) or len(set(out)) != len(out):
        raise ValueError(f"activations must be distinct non-empty names; got {out}")
    return out


def checked_grid(grid: object) -> dict[str, Any]:
    """A grid as :func:`spread_grid` returns it, validated; plain lists, ready to sync."""
    if not isinstance(grid, Mapping):
        raise TypeError(f"grid must be a dict as spread_grid returns it; got {type(grid).__name__}")
    missing = [k for k in ("scales", "activations", "depth", "spreads") if k not in grid]
    if missing:
        raise ValueError(f"grid is missing: {', '.join(missing)}")
    scales, acts, depth = _scales(grid["scales"]), _activations(grid["activations"]), grid["depth"]
    if isinstance(depth, bool) or not isinstance(depth, numbers.Integral) or depth < 1:
        raise ValueError(f"depth must be a whole number >= 1; got {depth!r}")
    spreads = grid["spreads"]
    if not isinstance(spreads, Mapping) or set(spreads) != set(acts):
        got = sorted(spreads) if isinstance(spreads, Mapping) else type(spreads).__name__
        raise ValueError(f"grid['spreads'] must have one entry per activation {acts}; got {got}")
    out_spreads: dict[str, dict[str, list]] = {}
    for act in acts:
        entry = spreads[act]
        if not isinstance(entry, Mapping) or any(len(entry.get(k, ())) != len(scales) for k in SERIES):
            raise ValueError(f"grid['spreads'][{act!r}] must hold z and delta, one row per scale ({len(scales)})")
        rows = [checked_spreads({k: entry[k][i] for k in SERIES}, int(depth), f"{act}, c={c:g}")
                for i, c in enumerate(scales)]  # fmt: skip
        out_spreads[act] = {k: [row[k] for row in rows] for k in SERIES}
    return {"scales": scales, "activations": acts, "depth": int(depth), "spreads": out_spreads}


def spread_grid(spreads: Spreads, scales: Sequence[float], activations: Sequence[str]) -> dict[str, Any]:
    """Call ``spreads(activation, c)`` for every activation and scale; a validated grid."""
    scales, acts = _scales(scales), _activations(activations)
    depth: int | None = None
    table: dict[str, dict[str, list]] = {}
    for act in acts:
        table[act] = {k: [] for k in SERIES}
        for c in scales:
            row = checked_spreads(spreads(act, c), depth, f"spreads({act!r}, {c:g})")
            depth = len(row["z"])
            for k in SERIES:
                table[act][k].append(row[k])
    return checked_grid({"scales": scales, "activations": acts, "depth": depth, "spreads": table})


class DepthSpread(anywidget.AnyWidget):
    """Pick an activation and a scale factor c; see the spread of z and delta per layer.

    Args:
        grid: what :func:`spread_grid` returns (validated again here).
        activation: the activation shown first (one of the grid's).
        scale_index: the scale shown first, an index into ``grid["scales"]``.
    """

    _esm = script("depth_spread")
    _css = stylesheet("card.css", "chart.css", "depth_spread.css")

    grid = traitlets.Dict().tag(sync=True)
    activation = traitlets.Unicode().tag(sync=True)
    scale_index = traitlets.Int(0).tag(sync=True)

    def __init__(self, grid: Mapping[str, Any], *, activation: str | None = None, scale_index: int = 0) -> None:
        checked = checked_grid(grid)
        super().__init__(grid=checked, activation=activation or checked["activations"][0])
        self.scale_index = scale_index

    @traitlets.validate("grid")
    def _valid_grid(self, proposal: dict) -> dict:
        return checked_grid(proposal["value"])

    @traitlets.validate("activation")
    def _valid_activation(self, proposal: dict) -> str:
        value, acts = proposal["value"], self.grid["activations"]
        if value not in acts:
            raise traitlets.TraitError(f"activation must be one of {acts}; got {value!r}")
        return value

    @traitlets.validate("scale_index")
    def _valid_index(self, proposal: dict) -> int:
        value, scales = proposal["value"], self.grid["scales"]
        if not 0 <= value < len(scales):
            raise traitlets.TraitError(f"scale_index must be in 0..{len(scales) - 1} (scales {scales[0]}..{scales[-1]}); got {value}")
        return value

    @property
    def selected(self) -> dict[str, Any]:
        """The selected activation, scale c, and its two lists of spreads (layers 1..L)."""
        i, act = self.scale_index, self.activation
        spreads = self.grid["spreads"][act]
        return {"activation": act, "scale": self.grid["scales"][i], "z": spreads["z"][i], "delta": spreads["delta"][i]}
