"""Exercises of the autodiff chapter: the given numbers and the checkers.

Three exercises: a ``tanh`` node for the chapter's scalar engine, the gradient of a variable
that reaches the output along several paths, and the number of cost evaluations a
centered-difference gradient needs. Right answers come from :mod:`backprop_book.reference`,
SymPy or a count of actual calls, never from a copied constant.
"""

from __future__ import annotations

import numpy as np

from .. import codecheck
from .. import reference as ref
from ..checkers import NotQuiteRight, Verdict, a_kind, check_array, check_function, given
from ..codecheck import check_code, fresh_rngs
from ..gradcheck import numerical_gradient
from ..grading import Replay

TANH_NODE = "ex-autodiff-tanh-node"
PATHS_MEET = "ex-autodiff-paths-meet"
FD_PASSES = "ex-autodiff-fd-passes"
DIV_NODE = "ex-autodiff-div-node"
TOPO = "ex-autodiff-backward"


# ------------------------------------------------------------------ 1. a tanh node


def tanh_node_numbers() -> dict:
    """The points (x, w) at which the engine's gradient of C = tanh(x w)^2 is checked."""

    def draw(rng: np.random.Generator) -> dict:
        pts = rng.choice([-1, 1], size=(3, 2)) * rng.uniform(0.3, 1.6, size=(3, 2))
        return {"points": [tuple(round(float(v), 2) for v in row) for row in pts]}

    return given(TANH_NODE, {"points": [(0.8, -1.3), (-0.45, 0.9), (1.2, 0.6)]}, draw)


def _tanh_grads(slope, *, upstream=True, assign=False, reuse=False):
    """[dC/dx, dC/dw] for C = tanh(x w)^2, with ``slope(u, t)`` standing in for tanh'(u);
    ``reuse``: then [dC/dx, dC/dw] for C = (tanh(u) + u)^2 too, u = x w, where u reaches
    C along a second path. ``upstream`` False: the node forgets out.grad; ``assign``: it
    overwrites its input's gradient (`=`), losing the other path's share."""

    def grads(x, w):
        u = x * w
        t = float(ref.tanh(u))
        g = (2.0 * t if upstream else 1.0) * slope(u, t)  # dC/du
        out = [g * w, g * x]
        if reuse:
            direct = 2.0 * (t + u)
            through = (direct if upstream else 1.0) * slope(u, t)
            g2 = through if assign else through + direct
            out += [g2 * w, g2 * x]
        return out

    return grads


def _engine_of(fn: object) -> type | None:
    """The chapter's Value class, from the namespace the reader's function was written in."""
    engine = getattr(fn, "__globals__", {}).get("Value")
    return engine if isinstance(engine, type) else None


def _probe_node(engine: type, build, what: str, inputs: tuple) -> None:
    """Run the reader's node once on Values: a node that returns None or a plain number,
    records other inputs, never sets _backward, or makes a gradient a Value is named."""
    leaves = [engine(v) for v in inputs]
    try:  # the reader's errors, a stub and a loop are reported by the check itself
        out = codecheck._call(lambda: build(*leaves), {}, codecheck.TIME_LIMIT)
    except (Exception, codecheck._TimedOut):
        return
    if out is None:
        raise NotQuiteRight(f"{what} returned None: is `return out` missing?")
    if not isinstance(out, engine):
        raise NotQuiteRight(
            f"{what} returned {a_kind(out)}, not a Value: the node is a new Value (with its "
            "inputs and its _backward), returned so that backward() can walk through it."
        )
    ids = {id(v) for v in leaves}
    prev = list(getattr(out, "_prev", ()))
    if not prev or not {id(v) for v in prev} <= ids:
        several = prev and any(isinstance(v, engine) for v in prev)
        raise NotQuiteRight(
            f"{what}: the new Value's inputs (its _prev) are not "
            f"{' and '.join(n for n in ('x', 'y')[:len(leaves)])} themselves"
            + (": it is built from several nodes; write it as one node, whose inputs are "
               "the Values it was called with." if several else
               ": without them backward() never reaches its inputs. Pass them when you "
               "create the node.")
        )
    for v in leaves:
        v.grad = 0.0
    out.grad = 1.0
    try:
        codecheck._call(out._backward, {}, codecheck.TIME_LIMIT)
    except (Exception, codecheck._TimedOut):
        return
    grads = [v.grad for v in leaves]
    if any(isinstance(g, engine) for g in grads):
        raise NotQuiteRight(
            f"{what}: after _backward an input's .grad is a Value, not a number: inside "
            "_backward use the inputs' .data (numbers), as in other.data, not the Values "
            "themselves."
        )
    if all(g == 0 for g in grads):
        raise NotQuiteRight(
            f"{what}: its _backward passes nothing to the inputs (their .grad stays 0 with "
            "out.grad = 1): is `out._backward = _backward` set before the node is returned?"
        )


