"""How fast is the book's backprop? A benchmark, not a test: `make bench`.

Times one forward + backward pass of a 784-128-64-10 network (sigmoid, sigmoid,
softmax + cross-entropy, float64) four ways, for the same shapes:

- ``vectorized``: the book's reference ``loss_and_grads`` on the whole batch at once;
- ``per-sample loop``: the same function called once per sample, gradients averaged;
- ``matmul floor``: only the matrix multiplications a forward and backward pass need
  (three forward, five backward), nothing else: no implementation can beat it by much;
- ``torch autograd``: PyTorch on the CPU, when it is installed (optional).

It prints a table and the ratios, with the machine they came from, and writes them to
``_build/bench.json``. Numbers quoted in the book come from a run of this script.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import timeit
from pathlib import Path

import numpy as np

from backprop_book import init_params, loss_and_grads

ROOT = Path(__file__).resolve().parent.parent
SIZES = [784, 128, 64, 10]
ACTIVATIONS = ["sigmoid", "sigmoid", "softmax"]
COST = "cross_entropy"


def batch(m: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random inputs X (784, m) and one-hot targets Y (10, m); samples are columns."""
    rng = np.random.default_rng(seed)
    X = rng.random((SIZES[0], m))
    Y = np.eye(SIZES[-1])[:, rng.integers(0, SIZES[-1], m)]
    return X, Y


def vectorized(params, X, Y):
    return loss_and_grads(params, X, Y, ACTIVATIONS, COST)


def per_sample(params, X, Y):
    m = X.shape[1]
    total = [(np.zeros_like(W), np.zeros_like(b)) for W, b in params]
    for i in range(m):
        _, grads = loss_and_grads(params, X[:, i : i + 1], Y[:, i : i + 1], ACTIVATIONS, COST)
        for (tW, tb), (dW, db) in zip(total, grads, strict=True):
            tW += dW / m
            tb += db / m
    return total


def matmul_floor(params, X, Y):
    """The eight matrix products of one forward and backward pass, on arrays of the right shapes."""
    (W1, _), (W2, _), (W3, _) = params
    A1 = W1 @ X
    A2 = W2 @ A1
    D3 = W3 @ A2
    dW3 = D3 @ A2.T
    D2 = W3.T @ D3
    dW2 = D2 @ A1.T
    D1 = W2.T @ D2
    dW1 = D1 @ X.T
    return dW1, dW2, dW3


def torch_autograd():
    try:
        import torch
    except ImportError:
        return None

    def run(params, X, Y):
        ps = [
            (torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True))
            for W, b in params
        ]
        A = torch.from_numpy(X)
        for (W, b), name in zip(ps, ACTIVATIONS, strict=True):
            Z = W @ A + b
            A = torch.sigmoid(Z) if name == "sigmoid" else Z
        C = -(torch.from_numpy(Y) * torch.log_softmax(A, dim=0)).sum() / X.shape[1]
        C.backward()
        return [(W.grad, b.grad) for W, b in ps]

    return run, torch.__version__


def seconds(fn, params, X, Y, budget: float) -> float:
    """Best time per call in seconds (best of 5 repeats, each long enough to be measured)."""
    timer = timeit.Timer(lambda: fn(params, X, Y))
    number, elapsed = timer.autorange()
    number = max(1, int(number * budget / max(elapsed, 1e-9) / 5))
    return min(timer.repeat(repeat=5, number=number)) / number


def machine() -> dict:
    info = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    blas = np.show_config(mode="dicts").get("Build Dependencies", {}).get("blas", {})
    info["blas"] = f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    return info


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 16, 64, 256, 1024])
    parser.add_argument("--budget", type=float, default=0.5, help="seconds of timing per cell")
    args = parser.parse_args()

    params = init_params(SIZES, seed=0)
    contenders = {
        "vectorized": vectorized,
        "per-sample loop": per_sample,
        "matmul floor": matmul_floor,
    }
    torch_run = torch_autograd()
    if torch_run:
        contenders["torch autograd"] = torch_run[0]
    info = machine() | {"torch": torch_run[1] if torch_run else None}

    rows = []
    for m in args.batch:
        X, Y = batch(m)
        times = {name: seconds(fn, params, X, Y, args.budget) for name, fn in contenders.items()}
        rows.append({"batch": m, "ms": {k: v * 1e3 for k, v in times.items()}})
        cells = "  ".join(f"{k} {v * 1e3:9.3f} ms" for k, v in times.items())
        print(f"m={m:5d}  {cells}", flush=True)

    print(f"\nmachine: {info}")
    print("ratios (time / vectorized time):")
    for row in rows:
        base = row["ms"]["vectorized"]
        ratios = {k: v / base for k, v in row["ms"].items() if k != "vectorized"}
        row["ratio_to_vectorized"] = ratios
        print(f"  m={row['batch']:5d}  " + "  ".join(f"{k} {v:6.2f}x" for k, v in ratios.items()))
    out = ROOT / "_build" / "bench.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"network": SIZES, "machine": info, "rows": rows}, indent=2))
    print(f"\nwritten to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
