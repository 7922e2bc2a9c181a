"""ReceptiveField in Python: validation, and a readout equal to loops written here.

The readout is computed with backprop_book.conv; the references below are the definition
written as loops (which outputs hold a pixel in their window, what each output becomes
after the nudge) and centered differences of C = sum(G * y).
"""

from __future__ import annotations

import numpy as np
import pytest
import traitlets

from backprop_book import numerical_gradient
from backprop_book.widgets import ReceptiveField


def make(**kw):
    rng = np.random.default_rng(4)
    return ReceptiveField(np.round(rng.uniform(0, 1, (6, 6)), 2), np.round(rng.normal(size=(3, 3)), 2),
                          np.round(rng.normal(size=(4, 4)), 2), **kw)


def loop_y(x, k, s):
    kh, kw = k.shape
    rows, cols = (x.shape[0] - kh) // s + 1, (x.shape[1] - kw) // s + 1
    return np.array([[np.sum(k * x[s * i:s * i + kh, s * j:s * j + kw]) for j in range(cols)]
                     for i in range(rows)])


@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("mode", ["input", "kernel"])
@pytest.mark.parametrize("cell", [(0, 0), (2, 3), (5, 5), (1, 2)])
def test_readout_equals_loops_and_centered_differences(stride, mode, cell):
    w = make(stride=stride, mode=mode, row=cell[0], col=cell[1], nudge=-0.35)
    x, k, g = np.array(w.x), np.array(w.k), np.array(w.g)
    G = g[::stride, ::stride]
    r, c = min(cell[0], (x if mode == "input" else k).shape[0] - 1), min(cell[1], (x if mode == "input" else k).shape[1] - 1)
    x2, k2 = x.copy(), k.copy()
    (x2 if mode == "input" else k2)[r, c] -= 0.35
    change = loop_y(x2, k2, stride) - loop_y(x, k, stride)
    out = w.readout
    assert out["cell"] == (r, c)
    np.testing.assert_allclose(out["change"], change, atol=1e-12)
    assert out["dC"] == pytest.approx(float(np.sum(G * change)), abs=1e-12)
    arr = (x if mode == "input" else k).copy()

    def cost(_):
        xx, kk = (arr, k) if mode == "input" else (x, arr)
        return float(np.sum(G * loop_y(xx, kk, stride)))

    fd = numerical_gradient(cost, arr)[r, c]
    assert out["gradient"] == pytest.approx(fd, rel=1e-7, abs=1e-9)
    assert out["dC"] == pytest.approx(-0.35 * out["gradient"], abs=1e-12)  # linear in the cell
    if mode == "input":
        held = [(i, j) for i, j in np.ndindex(change.shape)
                if stride * i <= r < stride * i + 3 and stride * j <= c < stride * j + 3]
        assert out["moved"] == held


def test_a_pixel_no_window_holds_reaches_nothing_at_stride_2():
    out = make(stride=2, row=5, col=5).readout
    assert out["moved"] == [] and out["gradient"] == 0 and out["dC"] == 0


@pytest.mark.parametrize(("change", "says"), [
    (dict(stride=3), "stride must be 1 or 2"),
    (dict(mode="output"), "mode must be"),
    (dict(nudge=1.5), "nudge must be"),
    (dict(row=-1), "row must be >= 0"),
])
def test_bad_settings_are_refused(change, says):
    w = make()
    with pytest.raises(traitlets.TraitError, match=says):
        for name, value in change.items():
            setattr(w, name, value)


def test_bad_grids_are_refused():
    with pytest.raises(ValueError, match="shape of the stride-1 output"):
        ReceptiveField(np.zeros((6, 6)), np.ones((3, 3)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="must fit inside x"):
        ReceptiveField(np.zeros((2, 2)), np.ones((3, 3)), np.zeros((1, 1)))
    with pytest.raises(traitlets.TraitError, match="finite"):
        ReceptiveField(np.full((4, 4), np.nan), np.ones((3, 3)), np.zeros((2, 2)))
    with pytest.raises(traitlets.TraitError, match="2-D grid"):
        ReceptiveField(np.zeros(4), np.ones((3, 3)), np.zeros((2, 2)))


def test_front_end_is_shipped_beside_the_python():
    w = make()
    assert "export default" in str(w._esm) or "export default" in open(w._esm).read()
    assert ".bp-receptive-field" in w._css