def check_tanh_node(grad_fn: object, engine: type | None = None) -> Verdict:
    """``grad_fn(x, w) -> [dC/dx, dC/dw]`` for C = tanh(x w)^2, computed with the engine.

    ``engine``, the chapter's ``Value`` class (found in ``grad_fn``'s namespace when not
    given), lets the checker build a second graph, C = (tanh(u) + u)^2 with u = x w, where
    the node's input u also reaches C directly: a node that overwrites u's gradient (`=`)
    instead of adding to it loses that share.
    """
    what = "the engine's gradient through tanh"
    engine = engine or _engine_of(grad_fn)
    # The grader's process (grad_fn a Replay of the kernel's calls) has no Value class to
    # build the second graph with: there the node is judged on C = tanh(x w)^2 alone.
    reuse = engine is not None and callable(grad_fn) and not isinstance(grad_fn, Replay)
    if reuse:
        _probe_node(engine, lambda v: v.tanh(), "your tanh node", (0.4,))

        def both(x, w):
            xv, wv = engine(x, name="x"), engine(w, name="w")
            u = xv * wv
            ((u.tanh() + u) ** 2).backward()
            return [*grad_fn(x, w), xv.grad, wv.grad]

        answer = both
    else:
        answer = grad_fn

    def grads(slope, **kw):
        return _tanh_grads(slope, reuse=reuse, **kw)

    right = grads(lambda u, t: float(ref.tanh_prime(u)))
    mistakes = {
        "the local derivative is 1 - tanh(x), without the square; "
        "tanh'(x) = 1 - tanh(x)^2 (use the output: 1 - t**2).": grads(lambda u, t: 1.0 - t),
        "the local derivative was not multiplied by out.grad, the gradient arriving from "
        "above the tanh node, so that gradient is lost.": grads(
            lambda u, t: float(ref.tanh_prime(u)), upstream=False),
        "you used 1 - x^2 with x the node's INPUT; the formula 1 - t^2 needs t = tanh(x), "
        "the node's output.": grads(lambda u, t: 1.0 - u**2),
        "that is the sigmoid's slope, t(1 - t); tanh's is 1 - t^2 (with t = tanh(x)).":
            grads(lambda u, t: t * (1.0 - t)),
    }
    if reuse:
        mistakes["the node overwrites its input's gradient (`=`) instead of adding to it "
                 "(`+=`): in (tanh(u) + u)^2 the input u also reaches the output directly, "
                 "and that share is lost."] = grads(lambda u, t: float(ref.tanh_prime(u)),
                                                  assign=True)
    return check_function(
        answer,
        right,
        what=what,
        inputs=tanh_node_numbers()["points"],
        mistakes=mistakes,
    )


# ------------------------------------------------------------------ 2. paths that meet


def paths_meet_numbers() -> dict:
    """The value x at which df/dx of f = x*x + x is asked."""
    return given(
        # three decimals: about 2,000 values, so few students of a class share one
        PATHS_MEET, {"x": 1.3}, lambda rng: {"x": round(float(rng.uniform(0.4, 2.4)), 3)}
    )


def check_paths_meet(answer: object) -> Verdict:
    """df/dx for f = x*x + x at the given x, a number."""
    import sympy as sp

    xs = sp.Symbol("x")
    xv = paths_meet_numbers()["x"]
    expected = float(sp.diff(xs * xs + xs, xs).subs(xs, xv))
    return check_array(
        answer,
        expected,
        what="df/dx",
        mistakes={
            "that is what an engine with `=` instead of `+=` returns: each backward step "
            "overwrites x.grad, so only the last path to arrive survives. Sum the "
            "contributions of all three edges that leave x.": xv,
            "the direct edge from x to the + node is missing: it adds 1.": 2 * xv,
            "the multiply node uses x twice, once in each slot; each slot sends back "
            "the other factor, x, so together they give 2x.": xv + 1,
            "that is only the direct path from x to the + node; the multiply node sends "
            "gradient back to x as well.": 1.0,
        },
    )


