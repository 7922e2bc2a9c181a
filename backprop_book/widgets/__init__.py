"""The book's widgets, each one a Python module beside its JavaScript and CSS.

Every widget is an anywidget: its front end (``<name>.js``) computes in the browser, so it
stays live in the static HTML book, and in a running kernel the Python class can hand the
numbers to the chapter's own NumPy instead. One source for both paths.

- :class:`ChainNudge` (``chain_nudge.py``, ``chain_nudge.js``, ``chain_nudge.css``): nudge one
  parameter of the 1-1-1 chain and watch the cost and the four gradients.
- :class:`NetworkNudge` (``network_nudge.py``, ``network_nudge.js``, ``network_nudge.css``):
  the same for any small fully connected network, every weight and bias.
- :class:`TrainingCurves` and :func:`curve_grid` (``training_curves.py``,
  ``training_curves.js``, ``training_curves.css``): loss and accuracy curves over a grid of
  training settings.
- :class:`OptimizerRace` (``optimizer_race.py``, ``.js``, ``.css``): gradient descent, momentum
  and Adam racing on a 2-D cost surface, with sliders for the learning rate and momentum.
- :class:`DepthSpread` (``depth_spread.py``, ``.js``, ``.css``): the spread of activations and
  gradients, layer by layer, as the initial scale moves.
- :class:`GradientFlow` (``gradient_flow.py``, ``.js``, ``.css``): each block's weight gradient
  as depth, residual connections and normalization change; the browser runs the network.

- :class:`AttentionNudge` (``attention_nudge.py``, ``.js``, ``.css``): move one 2-D query over
  a few keys and watch the attention weights and the gradient of -log p(target).

- :class:`ReceptiveField` (``receptive_field.py``, ``.js``, ``.css``): nudge one pixel or one
  kernel weight of a convolution and see which outputs move, and the gradient entry.

Every widget sits on the card of ``card.css``, and the two chart widgets, OptimizerRace and
DepthSpread, also share the rules in ``chart.css``: each one's stylesheet is those files
followed by its own. Every widget's script is ``_dom.js`` (the shared DOM and chart helpers)
followed by its own (``_assets.py``).
"""

from .attention_nudge import AttentionNudge, attention_numbers
from .chain_nudge import ChainNudge, FiniteFloat
from .depth_spread import DepthSpread, spread_grid
from .gradient_flow import GradientFlow
from .network_nudge import NetworkNudge
from .optimizer_race import OptimizerRace
from .receptive_field import ReceptiveField
from .training_curves import TrainingCurves, curve_grid

__all__ = [
    "AttentionNudge",
    "ChainNudge",
    "DepthSpread",
    "FiniteFloat",
    "GradientFlow",
    "NetworkNudge",
    "OptimizerRace",
    "ReceptiveField",
    "TrainingCurves",
    "attention_numbers",
    "curve_grid",
    "spread_grid",
]
