"""The convolution chapter's checkers: each accepts a right answer and names each mistake.

The right answers below are written here, independently of the package: loops over every
output position (scatter for dx, gather for dk, a window scan for max-pooling), the way a
student who does not know the flipped-kernel trick would write them.
"""

from __future__ import annotations

import numpy as np
import pytest

from backprop_book import conv
from backprop_book.checkers import NotQuiteRight, set_student
from backprop_book.exercises import convolution as ex

pytestmark = pytest.mark.usefixtures("student")


def refuse(check, answer, says):
    with pytest.raises(NotQuiteRight) as info:
        check(answer)
    assert says in str(info.value), str(info.value)
    return str(info.value)


# ------------------------------------------------------------------ right answers, by loops


def loop_input_grad(dy, k, x_shape, stride):
    dx = np.zeros(x_shape)
    kh, kw = k.shape
    for i, j in np.ndindex(dy.shape):
        dx[stride * i : stride * i + kh, stride * j : stride * j + kw] += dy[i, j] * k
    return dx


def loop_kernel_grad(dy, x, kernel_shape, stride):
    kh, kw = kernel_shape
    dk = np.zeros(kernel_shape)
    for i, j in np.ndindex(dy.shape):
        dk += dy[i, j] * x[stride * i : stride * i + kh, stride * j : stride * j + kw]
    return dk


def loop_maxpool_backward(dy, x, size, stride):
    dx = np.zeros_like(x)
    for i, j in np.ndindex(dy.shape):
        window = x[stride * i : stride * i + size, stride * j : stride * j + size]
        r, c = np.unravel_index(np.argmax(window), window.shape)
        dx[stride * i + r, stride * j + c] += dy[i, j]
    return dx


def flipped_full(dy, k, x_shape, stride):
    """The way the chapter teaches it: spread, pad by k - 1, correlate with k turned."""
    kh, kw = k.shape
    g = np.zeros((x_shape[0] - kh + 1, x_shape[1] - kw + 1))
    g[::stride, ::stride] = dy
    return conv.correlate(np.pad(g, ((kh - 1,) * 2, (kw - 1,) * 2)), k[::-1, ::-1])


# ------------------------------------------------------------------ 1. output size


def test_output_size_numbers_tell_every_mistake_apart():
    for k in range(100):
        set_student(f"class-{k}")
        n = ex.output_size_numbers()
        assert len(set(ex._output_sizes(**n).values())) == 4, n