# ------------------------------------------------------------------ 3. cost of finite differences


def fd_passes_numbers() -> dict:
    """The layer sizes [n_0, n_1, n_2] of the network whose gradient is estimated."""

    def draw(rng: np.random.Generator) -> dict:
        return {
            "sizes": [int(rng.integers(20, 200)), int(rng.integers(8, 60)), int(rng.integers(2, 12))]
        }

    return given(FD_PASSES, {"sizes": [784, 30, 10]}, draw)


def _count_cost_evaluations(sizes: list[int]) -> int:
    """Run the book's numerical_gradient on every parameter of a tiny stand-in and count calls.

    The count depends only on the number of entries, so a parameter vector of that length
    is enough (no network needs to be evaluated).
    """
    n = sum(p.size for pair in ref.init_params(sizes, seed=0) for p in pair)
    calls = 0

    def cost(theta: np.ndarray) -> float:
        nonlocal calls
        calls += 1
        return 0.0

    numerical_gradient(cost, np.zeros(n))
    return calls


def check_fd_passes(answer: object) -> Verdict:
    """How many cost evaluations the book's centered-difference gradient needs, a number."""
    sizes = fd_passes_numbers()["sizes"]
    expected = _count_cost_evaluations(sizes)
    n_weights = sum(a * b for a, b in zip(sizes[:-1], sizes[1:], strict=True))
    n = expected // 2
    return check_array(
        answer,
        expected,
        what="the number of cost evaluations",
        rtol=0.0,
        atol=0.5,
        mistakes={
            "that is one evaluation per parameter; centered differences evaluate the cost "
            "twice per parameter, at +h and at -h.": n,
            "that is the count for one-sided (forward) differences, which share f(x); the "
            "book's numerical_gradient is centered.": n + 1,
            "the biases are parameters too: count every entry of every W and every b.": (
                2 * n_weights
            ),
            "that counts the weights once and forgets the biases; count every entry of W "
            "and b, twice.": n_weights,
            "two passes (one forward, one backward) is what backpropagation needs; finite "
            "differences need two per parameter.": 2,
        },
    )


# ------------------------------------------------------------------ 4. a division node, as code

#: The graphs the division node is checked in: (x / y)^2, where the gradient arriving at the
#: node is not 1; a / (x + y) + a with a = x y, where
#: the node's input a also reaches the output directly (its gradient has arrived before the
#: node runs); and one Value in both slots (x / x, whose gradient is 0).
DIV_GRAPHS = ["(x / y)^2", "a / (x + y) + a, a = x y", "x / x"]


def _div_names(case: dict) -> list[str]:
    return ["(x / y)^2: dx", "(x / y)^2: dy", "a / (x + y) + a: dx", "a / (x + y) + a: dy",
            "x / x: dx"]


def _through_div(div, engine, x, y) -> list[float]:
    """Leaf gradients of the three DIV_GRAPHS, built with ``div`` as the division node."""
    out = []
    for graph in range(3):
        xv, yv = engine(x, name="x"), engine(y, name="y")
        if graph == 0:
            root = div(xv, yv) ** 2
        elif graph == 1:
            a = xv * yv
            root = div(a, xv + yv) + a
        else:
            root = div(xv, xv)
        root.backward()
        out += [xv.grad] if graph == 2 else [xv.grad, yv.grad]
    return out


def _div_reference(x, y):
    """The same gradients from the quotient rule, in closed form."""
    s = x + y
    q = x / y
    return [2 * q / y, -2 * q * x / y**2, y * y / s**2 + y, x * x / s**2 + x, 0.0]


def _div_fd(x, y, h=1e-6):
    fs = [lambda a, b: (a / b) ** 2, lambda a, b: a * b / (a + b) + a * b, lambda a, b: a / a]

    def d(f, dx, dy):
        return (f(x + h * dx, y + h * dy) - f(x - h * dx, y - h * dy)) / (2 * h)

    return [d(fs[0], 1, 0), d(fs[0], 0, 1), d(fs[1], 1, 0), d(fs[1], 0, 1), d(fs[2], 1, 0)]


