"""Stylesheets made of files in this folder: rules widgets share, then a widget's own."""

from __future__ import annotations

import pathlib

HERE = pathlib.Path(__file__).parent


def stylesheet(*names: str) -> str:
    """The CSS files ``names`` of this folder, joined in order (later rules win ties)."""
    return "\n".join((HERE / name).read_text() for name in names)