def test_output_size():
    n = ex.output_size_numbers()
    size, k, s, p = n["size"], n["kernel"], n["stride"], n["padding"]
    counted = conv.conv2d(np.zeros((1, 1, size, 3)), np.zeros((1, 1, k, 3)),
                          stride=(s, 1), padding=(p, 0)).shape[2]
    assert ex.check_output_size(counted)
    assert not ex.check_output_size(None)
    refuse(ex.check_output_size, (size - k) // s + 1, "padding is left out")
    refuse(ex.check_output_size, -(-(size + 2 * p - k) // s) + 1, "rounded up")
    refuse(ex.check_output_size, (size + 2 * p - k) // s, "+ 1 is missing")


# ------------------------------------------------------------------ 2. input gradient


def test_input_grad_right_answers():
    assert ex.check_input_grad(loop_input_grad)
    verdict = ex.check_input_grad(flipped_full)
    assert verdict and "centered differences" in str(verdict)


def test_input_grad_not_done_and_not_a_function():
    def stub(dy, k, x_shape, stride):
        raise NotImplementedError()

    assert not ex.check_input_grad(None)
    assert not ex.check_input_grad(stub)
    refuse(ex.check_input_grad, np.zeros((5, 5)), "should be a function")


def test_input_grad_hard_coded_answer_is_refused():
    e = ex.input_grad_example()
    fixed = loop_input_grad(e["dy"], e["k"], e["x_shape"], e["stride"])
    refuse(ex.check_input_grad, lambda dy, k, x_shape, stride: fixed, "expected")


def test_input_grad_exception_names_the_students_line():
    def broken(dy, k, x_shape, stride):
        dx = np.zeros(x_shape)
        dx += dy @ k  # shapes that do not multiply
        return dx

    message = refuse(ex.check_input_grad, broken, "raised ValueError")
    assert "dx += dy @ k" in message and "Traceback" not in message


def test_input_grad_returning_none_or_text():
    refuse(ex.check_input_grad, lambda dy, k, x_shape, stride: None, "needs a `return`")
    refuse(ex.check_input_grad, lambda dy, k, x_shape, stride: "dx", "NumPy array")


def unflipped(dy, k, x_shape, stride):
    return flipped_full(dy, k[::-1, ::-1], x_shape, stride)


def one_axis(dy, k, x_shape, stride):
    return flipped_full(dy, k[:, ::-1], x_shape, stride)


def valid_only(dy, k, x_shape, stride):
    kh, kw = k.shape
    g = np.zeros((x_shape[0] - kh + 1, x_shape[1] - kw + 1))
    g[::stride, ::stride] = dy
    return conv.correlate(g, k[::-1, ::-1]) if g.shape[0] >= kh and g.shape[1] >= kw else g


def same_pad(dy, k, x_shape, stride):
    kh, kw = k.shape
    g = np.zeros((x_shape[0] - kh + 1, x_shape[1] - kw + 1))
    g[::stride, ::stride] = dy
    return conv.correlate(np.pad(g, ((kh // 2,) * 2, (kw // 2,) * 2)), k[::-1, ::-1])


def no_stride(dy, k, x_shape, stride):
    return conv.correlate(np.pad(dy, ((k.shape[0] - 1,) * 2, (k.shape[1] - 1,) * 2)), k[::-1, ::-1])


@pytest.mark.parametrize(("bug", "says"), [
    (unflipped, "not flipped"), (one_axis, "one axis only"), (valid_only, "no padding"),
    (same_pad, "kh // 2"), (no_stride, "stride is ignored"),
])
def test_input_grad_names_each_classic_mistake(bug, says):
    refuse(ex.check_input_grad, bug, says)


def test_input_grad_transposed_kernel_is_refused_with_the_students_line():
    # k.T instead of the turned kernel: on the checker's non-square kernels it cannot run
    def transposed(dy, k, x_shape, stride):
        return flipped_full(dy, k.T, x_shape, stride)

    message = refuse(ex.check_input_grad, transposed, "raised")
    assert "g[::stride, ::stride] = dy" in message  # where their own code failed


def test_input_grad_wrong_shape_says_what_and_why():
    message = refuse(ex.check_input_grad, lambda dy, k, x_shape, stride: np.zeros((3, 3)),
                     "the shape of x")
    assert "expected (5, 6)" in message


def test_input_grad_unrecognised_mistake_reports_the_worst_entry():
    def off_by_one(dy, k, x_shape, stride):
        dx = loop_input_grad(dy, k, x_shape, stride)
        dx[1, 2] += 0.5
        return dx

    message = refuse(ex.check_input_grad, off_by_one, "not a mistake we recognise")
    assert "(1, 2)" in message and "centered differences" in message


# ------------------------------------------------------------------ 3. kernel gradient


def test_kernel_grad():
    assert ex.check_kernel_grad(loop_kernel_grad)
    assert not ex.check_kernel_grad(None)
    refuse(ex.check_kernel_grad,
           lambda dy, x, ks, s: loop_kernel_grad(dy, x, ks, s)[::-1, ::-1], "turned 180")
    refuse(ex.check_kernel_grad, lambda dy, x, ks, s: conv.correlate(x, dy), "stride is ignored")

    def convolved(dy, x, ks, s):
        g = np.zeros((x.shape[0] - ks[0] + 1, x.shape[1] - ks[1] + 1))
        g[::s, ::s] = dy
        return conv.correlate(x, g[::-1, ::-1])

    refuse(ex.check_kernel_grad, convolved, "dy is flipped")
    refuse(ex.check_kernel_grad, lambda dy, x, ks, s: np.zeros((2, 2)), "shape of the kernel")

    def crash(dy, x, ks, s):
        return x[: ks[0], : ks[1]] * dy  # broadcasting fails
    message = refuse(ex.check_kernel_grad, crash, "raised ValueError")
    assert "x[: ks[0], : ks[1]] * dy" in message


# ------------------------------------------------------------------ 4. max-pool backward


def test_maxpool_right_and_not_done():
    assert ex.check_maxpool_backward(loop_maxpool_backward)

    def stub(dy, x, size, stride):
        raise NotImplementedError()

    assert not ex.check_maxpool_backward(stub)
    e = ex.maxpool_example()
    fixed = loop_maxpool_backward(e["dy"], e["x"], e["size"], e["stride"])
    refuse(ex.check_maxpool_backward, lambda dy, x, size, stride: fixed, "expected")


def every_max(dy, x, size, stride):
    dx = np.zeros_like(x)
    for i, j in np.ndindex(dy.shape):
        w = x[stride * i : stride * i + size, stride * j : stride * j + size]
        dx[stride * i : stride * i + size, stride * j : stride * j + size] += dy[i, j] * (w == w.max())
    return dx


def last_max(dy, x, size, stride):
    dx = np.zeros_like(x)
    for i, j in np.ndindex(dy.shape):
        w = x[stride * i : stride * i + size, stride * j : stride * j + size]
        r, c = np.argwhere(w == w.max())[-1]
        dx[stride * i + r, stride * j + c] += dy[i, j]
    return dx


def overwrite(dy, x, size, stride):
    dx = np.zeros_like(x)
    for i, j in np.ndindex(dy.shape):
        w = x[stride * i : stride * i + size, stride * j : stride * j + size]
        r, c = np.unravel_index(np.argmax(w), w.shape)
        dx[stride * i + r, stride * j + c] = dy[i, j]
    return dx


def stride_is_size(dy, x, size, stride):
    return loop_maxpool_backward(dy, x, size, size)


def average(dy, x, size, stride):
    dx = np.zeros_like(x)
    for i, j in np.ndindex(dy.shape):
        dx[stride * i : stride * i + size, stride * j : stride * j + size] += dy[i, j] / size**2
    return dx


@pytest.mark.parametrize(("bug", "says"), [
    (every_max, "every maximum"), (last_max, "LAST"), (overwrite, "must ADD"),
    (average, "average pooling"),
])
def test_maxpool_names_each_classic_mistake(bug, says):
    refuse(ex.check_maxpool_backward, bug, says)


def test_maxpool_stride_ignored_is_named_or_refused():
    # ignoring the stride runs out of x on the overlapping cases: an IndexError or a
    # window past the edge; either way it is refused, and where it runs, named
    try:
        message = refuse(ex.check_maxpool_backward, stride_is_size, "")
    except IndexError:  # pragma: no cover - the checker must catch the reader's errors
        pytest.fail("the reader's IndexError escaped the checker")
    assert "stride" in message or "raised" in message, message


def test_maxpool_exception_shows_the_students_line():
    def broken(dy, x, size, stride):
        dx = np.zeros_like(x)
        dx[:2, :2] = dy.reshape(3, 3)
        return dx

    message = refuse(ex.check_maxpool_backward, broken, "raised ValueError")
    assert "dy.reshape(3, 3)" in message


def test_no_message_shows_the_reference_code():
    wrong = [(ex.check_input_grad, unflipped), (ex.check_input_grad, no_stride),
             (ex.check_input_grad, lambda dy, k, xs, s: np.zeros(xs) + 1.0),
             (ex.check_maxpool_backward, every_max), (ex.check_maxpool_backward, average),
             (ex.check_kernel_grad, lambda dy, x, ks, s: np.ones(ks))]
    for check, answer in wrong:
        with pytest.raises(NotQuiteRight) as info:
            check(answer)
        message = str(info.value)
        for code in ("tensordot", "_conv2d", "sliding_window", "conv.py", "Traceback", "def "):
            assert code not in message, (code, message)
