"""The book's widgets, each one a Python module beside its JavaScript and CSS.

Every widget is an anywidget: its front end (``<name>.js``) computes in the browser, so it
stays live in the static HTML book, and in a running kernel the Python class can hand the
numbers to the chapter's own NumPy instead. One source for both paths.

- :class:`ChainNudge` (``chain_nudge.py``, ``chain_nudge.js``, ``nudge.css``): nudge one
  parameter of the 1-1-1 chain and watch the cost and the four gradients.
- :class:`NetworkNudge` (``network_nudge.py``, ``network_nudge.js``, ``network_nudge.css``):
  the same for any small fully connected network, every weight and bias.
- :class:`TrainingCurves` and :func:`curve_grid` (``training_curves.py``,
  ``training_curves.js``, ``training_curves.css``): loss and accuracy curves over a grid of
  training settings.
"""

from .chain_nudge import ChainNudge, FiniteFloat
from .network_nudge import NetworkNudge
from .training_curves import TrainingCurves, curve_grid

__all__ = ["ChainNudge", "FiniteFloat", "NetworkNudge", "TrainingCurves", "curve_grid"]
