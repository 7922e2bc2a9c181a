"""Classic mistakes, written as a student would write them, for the nbgrader course tests.

Each entry is (solution cell's grade id, test cell that must lose its point, the student's
code for that solution cell, words the diagnosis in the feedback must contain). The code
runs in the assignment, after the exercise's given-numbers cell, so it uses the same names
the exercise gives (``nums``, ``Delta``, ``analytic_given``, ...). Together they cover
every diagnosis in the checkers' ``mistakes`` tables and the usual generic ones.
"""

from __future__ import annotations

CHAIN = (
    "n = nums\n"
    'a1 = 1 / (1 + np.exp(-(n["w1"] * n["x"] + n["b1"])))\n'
    'a2 = 1 / (1 + np.exp(-(n["w2"] * a1 + n["b2"])))\n'
)
DELTA1 = (
    'W2_given = np.array(nums["W2"])\n'
    'd2 = np.array(nums["delta2"]).reshape(-1, 1)\n'
    's = bb.sigmoid(np.array(nums["z1"]).reshape(-1, 1))\n'
)
SOFTMAX2 = (
    "s_1 = sp.exp(z_1) / (sp.exp(z_1) + sp.exp(z_2))\n"
    "s_2 = sp.exp(z_2) / (sp.exp(z_1) + sp.exp(z_2))\n"
)
SMOOTH = (
    'z_given = np.array(nums["z"]).reshape(-1, 1)\n'
    'K, eps = z_given.shape[0], nums["eps"]\n'
    "y = np.zeros((K, 1))\n"
    'y[nums["c"], 0] = 1\n'
    "s = softmax_stable(z_given)\n"
    "y_smooth = (1 - eps) * y + eps / K\n"
)
HIDDEN3 = (
    'W3 = np.array(nums["W3"])\n'
    'z3 = np.array(nums["z3"]).reshape(-1, 1)\n'
    'z2 = np.array(nums["z2"]).reshape(-1, 1)\n'
    'y = np.eye(3)[:, [nums["c"]]]\n'
    "d3 = softmax_stable(z3) - y\n"
)
SHAPE = 'sz, l, m = nums["sizes"], nums["layer"], nums["m"]\n'
REL = "a, b = analytic_given, numeric_given\nd = np.abs(a - b)\n"
TANH_NODE = (
    "def tanh(self):\n"
    "    t = math.tanh(self.data)\n"
    '    return _unary(self, t, "tanh", {slope})\n\n\n'
    "Value.tanh = tanh\n"
)
NO_UPSTREAM = (
    "def tanh(self):\n"
    "    t = math.tanh(self.data)\n"
    '    out = Value(t, (self,), "tanh")\n\n'
    "    def _backward():\n"
    "        self.grad += 1.0 - t**2\n\n"
    "    out._backward = _backward\n"
    "    return out\n\n\n"
    "Value.tanh = tanh\n"
)
FD = (
    "n_w = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))\n"
    "n_b = sum(sizes[1:])\n"
)

GIVEN_AY = 'a_given, y_given = np.array(nums["a"]), np.array(nums["y"])\n'
WIDE = (
    'W = np.array(nums["W_next"])\n'
    'd = np.array(nums["delta_next"]).reshape(-1, 1)\n'
    'z = np.array(nums["z"]).reshape(-1, 1)\n'
)

CONV_SPREAD = (
    "def {name}({args}):\n"
    "    kh, kw = k.shape\n"
    "    spread = np.zeros(({shape}[0] - kh + 1, {shape}[1] - kw + 1))\n"
    "    spread[::stride, ::stride] = dy\n"
)
POOL = (
    "def maxpool_backward(dy, x, size, stride):\n"
    "    dx = np.zeros_like(x, dtype=float)\n"
    "    for i, j in np.ndindex(dy.shape):\n"
    "        window = x[stride * i:stride * i + size, stride * j:stride * j + size]\n"
    "        {route}\n"
    "    return dx\n"
)