def _buggy_div(engine, bug: str):
    def div(self, other):
        out = engine(self.data / other.data, (self, other), "/")

        def _backward():
            da, db = 1.0 / other.data, -self.data / other.data**2
            g = 1.0 if bug == "no-upstream" else out.grad
            if bug == "sign":
                db = -db
            if bug == "swapped":
                da, db = db, da
            if bug == "assign":
                self.grad = da * g
                other.grad = db * g
            else:
                self.grad += da * g
                other.grad += db * g

        out._backward = _backward
        return out

    return div


def _div_cases() -> list[dict]:
    cases = []
    for rng in fresh_rngs(DIV_NODE):
        x, y = rng.choice([-1, 1]) * rng.uniform(0.5, 2.0, size=2)  # one sign: x + y is not 0
        cases.append({"x": float(x), "y": float(y)})
    return cases


def _needs_engine(engine: type | None, fn: object, call: str) -> type:
    """The chapter's Value class: given, or found where the reader's function was written."""
    engine = engine or _engine_of(fn)
    if engine is None:
        raise NotQuiteRight(
            f"the checker needs the chapter's Value class to build its graphs: run "
            f"{call}, engine=Value) after the cells that define Value."
        )
    return engine


def check_div_node(div: object, engine: type | None = None) -> Verdict:
    """A method ``div(self, other)`` of the chapter's ``Value``: x / y as one node.

    ``engine`` is the chapter's ``Value`` class; the checker builds its graphs with it.
    """
    if callable(div) and not isinstance(div, Replay):  # the grader replays the kernel's run
        engine = _needs_engine(engine, div, "ex.check_div_node(div")
        _probe_node(engine, div, "your div node", (1.3, 0.7))

    def through(fn):
        return lambda x, y: _through_div(fn, engine, x, y)

    bugs = {
        "the node overwrites the gradients (`=`) instead of adding to them (`+=`): where an input "
        "reaches the output along another path too, or sits in both slots (x / x), one "
        "contribution is lost.": "assign",
        "the local derivatives were not multiplied by out.grad, the gradient arriving from "
        "above the node, so that gradient is lost.": "no-upstream",
        "d(x / y)/dy has the wrong sign: it is -x / y^2.": "sign",
        "the two local derivatives are swapped: d(x/y)/dx = 1/y goes to self (x), "
        "d(x/y)/dy = -x/y^2 to other (y).": "swapped",
    }
    return check_code(
        None if div is None else (through(div) if callable(div) else div),
        _div_reference,
        what="your div node",
        cases=_div_cases(),
        names=_div_names,
        returns="a Value",
        mistakes={text: through(_buggy_div(engine, bug)) for text, bug in bugs.items()},
        numeric=_div_fd,
        source=div,
    )


#: The task on paper (bookkit.worksheets): the inputs are a point, not the node's arguments.
check_div_node.paper = (
    "On paper, at the point x, y below: build each graph with your node, run backward() "
    "from its output and give the leaves' gradients. The graphs: "
    + "; ".join(f"`{g}`" for g in DIV_GRAPHS) + " (one Value in both slots).")


# ------------------------------------------------------------------ 5. backward(), as code


#: The graph backward_topo is checked on, in words (the worksheets print it): built by
#: :func:`_topo_graphs`, valued by :func:`_topo_value`.
TOPO_GRAPH = "f = 0.1 * exp(s * sigmoid(s) + z * s) + s * z, where s = x * y + x"


def _topo_graphs(engine, x, y, z):
    """The graph of :data:`TOPO_GRAPH`: its leaves x, y, z reach the output along paths
    that meet (s along four edges)."""
    xv, yv, zv = (engine(v, name=n) for v, n in ((x, "x"), (y, "y"), (z, "z")))
    s = xv * yv + xv  # x twice
    f = (s * s.sigmoid() + zv * s).exp() * 0.1 + s * zv  # s reaches f along four edges
    return f, [xv, yv, zv]


def _topo_value(x, y, z) -> float:
    s = x * y + x
    sig = 1.0 / (1.0 + np.exp(-s))
    return float(np.exp(s * sig + z * s) * 0.1 + s * z)


