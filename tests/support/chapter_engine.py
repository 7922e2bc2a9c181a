"""The autodiff chapter's own Value class, built by running its cells: the tests of the
engine's code exercises judge students' nodes against the chapter, not a copy of it."""

from __future__ import annotations

import json

import numpy as np

import backprop_book as bb
from bookkit.paths import BOOK

#: The cells of book/autodiff.ipynb that define Value and its nodes, in order.
ENGINE_CELLS = ("cell-019", "cell-021", "cell-023")


def autodiff_notebook() -> dict:
    return json.loads((BOOK / "autodiff.ipynb").read_text())


def engine_namespace(nb: dict | None = None) -> dict:
    """The names the chapter's engine cells define (Value among them), run in a fresh
    namespace with what the chapter imports before them."""
    nb = nb or autodiff_notebook()
    ns = {"np": np, "bb": bb}
    exec("import math", ns)
    for cell in nb["cells"]:
        if cell["id"] in ENGINE_CELLS:
            exec("".join(cell["source"]), ns)
    return ns


def chapter_engine() -> type:
    """A fresh copy of the chapter's Value class."""
    return engine_namespace()["Value"]
