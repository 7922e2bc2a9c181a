"""What every exercise module's tests share: the numbers they run with."""

from __future__ import annotations

import pytest

from backprop_book.checkers import set_student


@pytest.fixture(params=[None, "student-17"])
def student(request):
    """The test runs with the book's numbers and with one student's own numbers."""
    set_student(request.param)
    yield request.param
    set_student(None)
