"""How fast is the book's backprop? A benchmark, not a test: `make bench`.

Times one forward + backward pass of a 784-128-64-10 network (sigmoid, sigmoid,
softmax + cross-entropy; and a ReLU variant, relu, relu, softmax + cross-entropy), in float64
and in float32, four ways for the same shapes:

- ``vectorized``: the book's reference ``loss_and_grads`` on the whole batch at once, input
  checks included;
- ``per-sample loop``: the same function called once per sample, gradients averaged
  (sigmoid variant only: it is the slow baseline);
- ``matmul floor``: only the matrix multiplications a forward and backward pass need
  (three forward, five backward), nothing else: no implementation can beat it by much;
- ``torch autograd``: PyTorch on the CPU, when it is installed (optional), with its
  parameters already tensors, as a framework keeps them.

The contenders are timed in turns (round after round, best of the rounds), so a machine that
gets busier halfway through slows them all alike. NumPy's BLAS and torch get the same number
of threads (``--threads``, default 1: on a shared machine more threads mostly measure the
neighbours). It prints a table and the ratios, with the machine they came from, and writes
them to ``_build/bench.json``. Numbers quoted in the book come from a run of this script.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import timeit
from collections.abc import Callable
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from backprop_book import init_params, loss_and_grads

from .paths import BUILD, ROOT

SIZES = [784, 128, 64, 10]
VARIANTS = {
    "sigmoid": ["sigmoid", "sigmoid", "softmax"],
    "relu": ["relu", "relu", "softmax"],
}
ACTIVATIONS = VARIANTS["sigmoid"]
COST = "cross_entropy"
#: The targets of issue 19, checked at m >= 256: vectorized / floor and vectorized / torch.
FLOOR_TARGET, TORCH_TARGET = 1.2, 1.0

Contender = Callable[[list, np.ndarray, np.ndarray], object]


def batch(m: int, seed: int = 0, dtype=np.float64) -> tuple[np.ndarray, np.ndarray]:
    """Random inputs X (784, m) and one-hot targets Y (10, m); samples are columns."""
    rng = np.random.default_rng(seed)
    X = rng.random((SIZES[0], m))
    Y = np.eye(SIZES[-1])[:, rng.integers(0, SIZES[-1], m)]
    return X.astype(dtype), Y.astype(dtype)


def network(dtype=np.float64) -> list:
    """The benchmark's parameters, seeded, in ``dtype``."""
    return [(W.astype(dtype), b.astype(dtype)) for W, b in init_params(SIZES, seed=0)]


def vectorized(activations: list[str]) -> Contender:
    return lambda params, X, Y: loss_and_grads(params, X, Y, activations, COST)


def per_sample(activations: list[str]) -> Contender:
    def run(params, X, Y):
        m = X.shape[1]
        total = [(np.zeros_like(W), np.zeros_like(b)) for W, b in params]
        for i in range(m):
            _, grads = loss_and_grads(params, X[:, i : i + 1], Y[:, i : i + 1], activations, COST)
            for (tW, tb), (dW, db) in zip(total, grads, strict=True):
                tW += dW / m
                tb += db / m
        return total

    return run


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


def torch_autograd(activations: list[str], params: list) -> Contender | None:
    """The same pass in PyTorch autograd, or None when torch is not installed."""
    try:
        import torch
    except ImportError:
        return None
    tensors = [
        (torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True))
        for W, b in params
    ]
    f = {"sigmoid": torch.sigmoid, "relu": torch.relu}

    def run(_params, X, Y):
        A = torch.from_numpy(X)
        for (W, b), name in zip(tensors, activations, strict=True):
            W.grad = b.grad = None
            Z = W @ A + b
            A = f[name](Z) if name in f else Z
        C = -(torch.from_numpy(Y) * torch.log_softmax(A, dim=0)).sum() / X.shape[1]
        C.backward()
        return [(W.grad, b.grad) for W, b in tensors]

    return run


def race(contenders: dict[str, Contender], args: tuple, budget: float, rounds: int = 25) -> dict:
    """Best seconds per call of each contender, timed in turns for ``rounds`` rounds."""
    number = {}
    for name, fn in contenders.items():
        n, elapsed = timeit.Timer(lambda fn=fn: fn(*args)).autorange()
        number[name] = max(1, int(n * budget / max(elapsed, 1e-9) / rounds))
    best = dict.fromkeys(contenders, float("inf"))
    for _ in range(rounds):
        for name, fn in contenders.items():
            seconds = timeit.timeit(lambda fn=fn: fn(*args), number=number[name])
            best[name] = min(best[name], seconds / number[name])
    return best


def machine(threads: int) -> dict:
    info = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "threads": threads,
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        info["load average"] = round(os.getloadavg()[0], 2)
    except OSError:
        pass
    blas = np.show_config(mode="dicts").get("Build Dependencies", {}).get("blas", {})
    info["blas"] = f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    return info


