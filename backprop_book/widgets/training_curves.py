"""The "training curves" widget of the batch chapter: pick a learning rate and a batch size.

Python is the source of truth. :func:`curve_grid` trains once for every pair (eta, m) of a
small grid and records, after each epoch e = 0..E (e = 0: before any step),

    train_loss[i][j][e], test_loss[i][j][e]   (the mean cross-entropy, >= 0)
    test_acc[i][j][e]                         (the fraction of test samples right, in [0, 1])

for learning rate ``learning_rates[i]`` and batch size ``batch_sizes[j]``: three arrays of shape
(n_eta, n_m, E + 1). :class:`TrainingCurves` carries that grid to its front end
(``training_curves.js``), which draws the curves of the selected pair with no kernel,
so the widget stays live in the static HTML book. In a live kernel the widget can also
rerun the selected pair with a new shuffling seed, by calling the chapter's ``train``.
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

#: The three curves ``train`` returns and the grid holds, one value per epoch 0..E.
CURVES = ("train_loss", "test_loss", "test_acc")

#: ``train(eta, batch_size, epochs, seed) -> {"train_loss": [...], "test_loss": [...], "test_acc": [...]}``
Train = Callable[[float, int, int, int], Mapping[str, Sequence[float]]]


def checked_curves(result: object, epochs: int, where: str = "train") -> dict[str, list[float]]:
    """One training run's curves as lists of E + 1 finite floats, or an error saying what is wrong.

    Losses must be >= 0 and accuracies in [0, 1]; NaN or infinity (a diverged run) is refused
    with the epoch where it appeared.
    """
    expected = f"a dict with the keys {', '.join(CURVES)}, each {epochs + 1} numbers (epochs 0..{epochs})"
    if not isinstance(result, Mapping):
        raise TypeError(f"{where} must give {expected}; got {type(result).__name__}")
    missing = [key for key in CURVES if key not in result]
    if missing:
        raise ValueError(f"{where} must give {expected}; missing: {', '.join(missing)}")
    out = {}
    for key in CURVES:
        try:
            values = np.asarray(result[key], dtype=float)
        except (TypeError, ValueError):
            raise TypeError(f"{where}: {key} must be numbers; got {result[key]!r:.80}") from None
        if values.shape != (epochs + 1,):
            raise ValueError(f"{where}: {key} has shape {values.shape}; expected ({epochs + 1},)")
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            raise ValueError(
                f"{where}: {key} is {values[bad[0]]} at epoch {bad[0]}; every value must be "
                "finite (a NaN or inf usually means the run diverged: lower the learning rate)"
            )
        low, high = (0.0, 1.0) if key == "test_acc" else (0.0, math.inf)
        if np.any(values < low) or np.any(values > high):
            raise ValueError(f"{where}: {key} must lie in [{low}, {high}]; got {values.min()}..{values.max()}")
        out[key] = [float(v) for v in values]
    return out


def _axis(values: object, name: str, kind: type) -> list:
    """A strictly increasing, non-empty list of positive numbers (floats, or ints for sizes)."""
    if isinstance(values, str | bytes) or not isinstance(values, Sequence | np.ndarray):
        raise TypeError(f"{name} must be a list of numbers; got {type(values).__name__}")
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v) or v <= 0:
            raise ValueError(f"{name} must hold positive finite numbers; got {v!r}")
        if kind is int and v != int(v):
            raise ValueError(f"{name} must hold whole numbers; got {v!r}")
        out.append(kind(v))
    if not out or any(b <= a for a, b in zip(out[:-1], out[1:], strict=True)):
        raise ValueError(f"{name} must be non-empty and strictly increasing; got {out}")
    return out


def checked_grid(grid: object) -> dict[str, Any]:
    """A grid as :func:`curve_grid` returns it, validated; plain lists, ready to sync as JSON."""
    if not isinstance(grid, Mapping):
        raise TypeError(f"grid must be a dict as curve_grid returns it; got {type(grid).__name__}")
    missing = [k for k in ("learning_rates", "batch_sizes", "epochs", *CURVES) if k not in grid]
    if missing:
        raise ValueError(f"grid is missing: {', '.join(missing)}")
    etas = _axis(grid["learning_rates"], "learning_rates", float)
    sizes = _axis(grid["batch_sizes"], "batch_sizes", int)
    epochs = grid["epochs"]
    if isinstance(epochs, bool) or not isinstance(epochs, numbers.Integral) or epochs < 1:
        raise ValueError(f"epochs must be a whole number >= 1; got {epochs!r}")
    out: dict[str, Any] = {"learning_rates": etas, "batch_sizes": sizes, "epochs": int(epochs)}
    n_train = grid.get("n_train")
    if n_train is not None:
        if isinstance(n_train, bool) or not isinstance(n_train, numbers.Integral) or n_train < 1:
            raise ValueError(f"n_train must be a whole number >= 1 (or absent); got {n_train!r}")
        out["n_train"] = int(n_train)
    want = (len(etas), len(sizes), int(epochs) + 1)
    for key in CURVES:
        shape = np.shape(grid[key])
        if shape != want:
            raise ValueError(
                f"grid[{key!r}] has shape {shape}; expected (learning rates, batch sizes, "
                f"epochs + 1) = {want}"
            )
    for i, eta in enumerate(etas):
        for j, m in enumerate(sizes):
            run = {key: grid[key][i][j] for key in CURVES}
            curves = checked_curves(run, int(epochs), where=f"the run eta={eta:g}, m={m}")
            for key in CURVES:
                out.setdefault(key, [[None] * len(sizes) for _ in etas])[i][j] = curves[key]
    return out


def curve_grid(
    train: Train, learning_rates: Sequence[float], batch_sizes: Sequence[int], epochs: int,
    seed: int = 0, n_train: int | None = None,
) -> dict[str, Any]:
    """Call ``train(eta, m, epochs, seed)`` for every pair and collect a validated grid.

    ``n_train``, the size of the training set, is optional: with it the widget also shows
    the number of gradient steps per epoch, ceil(n_train / m).

    Returns ``{"learning_rates", "batch_sizes", "epochs", "train_loss", "test_loss",
    "test_acc"}``, each curve array of shape (len(learning_rates), len(batch_sizes), epochs + 1).
    """
    etas = _axis(learning_rates, "learning_rates", float)
    sizes = _axis(batch_sizes, "batch_sizes", int)
    grid: dict[str, Any] = {"learning_rates": etas, "batch_sizes": sizes, "epochs": epochs}
    if n_train is not None:
        grid["n_train"] = n_train
    for key in CURVES:
        grid[key] = [[None] * len(sizes) for _ in etas]
    for i, eta in enumerate(etas):
        for j, m in enumerate(sizes):
            curves = checked_curves(train(eta, m, epochs, seed), epochs, f"train({eta:g}, {m}, ...)")
            for key in CURVES:
                grid[key][i][j] = curves[key]
    return checked_grid(grid)


class TrainingCurves(anywidget.AnyWidget):
    """Choose a learning rate and a batch size; see that run's loss and accuracy per epoch.

    Args:
        grid: what :func:`curve_grid` returns (validated again here).
        train: the chapter's ``train(eta, batch_size, epochs, seed) -> dict``, or ``None``. With
            it, :meth:`rerun` (and the widget's button, in a live kernel) trains the selected
            pair again with a new shuffling seed and publishes the curves in ``kernel``.
        lr_index, bs_index: the pair shown first, as indices into the grid's two axes.
    """

    _esm = script("training_curves")
    _css = stylesheet("card.css", "training_curves.css")

    grid = traitlets.Dict().tag(sync=True)
    lr_index = traitlets.Int(0).tag(sync=True)
    bs_index = traitlets.Int(0).tag(sync=True)
    kernel = traitlets.Dict(read_only=True).tag(sync=True)

    def __init__(
        self, grid: Mapping[str, Any], train: Train | None = None, *, lr_index: int = 0,
        bs_index: int = 0,
    ) -> None:
        if train is not None and not callable(train):
            raise TypeError(
                "train must be a function train(eta, batch_size, epochs, seed) -> dict, or "
                f"None; got {type(train).__name__}"
            )
        self._train = train
        self._seed = 0
        super().__init__(grid=checked_grid(grid))
        self.lr_index, self.bs_index = lr_index, bs_index
        self.on_msg(self._answer)

    @traitlets.validate("grid")
    def _valid_grid(self, proposal: dict) -> dict:
        return checked_grid(proposal["value"])

    @traitlets.validate("lr_index", "bs_index")
    def _valid_index(self, proposal: dict) -> int:
        name = proposal["trait"].name
        axis = self.grid["learning_rates" if name == "lr_index" else "batch_sizes"]
        value = proposal["value"]
        if not 0 <= value < len(axis):
            raise ValueError(f"{name} must be in 0..{len(axis) - 1} (the grid has {axis}); got {value}")
        return value

    @property
    def selected(self) -> dict[str, Any]:
        """The selected pair and its curves: eta, batch_size and the three lists."""
        i, j = self.lr_index, self.bs_index
        return {
            "eta": self.grid["learning_rates"][i],
            "batch_size": self.grid["batch_sizes"][j],
            **{key: self.grid[key][i][j] for key in CURVES},
        }

    def rerun(self) -> dict[str, Any]:
        """Train the selected pair again with the next shuffling seed; publish it in ``kernel``."""
        if self._train is None:
            raise RuntimeError("this widget was made without a train function; nothing to rerun")
        self._seed += 1
        eta, m, epochs = self.selected["eta"], self.selected["batch_size"], self.grid["epochs"]
        curves = checked_curves(self._train(eta, m, epochs, self._seed), epochs, "train")
        result = {"lr_index": self.lr_index, "bs_index": self.bs_index, "seed": self._seed, **curves}
        self.set_trait("kernel", result)
        return result

    def _answer(self, _widget: Any, content: Any, _buffers: Any) -> None:
        """Messages from the front end: a ping (is a kernel here?) or a request to rerun."""
        if not isinstance(content, dict):
            return
        if content.get("type") == "ping":
            self.send({"type": "pong", "can_rerun": self._train is not None})
        elif content.get("type") == "rerun" and self._train is not None:
            try:
                self.rerun()
            except (TypeError, ValueError) as err:  # shown in the widget, not as a traceback
                self.send({"type": "error", "message": str(err)})
