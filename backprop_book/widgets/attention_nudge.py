"""The attention chapter's widget: nudge one query, watch the weights and the query's gradient.

One query q in the plane (d = 2) attends over a few fixed keys k_1 .. k_n (the rows of K,
shape (n, 2)); the cost is the cross-entropy of one target key c:

    s_j = q . k_j / sqrt(d),   p = softmax(s),   C = -log p_c,
    dC/ds = p - onehot(c)                       (eq-lm-ce-grad with N = 1),
    dC/dq = (p - onehot(c)) K / sqrt(d)          (eq-attention-qk-grads for one query row).

:func:`attention_numbers` computes them with the package's own functions
(:func:`backprop_book.attention.softmax_rows`, ``cross_entropy`` and
``cross_entropy_backward``). The front end (``attention_nudge.js``) computes the same numbers
in JavaScript, so the widget is live in the static book; in a kernel, :class:`AttentionNudge`
publishes the package's numbers in its ``kernel`` trait and the front end shows those.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import anywidget
import numpy as np
import traitlets

from .. import attention as ba
from ._assets import script, stylesheet
from .chain_nudge import FiniteFloat

#: The plane the query and the keys live in: each coordinate within +-LIMIT.
LIMIT = 3.0
#: How many keys the widget can show (bars and markers).
MAX_KEYS = 4
#: The keys of the chapter's example: rows of K, in the plane.
DEFAULT_KEYS = ((2.0, 0.5), (-1.0, 1.5), (0.5, -2.0))


def checked_keys(keys: object) -> list[list[float]]:
    """Keys as a list of 2..MAX_KEYS points [x, y] inside the plane, or a clear error."""
    try:
        K = np.asarray(keys, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"keys must be a list of points [x, y]; got {keys!r:.80}") from None
    if K.ndim != 2 or K.shape[1] != 2 or not 2 <= K.shape[0] <= MAX_KEYS:
        raise ValueError(
            f"keys must have shape (n, 2), one row [x, y] per key, with 2 <= n <= {MAX_KEYS}; "
            f"got shape {K.shape}"
        )
    if not np.all(np.isfinite(K)) or np.abs(K).max() > LIMIT:
        raise ValueError(f"every key coordinate must be a finite number in [-{LIMIT:g}, "
                         f"{LIMIT:g}] (the plane the widget draws); got {K.tolist()}")
    return K.tolist()


def checked_target(target: object, n_keys: int) -> int:
    """The target's index, a whole number in 0 .. n_keys - 1."""
    if isinstance(target, bool) or not isinstance(target, numbers.Integral):
        raise TypeError(f"target must be a key's index (a whole number); got {target!r}")
    if not 0 <= target < n_keys:
        raise ValueError(f"target must be in 0 .. {n_keys - 1} (there are {n_keys} keys); "
                         f"got {target}")
    return int(target)


def attention_numbers(q, keys, target: int) -> dict[str, Any]:
    """Scores, weights, cost and dC/dq for one query over ``keys``, by the package's code.

    Args:
        q: the query, two finite numbers.
        keys: the rows of K, shape (n, 2), 2 <= n <= MAX_KEYS.
        target: the index c of the key whose weight the cost rewards.

    Returns:
        ``{"s": [n], "p": [n], "C": float, "dC_ds": [n], "dC_dq": [2]}``, plain floats.
    """
    K = np.asarray(checked_keys(keys))
    qv = np.asarray(q, dtype=float) if not isinstance(q, str) else np.array([])
    if qv.shape != (2,) or not np.all(np.isfinite(qv)):
        raise ValueError(f"q must be two finite numbers [q1, q2]; got {q!r}")
    c = checked_target(target, K.shape[0])
    d = K.shape[1]
    S = (qv @ K.T / math.sqrt(d))[None, :]             # one row of scores, (1, n)
    P = ba.softmax_rows(S)
    dS = ba.cross_entropy_backward(S, [c])             # (p - onehot(c)) / N, N = 1
    dq = dS @ K / math.sqrt(d)                         # dQ = dS K / sqrt(d)
    return {"s": S[0].tolist(), "p": P[0].tolist(), "C": ba.cross_entropy(S, [c]),
            "dC_ds": dS[0].tolist(), "dC_dq": dq[0].tolist()}


class AttentionNudge(anywidget.AnyWidget):
    """Move a 2-D query with two sliders; see the attention weights and -dC/dq.

    Args:
        keys: the keys, shape (n, 2), coordinates in [-3, 3].
        q1, q2: the query's coordinates, in [-3, 3].
        target: the index of the key the cost C = -log p_target rewards.

    The keys are the trait ``key_points``. The ``kernel`` trait holds :func:`attention_numbers` for the current values, with
    ``inputs`` (the values they are for); the front end shows them when a kernel answers.
    """

    _esm = script("attention_nudge")
    _css = stylesheet("card.css", "attention_nudge.css")

    key_points = traitlets.List().tag(sync=True)  # (`keys` is taken by ipywidgets)
    q1 = FiniteFloat(0.0).tag(sync=True)
    q2 = FiniteFloat(0.0).tag(sync=True)
    target = traitlets.Int(0).tag(sync=True)
    kernel = traitlets.Dict(read_only=True).tag(sync=True)

    def __init__(self, keys=DEFAULT_KEYS, *, q1: float = -1.0, q2: float = -0.5,
                 target: int = 0) -> None:
        self._ready = False  # compute once, after every trait has its value
        super().__init__(key_points=checked_keys(keys), q1=q1, q2=q2, target=target)
        self._ready = True
        self._publish()
        self.on_msg(self._answer_ping)

    @traitlets.validate("key_points")
    def _valid_keys(self, proposal: dict) -> list:
        return checked_keys(proposal["value"])

    @traitlets.validate("q1", "q2")
    def _valid_query(self, proposal: dict) -> float:
        value, name = proposal["value"], proposal["trait"].name
        if abs(value) > LIMIT:
            raise traitlets.TraitError(f"{name} must be in [-{LIMIT:g}, {LIMIT:g}] (the "
                                       f"slider's range); got {value}")
        return value

    @traitlets.validate("target")
    def _valid_target(self, proposal: dict) -> int:
        try:
            return checked_target(proposal["value"], len(self.key_points))
        except (TypeError, ValueError) as err:
            raise traitlets.TraitError(str(err)) from None

    @traitlets.observe("key_points", "q1", "q2", "target")
    def _inputs_changed(self, change: dict) -> None:
        if self._ready:
            self._publish()

    def _publish(self) -> None:
        """The package's numbers for the values on screen, sent to the front end."""
        inputs = {"key_points": self.key_points, "q1": self.q1, "q2": self.q2, "target": self.target}
        numbers_now = attention_numbers([self.q1, self.q2], self.key_points, self.target)
        self.set_trait("kernel", {**numbers_now, "inputs": inputs})

    def _answer_ping(self, _widget: Any, content: Any, _buffers: Any) -> None:
        """The front end asks whether a kernel is listening; in the static book nobody answers."""
        if isinstance(content, dict) and content.get("type") == "ping":
            self.send({"type": "pong"})

    def readout(self) -> dict[str, Any]:
        """The numbers the widget shows in a live kernel (``kernel`` without ``inputs``)."""
        return {key: value for key, value in self.kernel.items() if key != "inputs"}