def measure(variant: str, dtype, batches: list[int], budget: float) -> list[dict]:
    """One row per batch size: milliseconds per contender and the ratios to vectorized."""
    activations, params = VARIANTS[variant], network(dtype)
    contenders = {"vectorized": vectorized(activations)}
    if variant == "sigmoid":
        contenders["per-sample loop"] = per_sample(activations)
    contenders["matmul floor"] = matmul_floor
    torch_run = torch_autograd(activations, params)
    if torch_run:
        contenders["torch autograd"] = torch_run
    rows = []
    for m in batches:
        X, Y = batch(m, dtype=dtype)
        ms = {k: v * 1e3 for k, v in race(contenders, (params, X, Y), budget).items()}
        row = {"variant": variant, "dtype": np.dtype(dtype).name, "batch": m, "ms": ms}
        base = ms["vectorized"]
        row["vectorized / floor"] = base / ms["matmul floor"]
        if "torch autograd" in ms:
            row["vectorized / torch"] = base / ms["torch autograd"]
        if "per-sample loop" in ms:
            row["loop / vectorized"] = ms["per-sample loop"] / base
        rows.append(row)
        print(format_row(row), flush=True)
    return rows


def format_row(row: dict) -> str:
    cells = "  ".join(f"{k} {v:8.3f} ms" for k, v in row["ms"].items())
    ratios = "  ".join(f"{k} {v:5.2f}x" for k, v in row.items() if " / " in k)
    return f"{row['variant']:7s} {row['dtype']:7s} m={row['batch']:5d}  {cells}  |  {ratios}"


def _cell(value: float | None, unit: str, fmt: str) -> str:
    return "" if value is None else f"{value:{fmt}}{unit}"


def markdown(rows: list[dict], info: dict) -> str:
    """The rows as a Markdown table (the one the book quotes), with the machine below it."""
    head = "| network | dtype | m | vectorized | matmul floor | torch | per-sample loop |"
    head += " vectorized / floor | vectorized / torch | loop / vectorized |"
    lines = [head, "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for row in rows:
        times = [
            _cell(row["ms"].get(k), " ms", ".3g")
            for k in ("vectorized", "matmul floor", "torch autograd", "per-sample loop")
        ]
        ratios = [
            _cell(row.get(k), "", f)
            for k, f in (("vectorized / floor", ".2f"), ("vectorized / torch", ".2f"))
        ]
        ratios.append(_cell(row.get("loop / vectorized"), "", ".0f"))
        lines.append(
            f"| {row['variant']} | {row['dtype']} | {row['batch']} | "
            + " | ".join(times + ratios)
            + " |"
        )
    machine = ", ".join(f"{k} {v}" for k, v in info.items())
    return "\n".join(lines) + f"\n\nmachine: {machine}"


def verdict(rows: list[dict]) -> list[str]:
    """The rows at m >= 256 that miss a target, as sentences (empty: every target met)."""
    misses = []
    for row in rows:
        if row["batch"] < 256:
            continue
        where = f"{row['variant']} {row['dtype']} m={row['batch']}"
        if row["vectorized / floor"] > FLOOR_TARGET:
            misses.append(f"{where}: {row['vectorized / floor']:.2f}x the matmul floor")
        if row.get("vectorized / torch", 0.0) > TORCH_TARGET:
            misses.append(f"{where}: {row['vectorized / torch']:.2f}x torch")
    return misses


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 16, 64, 256, 1024])
    parser.add_argument("--budget", type=float, default=0.4, help="seconds of timing per cell")
    parser.add_argument("--threads", type=int, default=1, help="BLAS and torch threads")
    parser.add_argument("--dtype", nargs="+", default=["float64", "float32"])
    parser.add_argument("--variant", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    args = parser.parse_args(argv)

    try:
        import torch

        torch.set_num_threads(args.threads)
        torch_version = torch.__version__
    except ImportError:
        torch_version = None
    info = machine(args.threads) | {"torch": torch_version}
    print(f"machine: {info}\n")
    rows = []
    with threadpool_limits(args.threads):
        for variant in args.variant:
            for dtype in args.dtype:
                rows += measure(variant, np.dtype(dtype), args.batch, args.budget)
    misses = verdict(rows)
    print(
        f"\ntargets at m >= 256: vectorized <= {FLOOR_TARGET}x the matmul floor and "
        f"<= {TORCH_TARGET}x torch: "
        + ("all met" if not misses else "MISSED: " + "; ".join(misses))
    )
    print("\n" + markdown(rows, info) + "\n")
    out = BUILD / "bench.json"
    out.parent.mkdir(exist_ok=True)
    report = {"network": SIZES, "cost": COST, "variants": VARIANTS, "machine": info}
    report |= {"targets": {"floor": FLOOR_TARGET, "torch": TORCH_TARGET}, "missed": misses}
    out.write_text(json.dumps(report | {"rows": rows}, indent=2))
    print(f"written to {out.relative_to(ROOT)}")
    return 0