def _topo_reference(x, y, z, h=1e-6):
    """Centered differences of the graph's value: the engine's answer must agree."""
    def d(i):
        e = np.zeros(3)
        e[i] = h
        at = np.array([x, y, z])
        return (_topo_value(*(at + e)) - _topo_value(*(at - e))) / (2 * h)

    return [d(0), d(1), d(2)]


def _by(backward, engine, *, theirs: bool = False):
    """``backward`` run on the graphs; ``theirs``: the reader's, with the chapter's own
    backward() out of reach while it runs (the exercise is to write it)."""
    def run(x, y, z):
        root, leaves = _topo_graphs(engine, x, y, z)
        if not theirs:
            backward(root)
            return [v.grad for v in leaves]
        chapters = engine.__dict__.get("backward")

        def no_chapter_backward(self):
            raise NotQuiteRight(
                "your backward_topo calls the chapter's backward(); write the walk "
                "yourself, with each node's _prev and _backward."
            )

        engine.backward = no_chapter_backward
        try:
            backward(root)
        finally:
            if chapters is None:
                del engine.backward
            else:
                engine.backward = chapters
        return [v.grad for v in leaves]

    return run


def _topo_buggy(bug: str):
    def backward(root):
        order, seen = [], set()

        def visit(v):
            if bug == "no-seen" or v not in seen:
                seen.add(v)
                for parent in v._prev:
                    visit(parent)
                order.append(v)

        if bug == "depth-first":  # each node's _backward as soon as it is reached
            root.grad = 1.0

            def down(v):
                v._backward()
                for parent in v._prev:
                    down(parent)

            down(root)
            return
        visit(root)
        if bug != "no-seed":
            root.grad = 1.0
        for v in (order if bug == "forward-order" else reversed(order)):
            v._backward()

    return backward


def _topo_cases() -> list[dict]:
    return [{"x": float(r.uniform(-1, 1)), "y": float(r.uniform(-1, 1)),
             "z": float(r.uniform(-1, 1))} for r in fresh_rngs(TOPO)]


def check_backward_topo(backward_topo: object, engine: type | None = None) -> Verdict:
    """A function ``backward_topo(root)`` that sets ``.grad`` of every Value below ``root``.

    ``engine`` is the chapter's ``Value`` class; the checker builds its graphs with it.
    """
    if callable(backward_topo) and not isinstance(backward_topo, Replay):
        engine = _needs_engine(engine, backward_topo, "ex.check_backward_topo(backward_topo")
    bugs = {
        "nodes are visited more than once (no `seen` set): a node reached along two paths "
        "runs its _backward twice and its inputs get its gradient twice.": "no-seen",
        "every gradient is 0. Either root.grad = 1 (d root / d root) is never set, so there "
        "is nothing to pass back; or the nodes run in the order of the forward pass, so "
        "the output passes its gradient on last, after every other node has run. Backward "
        "goes in reversed topological order.": "no-seed",
        "each node's _backward runs as soon as it is reached, depth first: a node reached "
        "along several paths passes its gradient on before all of it has arrived. Sort "
        "the nodes first, then run them in reversed topological order.": "depth-first",
    }
    return check_code(
        None if backward_topo is None else (
            _by(backward_topo, engine, theirs=True) if callable(backward_topo)
            else backward_topo),
        _topo_reference,
        what="your backward_topo",
        cases=_topo_cases(),
        names=["dx", "dy", "dz"],
        returns="nothing (it sets .grad)",
        mistakes={text: _by(_topo_buggy(bug), engine) for text, bug in bugs.items()},
        source=backward_topo,
        rtol=1e-5,
        atol=1e-7,
    )


#: The task on paper (bookkit.worksheets): the inputs are the leaves' values, not a root.
check_backward_topo.paper = (
    f"On paper, at the point x, y, z below: run backward_topo from the output of `{TOPO_GRAPH}` "
    "and give the leaves' gradients df/dx, df/dy, df/dz.")



__all__ = [
    "check_div_node",
    "check_backward_topo",
    "tanh_node_numbers",
    "check_tanh_node",
    "paths_meet_numbers",
    "check_paths_meet",
    "fd_passes_numbers",
    "check_fd_passes",
]
