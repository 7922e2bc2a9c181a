"""Pictures of small networks, drawn with matplotlib, for the chapters.

Layers run left to right: layer 0 holds the inputs x_k, layer l = 1..L the neurons, and an
optional node C (the cost) sits after the last layer. Nodes are named ``(l, j)`` with
1-based j, as in the text; the cost node is the string ``"C"``. The edge into neuron j of
layer l from neuron k of layer l - 1 carries W^(l)_jk ("to j, from k") and is named by the
triple ``(l, j, k)``.

Colour is never the only signal: highlighted paths differ in colour AND line style, and a
negative edge value is drawn dashed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

#: Colour-blind-safe colours (Okabe-Ito) and line styles for highlighted paths, in order.
PATH_STYLES = (
    ("#0072B2", "-"),
    ("#D55E00", "--"),
    ("#009E73", "-."),
    ("#CC79A7", ":"),
)
NODE_FACE = "#f4f4f4"
EDGE_GREY = "#8c8c8c"

Node = tuple[int, int] | str
Edge = tuple[int, int, int]


#: Distance between layers and between the neurons of one layer, in axes data units.
LAYER_GAP, NEURON_GAP = 2.4, 1.5


def node_positions(sizes: Sequence[int], cost: bool = True) -> dict[Node, tuple[float, float]]:
    """Centre ``(x, y)`` of every node: layer l at x = l LAYER_GAP, each layer centred on y = 0."""
    pos: dict[Node, tuple[float, float]] = {}
    for layer, n in enumerate(sizes):
        for j in range(1, n + 1):
            pos[(layer, j)] = (layer * LAYER_GAP, ((n + 1) / 2 - j) * NEURON_GAP)
    if cost:
        pos["C"] = (len(sizes) * LAYER_GAP * 0.9, 0.0)
    return pos


def default_node_label(node: Node) -> str:
    """``$x_k$`` in layer 0, ``$a^{(l)}_j$`` in layer l, ``$C$`` for the cost."""
    if node == "C":
        return "$C$"
    layer, j = node
    return f"$x_{{{j}}}$" if layer == 0 else f"$a^{{({layer})}}_{{{j}}}$"


def default_edge_label(edge: Edge) -> str:
    """``$W^{(l)}_{jk}$`` for the edge (l, j, k)."""
    layer, j, k = edge
    return f"$W^{{({layer})}}_{{{j}{k}}}$"


def _edges(sizes: Sequence[int]) -> list[Edge]:
    return [
        (layer, j, k)
        for layer in range(1, len(sizes))
        for j in range(1, sizes[layer] + 1)
        for k in range(1, sizes[layer - 1] + 1)
    ]


def _path_segments(path: Sequence[Node]) -> list[tuple[Node, Node]]:
    return list(zip(path[:-1], path[1:], strict=True))


def draw_network(
    ax,
    sizes: Sequence[int],
    *,
    labels: bool | Mapping[Edge, str] = True,
    highlight: Sequence[Sequence[Node]] = (),
    values: Mapping[Edge | Node, float] | None = None,
    node_labels: bool | Mapping[Node, str] = True,
    cost: bool = True,
    label_at: float = 0.7,
    fontsize: float = 11,
    highlight_names: Sequence[str] | None = None,
):
    """Draw a fully connected network with layer widths ``sizes = [n_0, ..., n_L]`` on ``ax``.

    Args:
        ax: a matplotlib Axes; its axis lines are switched off.
        sizes: the widths n_0 (inputs), n_1, ..., n_L, each a positive integer.
        labels: True for the labels W^(l)_jk on every edge, False for none, or a mapping
            ``{(l, j, k): text}`` for the edges to label. A label sits ``label_at`` of the
            way along its edge, near the receiving ("to") neuron, so the labels of one
            neuron's incoming weights sit side by side.
        highlight: paths to draw thick, each a sequence of nodes such as
            ``[(0, 1), (1, 1), (2, 2), "C"]``; path i gets colour and line style i of
            :data:`PATH_STYLES`.
        values: numbers to show: an edge ``(l, j, k)`` gets the value (2 significant digits) as its label and a
            width that grows with |value| (dashed when negative); a node ``(l, j)`` gets the
            value printed below it.
        node_labels: True for x_k, a^(l)_j and C, False for none, or a mapping node -> text.
        cost: draw the cost node C after the last layer, joined to every output.
        highlight_names: legend entries for the highlighted paths (no legend when None).

    Returns:
        The dict of node positions, ``{node: (x, y)}``, for further annotation.
    """
    sizes = [int(n) for n in sizes]
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(f"sizes must list >= 2 positive widths [n_0, ..., n_L]; got {sizes}")
    values = dict(values or {})
    pos = node_positions(sizes, cost)
    _check_paths(highlight, pos)

    for edge in _edges(sizes):
        layer, j, k = edge
        _draw_edge(ax, pos[(layer - 1, k)], pos[(layer, j)], values.get(edge))
    if cost:
        for j in range(1, sizes[-1] + 1):
            _draw_edge(ax, pos[(len(sizes) - 1, j)], pos["C"], None)

    for i, path in enumerate(highlight):
        colour, style = PATH_STYLES[i % len(PATH_STYLES)]
        name = highlight_names[i] if highlight_names else None
        shift = 0.09 * (i - (len(highlight) - 1) / 2)  # side by side where paths share an edge
        for start, end in _path_segments(path):
            (x0, y0), (x1, y1) = pos[start], pos[end]
            nx, ny = _unit_normal(x1 - x0, y1 - y0)
            ax.plot([x0 + shift * nx, x1 + shift * nx], [y0 + shift * ny, y1 + shift * ny],
                    color=colour, linestyle=style, linewidth=3.2, zorder=2, label=name)
            name = None  # one legend entry per path

    _draw_edge_labels(ax, sizes, pos, labels, values, label_at, fontsize)
    _draw_nodes(ax, pos, node_labels, values, fontsize)

    if highlight_names:
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=len(highlight),
                  frameon=False, fontsize=fontsize - 1)
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    ax.set_xlim(min(xs) - 0.5, max(xs) + 0.5)
    ax.set_ylim(min(ys) - 0.75, max(ys) + 0.55)
    ax.set_aspect("equal")
    ax.axis("off")
    return pos


def _unit_normal(dx: float, dy: float) -> tuple[float, float]:
    length = float(np.hypot(dx, dy)) or 1.0
    return -dy / length, dx / length


def _check_paths(paths: Sequence[Sequence[Node]], pos: Mapping[Node, tuple]) -> None:
    for path in paths:
        unknown = [node for node in path if node not in pos]
        if unknown or len(path) < 2:
            raise ValueError(
                f"a highlighted path must be >= 2 nodes among {sorted(map(str, pos))}; "
                f"got {list(path)}"
            )


def _draw_edge(ax, start, end, value: float | None) -> None:
    width, style = 1.0, "-"
    if value is not None:
        width = 0.6 + 2.4 * min(abs(float(value)), 2.0) / 2.0
        style = "--" if value < 0 else "-"
    ax.plot([start[0], end[0]], [start[1], end[1]], color=EDGE_GREY, linewidth=width,
            linestyle=style, zorder=1)


def _draw_edge_labels(ax, sizes, pos, labels, values, label_at, fontsize) -> None:
    for edge in _edges(sizes):
        if edge in values:
            text = f"{values[edge]:+.2g}"
        elif labels is True:
            text = default_edge_label(edge)
        elif isinstance(labels, Mapping) and edge in labels:
            text = labels[edge]
        else:
            continue
        layer, j, k = edge
        (x0, y0), (x1, y1) = pos[(layer - 1, k)], pos[(layer, j)]
        x, y = x0 + label_at * (x1 - x0), y0 + label_at * (y1 - y0)
        ax.text(x, y, text, ha="center", va="center", fontsize=fontsize - 2, zorder=4,
                bbox={"boxstyle": "round,pad=0.15", "facecolor": "white",
                      "edgecolor": "none", "alpha": 0.9})


def _draw_nodes(ax, pos, node_labels, values, fontsize) -> None:
    for node, (x, y) in pos.items():
        ax.add_patch(_circle((x, y), 0.36 if node != "C" else 0.3))
        if node_labels is True:
            text = default_node_label(node)
        elif isinstance(node_labels, Mapping):
            text = node_labels.get(node, "")
        else:
            text = ""
        ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, zorder=6)
        if node in values:
            ax.text(x, y - 0.42, f"{values[node]:.3g}", ha="center", va="top",
                    fontsize=fontsize - 2, zorder=6)


def _circle(centre, radius):
    from matplotlib.patches import Circle

    return Circle(centre, radius, facecolor=NODE_FACE, edgecolor="black", linewidth=1.2,
                  zorder=5)


def regions_grid(xlim: tuple[float, float], ylim: tuple[float, float], n: int = 200):
    """A grid over the plane for decision regions: ``(xx, yy, points)``, points of shape (2, n*n).

    Samples are columns, so ``points`` can go straight into a forward pass.
    """
    xx, yy = np.meshgrid(np.linspace(*xlim, n), np.linspace(*ylim, n))
    return xx, yy, np.vstack([xx.ravel(), yy.ravel()])
