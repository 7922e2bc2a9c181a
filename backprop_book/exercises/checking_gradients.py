"""Exercise of the appendix on checking gradients: the book's relative error, by hand.

The right answer comes from :func:`backprop_book.gradcheck.relative_error`; the classic wrong
answers are the other "relative errors" in circulation, computed from the same arrays.
"""

from __future__ import annotations

import numpy as np

from ..checkers import Verdict, check_array, given
from ..gradcheck import relative_error

RELATIVE_ERROR = "ex-checking-gradients-relative-error"


def relative_error_numbers() -> dict:
    """Two gradients of the same five parameters: ``analytic`` and ``numeric``."""

    def draw(rng: np.random.Generator) -> dict:
        analytic = rng.normal(0.0, 1.0, 5)
        analytic[rng.integers(5)] = 1e-6 * rng.choice([-1, 1])  # one tiny entry
        numeric = analytic + rng.normal(0.0, 1e-9, 5)
        return {"analytic": analytic.round(12).tolist(), "numeric": numeric.round(12).tolist()}

    default = {
        "analytic": [0.8132, -1.2409, 3.4e-06, 0.0517, -0.4421],
        "numeric": [0.8132000012, -1.2409000007, 3.3988e-06, 0.0517000004, -0.4421000009],
    }
    return given(RELATIVE_ERROR, default, draw)


def check_relative_error(answer: object) -> Verdict:
    """The book's relative error of the two given arrays, a number."""
    n = relative_error_numbers()
    a, b = np.asarray(n["analytic"]), np.asarray(n["numeric"])
    diff = np.abs(a - b)
    return check_array(
        answer,
        relative_error(a, b),
        what="the relative error",
        rtol=1e-3,
        atol=1e-15,
        mistakes={
            "that is the largest entry-by-entry ratio |a_i - b_i| / (|a_i| + |b_i|). The book "
            "divides the largest difference by the size of the whole arrays, "
            "max|a| + max|b|, so a tiny entry does not dominate.": np.max(
                diff / (np.abs(a) + np.abs(b))
            ),
            "that is the largest entry-by-entry ratio |a_i - b_i| / max(|a_i|, |b_i|); the "
            "book divides by max|a| + max|b| over the whole arrays.": np.max(
                diff / np.maximum(np.abs(a), np.abs(b))
            ),
            "that is the absolute error max|a - b|; divide it by max|a| + max|b|.": np.max(diff),
            "the denominator has only one array; the book uses max|a| + max|b|.": np.max(diff)
            / np.max(np.abs(a)),
        },
    )


__all__ = ["relative_error_numbers", "check_relative_error"]
