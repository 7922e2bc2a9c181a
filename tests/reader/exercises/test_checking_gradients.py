"""The checking-gradients appendix's checker: right answer accepted, classic wrong ones diagnosed.

The right answer here is computed from its definition with plain NumPy loops, independently of
``bb.relative_error`` (which the checker uses).
"""

from __future__ import annotations

import numpy as np
import pytest

from backprop_book.checkers import NotQuiteRight
from backprop_book.exercises import checking_gradients as ex

pytestmark = pytest.mark.usefixtures("student")


def refuse(answer, says):
    with pytest.raises(NotQuiteRight) as info:
        ex.check_relative_error(answer)
    assert says in str(info.value)


def test_relative_error():
    n = ex.relative_error_numbers()
    a, b = n["analytic"], n["numeric"]
    biggest_diff = max(abs(p - q) for p, q in zip(a, b, strict=True))
    right = biggest_diff / (max(abs(p) for p in a) + max(abs(q) for q in b))
    assert ex.check_relative_error(right)
    assert not ex.check_relative_error(None)
    per_entry = max(abs(p - q) / (abs(p) + abs(q)) for p, q in zip(a, b, strict=True))
    refuse(per_entry, "entry-by-entry ratio |a_i - b_i| / (|a_i| + |b_i|)")
    per_entry_max = max(abs(p - q) / max(abs(p), abs(q)) for p, q in zip(a, b, strict=True))
    refuse(per_entry_max, "max(|a_i|, |b_i|)")
    refuse(biggest_diff, "absolute error")
    refuse(10 * right, "that is not it")


def test_numbers_have_one_tiny_entry():
    a = np.abs(np.array(ex.relative_error_numbers()["analytic"]))
    assert np.sum(a < 1e-5) == 1 and np.sum(a > 1e-3) == 4
