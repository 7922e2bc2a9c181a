"""Asserting what a checker says."""

from __future__ import annotations

import pytest

from backprop_book.checkers import NotQuiteRight


def refuse(check, answer, says: str) -> None:
    """``check(answer)`` must refuse the answer, and its diagnosis must contain ``says``."""
    with pytest.raises(NotQuiteRight) as info:
        check(answer)
    assert says in str(info.value), f"expected a diagnosis with {says!r}, got: {info.value}"
