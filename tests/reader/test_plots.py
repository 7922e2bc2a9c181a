"""The network drawing: the right nodes and edges, readable labels, clear errors."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import Circle  # noqa: E402

from backprop_book.plots import default_edge_label, draw_network, node_positions, regions_grid  # noqa: E402


@pytest.fixture
def ax():
    fig, ax = plt.subplots()
    yield ax
    plt.close(fig)


def test_every_neuron_and_the_cost_get_a_circle(ax):
    pos = draw_network(ax, [2, 2, 2])
    circles = [p for p in ax.patches if isinstance(p, Circle)]
    assert len(circles) == 2 + 2 + 2 + 1 and set(pos) == {*[(layer, j) for layer in range(3) for j in (1, 2)], "C"}


def test_edges_are_labelled_to_from(ax):
    draw_network(ax, [2, 3, 1], cost=False)
    texts = {t.get_text() for t in ax.texts}
    assert default_edge_label((1, 3, 2)) in texts          # to neuron 3 from neuron 2
    assert sum(default_edge_label((1, j, k)) in texts for j in (1, 2, 3) for k in (1, 2)) == 6
    assert len(ax.lines) == 2 * 3 + 3 * 1


def test_values_set_width_and_dash_by_sign(ax):
    draw_network(ax, [1, 1], values={(1, 1, 1): -1.5, (1, 1): 0.25}, cost=False)
    edge = ax.lines[0]
    assert edge.get_linestyle() == "--" and edge.get_linewidth() > 1.0
    assert "0.25" in {t.get_text() for t in ax.texts}


def test_highlighted_paths_differ_in_style_not_only_colour(ax):
    paths = [[(0, 1), (1, 1), (2, 1), "C"], [(0, 1), (1, 2), (2, 1), "C"]]
    draw_network(ax, [2, 2, 2], highlight=paths, highlight_names=["one", "two"])
    thick = [line for line in ax.lines if line.get_linewidth() > 3]
    assert {line.get_linestyle() for line in thick} == {"-", "--"}
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["one", "two"]


@pytest.mark.parametrize("sizes", [[3], [2, 0, 1], []])
def test_bad_sizes_are_refused(ax, sizes):
    with pytest.raises(ValueError, match="positive widths"):
        draw_network(ax, sizes)


def test_unknown_path_node_is_refused(ax):
    with pytest.raises(ValueError, match="highlighted path"):
        draw_network(ax, [2, 2], highlight=[[(0, 1), (5, 5)]])


def test_positions_and_grid():
    pos = node_positions([2, 3, 2])
    assert pos[(1, 2)][0] > pos[(0, 1)][0] and pos["C"][0] > pos[(2, 1)][0]
    xx, yy, points = regions_grid((-1, 1), (0, 2), n=5)
    assert points.shape == (2, 25) and np.allclose(points[:, 0], [-1, 0]) and xx.shape == (5, 5)
