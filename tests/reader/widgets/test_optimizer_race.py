"""OptimizerRace in Python: validation at the edge, and the kernel path publishing race's paths.

The paths are checked against an independent NumPy implementation of the three update
rules written here (and, where installed, against torch.optim).
"""

from __future__ import annotations

import numpy as np
import pytest
import traitlets

from backprop_book.widgets.optimizer_race import OptimizerRace, checked_hessian, checked_paths

H = [[4.0, 1.5], [1.5, 2.0]]


def independent_paths(H, start, eta, beta, steps):
    """The three paths, written out here with no code shared with the book."""
    H = np.asarray(H)
    out = {k: [np.asarray(start, dtype=float)] for k in ("gd", "momentum", "adam")}
    v = m = s = np.zeros(2)
    for t in range(1, steps + 1):
        out["gd"].append(out["gd"][-1] - eta * H @ out["gd"][-1])
        v = beta * v + H @ out["momentum"][-1]
        out["momentum"].append(out["momentum"][-1] - eta * v)
        g = H @ out["adam"][-1]
        m, s = beta * m + (1 - beta) * g, 0.999 * s + 0.001 * g * g
        step = eta * (m / (1 - beta**t)) / (np.sqrt(s / (1 - 0.999**t)) + 1e-8)
        out["adam"].append(out["adam"][-1] - step)
    return {k: np.array(p).tolist() for k, p in out.items()}


def race(eta, beta, start, steps):
    return independent_paths(H, start, eta, beta, steps)


def test_kernel_publishes_race_for_the_current_values():
    w = OptimizerRace(race, hessian=H, start=[-2.0, 1.0], eta=0.1, beta=0.5, steps=10)
    assert w.kernel["inputs"] == {"eta": 0.1, "beta": 0.5, "start": [-2.0, 1.0], "steps": 10}
    np.testing.assert_allclose(w.kernel["paths"]["adam"],
                               independent_paths(H, [-2.0, 1.0], 0.1, 0.5, 10)["adam"])
    w.eta = 0.05
    assert w.kernel["inputs"]["eta"] == 0.05
    np.testing.assert_allclose(w.kernel["paths"]["momentum"],
                               independent_paths(H, [-2.0, 1.0], 0.05, 0.5, 10)["momentum"])
    w.steps = 3
    assert len(w.kernel["paths"]["gd"]) == 4


def test_without_a_race_function_only_the_front_end_computes():
    w = OptimizerRace(hessian=H, start=[1.0, 1.0])
    assert w.kernel == {}


def test_paths_converge_where_theory_says():
    lam_max = np.linalg.eigvalsh(H)[-1]
    ok = independent_paths(H, [1.0, -1.0], 0.99 * 2 / lam_max, 0.0, 100)["gd"][-1]
    bad = independent_paths(H, [1.0, -1.0], 1.01 * 2 / lam_max, 0.0, 100)["gd"][-1]
    assert np.linalg.norm(ok) < 1 < np.linalg.norm(bad)


@pytest.mark.parametrize(
    ("kwargs", "says"),
    [
        ({"hessian": [[1.0, 2.0], [0.0, 1.0]]}, "symmetric"),
        ({"hessian": [[1.0, 0.0], [0.0, -1.0]]}, "positive definite"),
        ({"hessian": [[1.0, 0.0, 0.0]]}, "2 x 2"),
        ({"start": [1.0, float("nan")]}, "finite"),
        ({"start": [1.0]}, "two finite numbers"),
        ({"eta": 0.0}, "eta must lie in (0.0, 1.0]"),
        ({"eta": 2.0}, "eta must lie"),
        ({"beta": 1.0}, "beta must lie in [0.0, 1.0)"),
        ({"steps": 0}, "steps must be in 1..100"),
    ],
)
def test_bad_input_is_refused_with_a_message(kwargs, says):
    args = {"hessian": H, "start": [1.0, 1.0], **kwargs}
    with pytest.raises((ValueError, TypeError, traitlets.TraitError)) as info:
        OptimizerRace(race, **args)
    assert says in str(info.value), str(info.value)


def test_race_must_be_callable():
    with pytest.raises(TypeError, match="race must be a function"):
        OptimizerRace("race", hessian=H, start=[1.0, 1.0])


def test_a_wrong_race_result_is_named():
    with pytest.raises(ValueError, match="missing: adam"):
        checked_paths({"gd": [[0, 0]], "momentum": [[0, 0]]}, 0)
    with pytest.raises(ValueError, match=r"shape \(3, 2\); expected \(2, 2\)"):
        checked_paths({k: [[0, 0]] * 3 for k in ("gd", "momentum", "adam")}, 1)
    with pytest.raises(ValueError, match="not finite at step 1"):
        checked_paths({k: [[0, 0], [np.inf, 0]] for k in ("gd", "momentum", "adam")}, 1)
    assert checked_hessian(np.eye(2) * 3) == [[3.0, 0.0], [0.0, 3.0]]


def test_independent_paths_match_torch_optim():
    torch = pytest.importorskip("torch")
    Ht = torch.tensor(H, dtype=torch.float64)
    ours = independent_paths(H, [-2.0, 1.0], 0.1, 0.7, 5)
    for key, make in {"gd": lambda p: torch.optim.SGD(p, lr=0.1),
                      "momentum": lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.7),
                      "adam": lambda p: torch.optim.Adam(p, lr=0.1, betas=(0.7, 0.999), eps=1e-8)}.items():
        w = torch.tensor([-2.0, 1.0], dtype=torch.float64, requires_grad=True)
        opt = make([w])
        for _ in range(5):
            opt.zero_grad()
            (w @ Ht @ w / 2).backward()
            opt.step()
        np.testing.assert_allclose(ours[key][-1], w.detach().numpy(), rtol=1e-12)
