"""A widget's front end, made of files in this folder: what widgets share, then its own.

Every widget's script is ``_dom.js`` (the DOM and chart helpers they all use) followed by
the widget's own ``<name>.js``; its stylesheet is the shared rules (``card.css``, and
``chart.css`` for the charts) followed by its own ``<name>.css``. One copy of each helper,
so a fix reaches every widget.
"""

from __future__ import annotations

import pathlib

HERE = pathlib.Path(__file__).parent


def stylesheet(*names: str) -> str:
    """The CSS files ``names`` of this folder, joined in order (later rules win ties)."""
    return "\n".join((HERE / name).read_text() for name in names)


def script(name: str) -> str:
    """The ES module of widget ``name``: the shared ``_dom.js``, then ``<name>.js``."""
    return (HERE / "_dom.js").read_text() + "\n" + (HERE / f"{name}.js").read_text()