MISTAKES: dict[str, list[tuple[str, str, str, str]]] = {
    "one-neuron-chain": [
        ("ex-111-sigmoid-slope", "check-ex-111-sigmoid-slope",
         'slope = nums["z"] * (1 - nums["z"])', "at a = z"),
        ("ex-111-sigmoid-slope", "check-ex-111-sigmoid-slope",
         'slope = 1 / (1 + np.exp(-nums["z"]))', "sigma(z) itself"),
        ("ex-111-sigmoid-slope", "check-ex-111-sigmoid-slope",
         's = 1 / (1 + np.exp(-nums["z"]))\nt = 1 / (1 + np.exp(-s))\nslope = t * (1 - t)',
         "taken at z, not at the activation"),
        ("ex-111-grad-w1", "check-ex-111-grad-w1", CHAIN
         + "sa1, sa2 = 1 / (1 + np.exp(-a1)), 1 / (1 + np.exp(-a2))\n"
         'dC_dw1 = 2 * (a2 - n["y"]) * sa2 * (1 - sa2) * n["w2"] * sa1 * (1 - sa1) * n["x"]',
         "taken at the activations"),
        ("ex-111-grad-w1", "check-ex-111-grad-w1", CHAIN
         + 'dC_dw1 = 2 * (a2 - n["y"]) * a2 * (1 - a2) * a1 * (1 - a1) * n["x"]',
         "the factor w2"),
        ("ex-111-grad-w1", "check-ex-111-grad-w1", CHAIN
         + 'dC_dw1 = 2 * (a2 - n["y"]) * a2 * (1 - a2) * n["w2"] * a1 * (1 - a1)',
         "the factor x (= dz1/dw1) is missing"),
        ("ex-111-grad-w1", "check-ex-111-grad-w1", CHAIN
         + 'dC_dw1 = 2 * (a2 - n["y"]) * a2 * (1 - a2) * a1', "that is dC/dw2"),
        ("ex-111-grad-w1", "check-ex-111-grad-w1", CHAIN
         + 'dC_dw1 = 2 * (n["y"] - a2) * a2 * (1 - a2) * n["w2"] * a1 * (1 - a1) * n["x"]',
         "opposite sign"),
        ("ex-111-sensitivity", "check-ex-111-sensitivity", CHAIN
         + 'dC_da1 = 2 * (a2 - n["y"]) * a2 * (1 - a2) * a1', "multiplied by a1"),
        ("ex-111-sensitivity", "check-ex-111-sensitivity", CHAIN
         + 'dC_da1 = 2 * (a2 - n["y"]) * a2 * (1 - a2)', "that is delta2"),
        ("ex-111-sensitivity", "check-ex-111-sensitivity", CHAIN
         + 'dC_da1 = 2 * (a2 - n["y"]) * a2 * (1 - a2) * n["w2"] * a1 * (1 - a1)',
         "one step too far"),
        ("ex-111-tanh-slope", "check-ex-111-tanh", "tanh_slope = 1 - sp.tanh(z)",
         "the square is missing"),
        ("ex-111-tanh-slope", "check-ex-111-tanh", "tanh_slope = sp.tanh(z) * (1 - sp.tanh(z))",
         "the sigmoid's slope"),
        ("ex-111-tanh-chain", "check-ex-111-tanh-2",
         "def grad_w1_tanh(w1, b1, w2, b2, x, y):\n"
         "    a1 = np.tanh(w1 * x + b1)\n"
         "    a2 = 1 / (1 + np.exp(-(w2 * a1 + b2)))\n"
         "    s1 = 1 / (1 + np.exp(-(w1 * x + b1)))\n"
         "    return 2 * (a2 - y) * a2 * (1 - a2) * w2 * s1 * (1 - s1) * x",
         "still the sigmoid's"),
        ('ex-111-backward', 'check-ex-111-backward-dC-dw2',
         'def backward_111(cache, w2, y):\n    """(dC/dw1, dC/db1, dC/dw2, dC/db2) for C = (a2 - y)^2, from the cache.\n\n    cache: {"x", "z1", "a1", "z2", "a2"}, numbers; w2, y: numbers.\n    """\n    a1, a2 = cache["a1"], cache["a2"]\n    delta2 = 2 * (a2 - y) * a2 * (1 - a2)\n    delta1 = delta2 * w2 * a1 * (1 - a1)\n    return delta1 * cache["x"], delta1, delta2 * a2, delta2',
         'not a2'),
        ('ex-111-backward', 'check-ex-111-backward-dC-dw1',
         'def backward_111(cache, w2, y):\n    """(dC/dw1, dC/db1, dC/dw2, dC/db2) for C = (a2 - y)^2, from the cache.\n\n    cache: {"x", "z1", "a1", "z2", "a2"}, numbers; w2, y: numbers.\n    """\n    a1, a2 = cache["a1"], cache["a2"]\n    delta2 = 2 * (a2 - y) * a2 * (1 - a2)\n    delta1 = delta2 * w2\n    return delta1 * cache["x"], delta1, delta2 * a1, delta2',
         "factor sigma'(z1) is missing"),
        ('ex-111-derive', 'check-ex-111-derive',
         'dC_dw2_formula = "(a2 - y)*a2*(1 - a2)*a1"\ndC_dw1_formula = "2*(a2 - y)*a2*(1 - a2)*w2*a1*(1 - a1)*x"',
         'the factor 2 (from the square) is missing'),
        ('ex-111-derive', 'check-ex-111-derive-2',
         'dC_dw2_formula = "2*(a2 - y)*a2*(1 - a2)*a1"\ndC_dw1_formula = "2*(a2 - y)*a2*(1 - a2)*w2*x"',
         "sigma'(z1) = a1*(1 - a1) is missing"),
    ],
    "two-two-two": [
        ("ex-222-dw2-21", "check-ex-222-dw2-21",
         'dC_dW2_21 = nums["delta2"][0] * nums["a1"][1]', "that is dC/dW^(2)_12"),
        ("ex-222-dw2-21", "check-ex-222-dw2-21",
         'dC_dW2_21 = nums["delta2"][1] * nums["x"][0]', "you used the input x"),
        ("ex-222-dw2-21", "check-ex-222-dw2-21", 'dC_dW2_21 = nums["delta2"][1]',
         "the delta alone"),
        ("ex-222-delta1", "check-ex-222-delta1", DELTA1
         + "delta1_answer = (W2_given @ d2) * s * (1 - s)", "the transpose is missing"),
        ("ex-222-delta1", "check-ex-222-delta1", DELTA1
         + "t = bb.sigmoid(s)\ndelta1_answer = (W2_given.T @ d2) * t * (1 - t)",
         "taken at the activation"),
        ("ex-222-delta1", "check-ex-222-delta1", DELTA1 + "delta1_answer = W2_given.T @ d2",
         "the factor sigma'(z^(1)) is missing"),
        ("ex-222-delta1", "check-ex-222-delta1", DELTA1 + "delta1_answer = (W2_given.T @ d2) * s",
         "you multiplied by sigma(z^(1))"),
        ("ex-222-paths", "check-ex-222-paths", "def paths(n, L):\n    return n ** L",
         "free choice in layer 1 too"),
        ("ex-222-paths", "check-ex-222-paths", "def paths(n, L):\n    return n * (L - 1)",
         "they do not add"),
        ("ex-222-paths", "check-ex-222-paths",
         "def paths(n, L):\n    return n ** (L - 2) if L >= 2 else 1", "one too few"),
        ("ex-222-update", "check-ex-222-update",
         "right_rule = next(k for k, r in ex.update_rules().items() if r is ex.rule_sign)",
         "(y - a) in the output delta"),
        ("ex-222-update", "check-ex-222-update", "right_rule = next(k for k, r in "
         "ex.update_rules().items() if r is ex.rule_no_transpose)", "without the transpose"),
        ('ex-222-backward', 'check-ex-222-backward-dW2',
         'def backward_222(params, cache, y):\n    """[(dW1, db1), (dW2, db2)] for one sample; every vector a (2, 1) column."""\n    W2 = params[1][0]\n    x, a1, a2 = cache.as_\n    delta2 = (a2 - y) * a2 * (1 - a2)\n    delta1 = (W2.T @ delta2) * a1 * (1 - a1)\n    return [(delta1 @ x.T, delta1), (delta2 @ a2.T, delta2)]',
         "the wrong layer's activation"),
        ('ex-222-backward', 'check-ex-222-backward-dW1',
         'def backward_222(params, cache, y):\n    """[(dW1, db1), (dW2, db2)] for one sample; every vector a (2, 1) column."""\n    W2 = params[1][0]\n    x, a1, a2 = cache.as_\n    delta2 = (a2 - y) * a2 * (1 - a2)\n    delta1 = (W2 @ delta2) * a1 * (1 - a1)\n    return [(delta1 @ x.T, delta1), (delta2 @ a1.T, delta2)]',
         'the transpose is missing'),
        ('ex-222-derive', 'check-ex-222-derive',
         'dW1_12_formula = "(a2_1 - y_1)*a2_1*(1 - a2_1)*W2_11*a1_1*(1 - a1_1)*x_2"',
         'only the path through output neuron 1'),
    ],
    "softmax-four-layer": [
        ("ex-softmax-jacobian2", "check-ex-softmax-jacobian2", SOFTMAX2
         + "J2 = sp.Matrix([[s_1 * (1 - s_1), 0], [0, s_2 * (1 - s_2)]])",
         "only the diagonal"),
        ("ex-softmax-jacobian2", "check-ex-softmax-jacobian2", SOFTMAX2
         + "J2 = sp.Matrix([[s_1 * (1 - s_1), s_1 * s_2], [s_1 * s_2, s_2 * (1 - s_2)]])",
         "the off-diagonal entries have the wrong sign"),
        ("ex-softmax-jacobian2", "check-ex-softmax-jacobian2", SOFTMAX2
         + "J2 = sp.diag(s_1, s_2)", "diag(s) alone"),
        ("ex-softmax-jacobian2", "check-ex-softmax-jacobian2", SOFTMAX2
         + "J2 = -sp.Matrix([[s_1 * s_2, -s_1 * s_2], [-s_1 * s_2, s_1 * s_2]])",
         "the whole matrix has the opposite sign"),
        ("ex-softmax-smoothing", "check-ex-softmax-smoothing", SMOOTH
         + "dC_dz_smooth = s - y", "s - y for the one-hot y"),
        ("ex-softmax-smoothing", "check-ex-softmax-smoothing", SMOOTH
         + "dC_dz_smooth = -y_smooth / s", "the gradient before the softmax"),
        ("ex-softmax-smoothing", "check-ex-softmax-smoothing", SMOOTH
         + "dC_dz_smooth = s - np.where(y == 1, 1 - eps, eps / (K - 1))",
         "over the K - 1 wrong classes"),
        ("ex-softmax-smoothing", "check-ex-softmax-smoothing", SMOOTH
         + "dC_dz_smooth = (s - y_smooth) * s * (1 - s)", "entry by entry"),
        ("ex-softmax-hidden-delta", "check-ex-softmax-hidden-delta", HIDDEN3
         + "delta2_answer = (W3 @ d3) * bb.sigmoid_prime(z2)", "the transpose is missing"),
        ("ex-softmax-hidden-delta", "check-ex-softmax-hidden-delta", HIDDEN3
         + "delta2_answer = (W3.T @ d3) * bb.sigmoid_prime(bb.sigmoid(z2))",
         "taken at the activation"),
        ("ex-softmax-hidden-delta", "check-ex-softmax-hidden-delta", HIDDEN3
         + "delta2_answer = W3.T @ d3", "the factor sigma'(z^(2)) is missing"),
        ("ex-softmax-hidden-delta", "check-ex-softmax-hidden-delta", HIDDEN3
         + "delta2_answer = (W3.T @ d3) * bb.sigmoid(z2)", "you multiplied by sigma(z^(2))"),
        ("ex-softmax-hidden-delta", "check-ex-softmax-hidden-delta", HIDDEN3
         + "s = softmax_stable(z3)\n"
         "delta2_answer = (W3.T @ (-(1 - s) * y)) * bb.sigmoid_prime(z2)",
         "only the diagonal of the softmax Jacobian"),
        ("ex-softmax-lse", "check-ex-softmax-lse", 'lse_answer = max(nums["z"])',
         "the largest logit alone"),
        ("ex-softmax-lse", "check-ex-softmax-lse",
         'z_l = np.array(nums["z"])\nlse_answer = np.log(np.sum(np.exp(z_l - z_l.max())))',
         "forgot to add the max back"),
        ("ex-softmax-lse", "check-ex-softmax-lse",
         'import warnings\nwarnings.simplefilter("ignore")\n'
         'lse_answer = np.log(np.sum(np.exp(np.array(nums["z"]))))', "overflows float64"),
        ('ex-softmax-backward', 'check-ex-softmax-backward-dW3',
         'def backward_4(params, cache, y):\n    """[(dW1, db1), (dW2, db2), (dW3, db3)] for one sample; vectors are columns."""\n    a = cache.as_\n    delta = a[3] - y\n    grads = [None, None, None]\n    for layer in (3, 2, 1):\n        grads[layer - 1] = (delta @ a[layer - 1 if layer < 3 else 3].T, delta)\n        if layer > 1:\n            a_prev = a[layer - 1]\n            delta = (params[layer - 1][0].T @ delta) * a_prev * (1 - a_prev)\n    return grads',
         "the wrong layer's activation"),
        ('ex-softmax-backward', 'check-ex-softmax-backward-dW1',
         'def backward_4(params, cache, y):\n    """[(dW1, db1), (dW2, db2), (dW3, db3)] for one sample; vectors are columns."""\n    a = cache.as_\n    delta = (a[3] - y) * a[3] * (1 - a[3])\n    grads = [None, None, None]\n    for layer in (3, 2, 1):\n        grads[layer - 1] = (delta @ a[layer - 1].T, delta)\n        if layer > 1:\n            a_prev = a[layer - 1]\n            delta = (params[layer - 1][0].T @ delta) * a_prev * (1 - a_prev)\n    return grads',
         's(1 - s)'),
        ('ex-softmax-derive', 'check-ex-softmax-derive',
         'dC_dz1_formula = "-y_1/s_1"',
         'that is dC/ds_1'),
    ],
    "batched-backprop": [
        ("ex-batch-bias-grad", "check-ex-batch-bias-grad", "db = Delta.sum(axis=0)",
         "summed down each column"),
        ("ex-batch-bias-grad", "check-ex-batch-bias-grad", "db = Delta.sum(axis=1)",
         "use .reshape(-1, 1)"),
        ("ex-batch-bias-grad", "check-ex-batch-bias-grad",
         "db = Delta.mean(axis=1, keepdims=True)", "the 1/m is applied twice"),
        ("ex-batch-bias-grad", "check-ex-batch-bias-grad", "db = Delta",
         "One column per sample"),
        ("ex-batch-grad-shape", "check-ex-batch-grad-shape", SHAPE
         + "shape_dW = (sz[l - 1], sz[l])", "that is transposed"),
        ("ex-batch-grad-shape", "check-ex-batch-grad-shape", SHAPE
         + "shape_dW = (sz[l], m)", "that is the shape of Delta"),
        ("ex-batch-grad-shape", "check-ex-batch-grad-shape", SHAPE
         + "shape_dW = (sz[l - 1], m)", "that is the shape of A^("),
        ("ex-batch-grad-shape", "check-ex-batch-grad-shape", SHAPE
         + "shape_dW = (m, sz[l], sz[l - 1])", "one matrix per sample"),
        ("ex-batch-weight-grad", "check-ex-batch-weight-grad",
         "dW = np.outer(D.mean(axis=1), A_prev.mean(axis=1))", "the product of the means"),
        ("ex-batch-weight-grad", "check-ex-batch-weight-grad",
         "dW = np.outer(D[:, 0], A_prev[:, 0])", "only the first sample"),
        ("ex-batch-weight-grad", "check-ex-batch-weight-grad", "dW = D @ A_prev.T",
         "the 1/m of the mean is missing"),
        ("ex-batch-l2-grad", "check-ex-batch-l2-grad", "dW_reg = lam_given * W",
         "the data gradient dW_data is missing"),
        ("ex-batch-l2-grad", "check-ex-batch-l2-grad", "dW_reg = dW_data + 2 * lam_given * W",
         "twice too large"),
        ("ex-batch-l2-grad", "check-ex-batch-l2-grad", "dW_reg = dW_data + 0.5 * lam_given * W",
         "half the right size"),
        ("ex-batch-l2-grad", "check-ex-batch-l2-grad", "dW_reg = dW_data - lam_given * W",
         "the wrong sign"),
        ("ex-batch-l2-grad", "check-ex-batch-l2-grad",
         'dW_reg = dW_data + lam_given * W / nums["m"]', "is divided by m"),
        ("ex-batch-l2-grad", "check-ex-batch-l2-grad",
         "dW_reg = dW_data + lam_given * np.sign(W)", "the L1 penalty"),
        ('ex-batch-derive', 'check-ex-batch-derive',
         'dC_db_formula = "(a_1 - y_1)*a_1*(1 - a_1) + (a_2 - y_2)*a_2*(1 - a_2)"',
         '1/m = 1/2'),
        ('ex-batch-find-bug', 'check-ex-batch-find-bug',
         'bug_at = "dW1"',
         'dW1 is not it'),
    ],
    "checking-gradients": [
        ("ex-checking-gradients-relative-error", "check-ex-checking-gradients-relative-error",
         REL + "rel = np.max(d / (np.abs(a) + np.abs(b)))", "(|a_i| + |b_i|)"),
        ("ex-checking-gradients-relative-error", "check-ex-checking-gradients-relative-error",
         REL + "rel = np.max(d / np.maximum(np.abs(a), np.abs(b)))", "max(|a_i|, |b_i|)"),
        ("ex-checking-gradients-relative-error", "check-ex-checking-gradients-relative-error",
         REL + "rel = np.max(d)", "the absolute error"),
        ("ex-checking-gradients-relative-error", "check-ex-checking-gradients-relative-error",
         REL + "rel = np.max(d) / np.max(np.abs(a))", "only one array"),
    ],
    "autodiff": [
        ("ex-autodiff-tanh-node", "check-ex-autodiff-tanh-node",
         TANH_NODE.format(slope="1.0 - t"), "without the square"),
        ("ex-autodiff-tanh-node", "check-ex-autodiff-tanh-node",
         TANH_NODE.format(slope="1.0 - self.data**2"), "the node's INPUT"),
        ("ex-autodiff-tanh-node", "check-ex-autodiff-tanh-node", NO_UPSTREAM,
         "not multiplied by out.grad"),
        ("ex-autodiff-paths-meet", "check-ex-autodiff-paths-meet", "dfdx = x_given",
         "instead of `+=`"),
        ("ex-autodiff-paths-meet", "check-ex-autodiff-paths-meet", "dfdx = 2 * x_given",
         "the direct edge"),
        ("ex-autodiff-paths-meet", "check-ex-autodiff-paths-meet", "dfdx = x_given + 1",
         "uses x twice"),
        ("ex-autodiff-paths-meet", "check-ex-autodiff-paths-meet", "dfdx = 1.0",
         "only the direct path"),
        ("ex-autodiff-fd-passes", "check-ex-autodiff-fd-passes", FD + "passes = n_w + n_b",
         "one evaluation per parameter"),
        ("ex-autodiff-fd-passes", "check-ex-autodiff-fd-passes", FD + "passes = n_w + n_b + 1",
         "one-sided (forward) differences"),
        ("ex-autodiff-fd-passes", "check-ex-autodiff-fd-passes", FD + "passes = 2 * n_w",
         "the biases are parameters too"),
        ("ex-autodiff-fd-passes", "check-ex-autodiff-fd-passes", FD + "passes = n_w",
         "forgets the biases"),
        ("ex-autodiff-fd-passes", "check-ex-autodiff-fd-passes", "passes = 2",
         "what backpropagation needs"),
        ('ex-autodiff-div-node', 'check-ex-autodiff-div-node',
         'def div(self, other):\n    """x / y as one node: x is self, y is other (both Values)."""\n    out = Value(self.data / other.data, (self, other), "/")\n\n    def _backward():\n        self.grad = out.grad / other.data\n        other.grad += -self.data / other.data**2 * out.grad\n\n    out._backward = _backward\n    return out',
         '`=`'),
        ('ex-autodiff-backward', 'check-ex-autodiff-backward',
         'def backward_topo(root):\n    """Set .grad of root and of every Value below it."""\n    order, seen = [], set()\n\n    def visit(v):\n        if v not in seen:\n            seen.add(v)\n            for parent in v._prev:\n                visit(parent)\n            order.append(v)\n\n    visit(root)\n    root.grad = 1.0\n    for v in order:\n        v._backward()',
         'every gradient is 0'),
    ],
    "any-width-any-depth": [
        ("ex-general-no-half", "check-ex-general-no-half", GIVEN_AY
         + "delta_no_half = (a_given - y_given).reshape(-1, 1)", "the 2 of the square stays"),
        ("ex-general-no-half", "check-ex-general-no-half", GIVEN_AY
         + "delta_no_half = ((a_given - y_given) ** 2).reshape(-1, 1)",
         "the cost's terms themselves"),
        ("ex-general-wide-step", "check-ex-general-wide-step", WIDE
         + "delta_wide = W.T @ d", "one more step takes it to z"),
        ("ex-general-wide-step", "check-ex-general-wide-step", WIDE
         + "delta_wide = (W.T @ d) * (1 - z**2)", "with the tanh inside the square"),
        ("ex-general-wide-step", "check-ex-general-wide-step", WIDE
         + "delta_wide = (W.T @ d) * np.tanh(z)", "the activation; the factor is its slope"),
        ('ex-general-derive', 'check-ex-general-derive',
         'delta_formula = "(W_11*d_1 + W_12*d_2)*(1 - t_1**2)"',
         'the transpose'),
        ('ex-general-find-bug', 'check-ex-general-find-bug',
         'bug_at = "dW1"',
         'dW1 is not it'),
    ],
    "making-deep-networks-train": [
        ("ex-deep-init-scale", "check-ex-deep-init-scale",
         'sd_w = math.sqrt(2 / nums["n_in"])', "made for ReLU"),
        ("ex-deep-init-scale", "check-ex-deep-init-scale",
         'sd_w = 1 / nums["n_in"]', "the standard deviation is its square root"),
        ("ex-deep-lr-limit", "check-ex-deep-lr-limit",
         'eta_max = 1 / nums["lambda_max"]', "lands exactly on the minimum"),
        ("ex-deep-lr-limit", "check-ex-deep-lr-limit",
         'eta_max = 2 * nums["lambda_max"]', "DIVIDED by the curvature"),
        ("ex-deep-momentum", "check-ex-deep-momentum",
         "def momentum_update(w, v, g, eta, beta):\n"
         "    v_new = beta * v + g\n"
         "    return w + eta * v_new, v_new", "climbs uphill"),
        ("ex-deep-momentum", "check-ex-deep-momentum",
         "def momentum_update(w, v, g, eta, beta):\n"
         "    return w - eta * v, beta * v + g", "the OLD velocity"),
        ("ex-deep-adam", "check-ex-deep-adam",
         "m_new = beta1 * m + (1 - beta1) * g\n"
         "s_new = beta2 * s + (1 - beta2) * g**2\n"
         "w_next = w - eta * m_new / (np.sqrt(s_new) + eps)", "WITHOUT the bias correction"),
        ("ex-deep-adam", "check-ex-deep-adam",
         "m_new = beta1 * m + (1 - beta1) * g\n"
         "s_new = beta2 * s + (1 - beta2) * g**2\n"
         "m_hat, s_hat = m_new / (1 - beta1**t), s_new / (1 - beta2**t)\n"
         "w_next = w - eta * m_hat / np.sqrt(s_hat + eps)", "epsilon went inside"),
        ("ex-deep-choose-lambda", "check-ex-deep-choose-lambda",
         'lam_pick = nums["lambdas"][int(np.argmin(nums["test"]))]', "chosen on the TEST set"),
        ("ex-deep-choose-lambda", "check-ex-deep-choose-lambda",
         'lam_pick = nums["lambdas"][int(np.argmin(nums["train"]))]', "lowest TRAINING loss"),
        ('ex-deep-adam-code', 'check-ex-deep-adam-code-w-new',
         'def adam_update(w, g, m, s, t, eta, beta1, beta2, eps):\n    """(w_new, m_new, s_new) after step t of Adam; all arrays of w\'s shape."""\n    m_new = beta1 * m + (1 - beta1) * g\n    s_new = beta2 * s + (1 - beta2) * g**2\n    m_hat, s_hat = m_new / (1 - beta1**t), s_new / (1 - beta2**t)\n    return w - eta * m_hat / np.sqrt(s_hat + eps), m_new, s_new',
         'inside the square root'),
        ('ex-deep-derive', 'check-ex-deep-derive',
         'penalized_formula = "g + 2*lam*w"',
         'twice too large'),
    ],
    "transformer-block": [
        ("ex-attn-embedding", "check-ex-attn-embedding",
         'dE_answer = np.zeros((nums["V"], 3))\n'
         'dE_answer[np.array(nums["tokens"])] = np.array(nums["dX"])',
         "overwritten, not added"),
        ("ex-attn-weight-derivative", "check-ex-attn-weight-derivative",
         'dp1_dq = "p1 * (1 - p1) * k1 / sqrt(d)"', "only the path through s1"),
        ("ex-attn-weight-derivative", "check-ex-attn-weight-derivative",
         'dp1_dq = "p1 * p2 * (k1 - k2)"', "1/sqrt(d) is missing"),
        ("ex-attn-softmax-jvp", "check-ex-attn-softmax-jvp",
         "def softmax_rows_jvp(P, dP):\n"
         "    return P * (dP - np.sum(dP * P, axis=-2, keepdims=True))", "down the columns"),
        ("ex-attn-softmax-jvp", "check-ex-attn-softmax-jvp",
         "def softmax_rows_jvp(P, dP):\n"
         "    return P * (1 - P) * dP", "only the diagonal"),
        ("ex-attn-backward", "check-ex-attn-backward",
         "def causal_attention(Q, K, V, dO):\n"
         "    T, scale = Q.shape[-2], 1 / np.sqrt(Q.shape[-1])\n"
         "    P = np.where(causal_mask(T), 0.0, softmax_rows(Q @ K.swapaxes(-1, -2) * scale))\n"
         "    dP = dO @ V.swapaxes(-1, -2)\n"
         "    dS = P * (dP - np.sum(dP * P, axis=-1, keepdims=True))\n"
         "    dQ, dK = dS @ K * scale, dS.swapaxes(-1, -2) @ Q * scale\n"
         "    return P @ V, dQ, dK, P.swapaxes(-1, -2) @ dO", "AFTER the softmax"),
        ("ex-attn-backward", "check-ex-attn-backward",
         "def causal_attention(Q, K, V, dO):\n"
         "    T, scale = Q.shape[-2], 1 / np.sqrt(Q.shape[-1])\n"
         "    P = softmax_rows(np.where(causal_mask(T), -np.inf, Q @ K.swapaxes(-1, -2) * scale))\n"
         "    dP = dO @ V.swapaxes(-1, -2)\n"
         "    dS = P * (dP - np.sum(dP * P, axis=-1, keepdims=True))\n"
         "    dQ, dK = dS @ K * scale, dS @ Q * scale\n"
         "    return P @ V, dQ, dK, P.swapaxes(-1, -2) @ dO", "dK is missing a transpose"),
    ],
    "deep-networks-that-train": [
        ("ex-resnorm-bn-backward", "check-ex-resnorm-bn-backward",
         "def batch_norm_backward(dY, X, gamma, eps):\n"
         "    mean = X.mean(axis=1, keepdims=True)\n"
         "    inv = 1 / np.sqrt(X.var(axis=1, keepdims=True) + eps)\n"
         "    x_hat = (X - mean) * inv\n"
         "    g = gamma * dY\n"
         "    dX = inv * (g - x_hat * (g * x_hat).mean(axis=1, keepdims=True))\n"
         "    return dX, (dY * x_hat).sum(axis=1, keepdims=True), dY.sum(axis=1, keepdims=True)", "treats the batch mean as a constant"),
        ("ex-resnorm-bn-backward", "check-ex-resnorm-bn-backward",
         "def batch_norm_backward(dY, X, gamma, eps):\n"
         "    mean = X.mean(axis=1, keepdims=True)\n"
         "    inv = 1 / np.sqrt(X.var(axis=1, ddof=1, keepdims=True) + eps)\n"
         "    x_hat = (X - mean) * inv\n"
         "    g = gamma * dY\n"
         "    dX = inv * (g - g.mean(axis=1, keepdims=True) - x_hat * (g * x_hat).mean(axis=1, keepdims=True))\n"
         "    return dX, (dY * x_hat).sum(axis=1, keepdims=True), dY.sum(axis=1, keepdims=True)", "1/(m - 1)"),
        ("ex-resnorm-checkpoint", "check-ex-resnorm-checkpoint",
         'peak_bytes = nums["r"] * nums["L"] * nums["m"] * nums["n"] * 8', "plain backward"),
        ("ex-resnorm-checkpoint", "check-ex-resnorm-checkpoint",
         'peak_bytes = (nums["L"] // nums["k"] + nums["r"] * nums["k"] - 1) * nums["m"] * nums["n"] * 4',
         "float32"),
        ("ex-resnorm-clip", "check-ex-resnorm-clip",
         'g_clipped = np.clip(np.asarray(nums["g"]), -nums["tau"], nums["tau"])', "clipping by value"),
        ("ex-resnorm-clip", "check-ex-resnorm-clip",
         'g_clipped = np.asarray(nums["g"]) / np.linalg.norm(nums["g"])', "unit vector"),
    ],
    "convolution": [
        ("ex-conv-output-size", "check-ex-conv-output-size",
         'n_out = (nums["size"] - nums["kernel"]) // nums["stride"] + 1', "padding is left out"),
        ("ex-conv-output-size", "check-ex-conv-output-size",
         'n_out = -(-(nums["size"] + 2 * nums["padding"] - nums["kernel"]) // nums["stride"]) + 1',
         "rounded up"),
        ("ex-conv-output-size", "check-ex-conv-output-size",
         'n_out = (nums["size"] + 2 * nums["padding"] - nums["kernel"]) // nums["stride"]',
         "+ 1 is missing"),
        ("ex-conv-input-grad", "check-ex-conv-input-grad", CONV_SPREAD.format(
            name="input_grad", args="dy, k, x_shape, stride", shape="x_shape")
         + "    padded = np.pad(spread, ((kh - 1, kh - 1), (kw - 1, kw - 1)))\n"
         "    return conv.correlate(padded, k)", "not flipped"),
        ("ex-conv-input-grad", "check-ex-conv-input-grad",
         "def input_grad(dy, k, x_shape, stride):\n"
         "    return conv.convolve(dy, k, 'full')", "stride is ignored"),
        ("ex-conv-kernel-grad", "check-ex-conv-kernel-grad", CONV_SPREAD.format(
            name="kernel_grad", args="dy, x, kernel_shape, stride", shape="x.shape")
         .replace("kh, kw = k.shape", "kh, kw = kernel_shape")
         + "    return conv.correlate(x, spread)[::-1, ::-1]", "turned 180 degrees"),
        ("ex-conv-maxpool-backward", "check-ex-conv-maxpool-backward", POOL.format(
            route="dx[stride * i:stride * i + size, stride * j:stride * j + size] += "
                  "dy[i, j] * (window == window.max())"), "every maximum"),
        ("ex-conv-maxpool-backward", "check-ex-conv-maxpool-backward", POOL.format(
            route="r, c = np.unravel_index(np.argmax(window), window.shape)\n"
                  "        dx[stride * i + r, stride * j + c] = dy[i, j]"), "must ADD"),
    ],
}
