"""Which oneDNN kernels a recipe's training step runs on this CPU, and what it reorders.

    python benchmarks/onednn_kernels.py speed94   # writes benchmarks/results/onednn_speed94.md

A few training steps of the recipe's CNN, through the real loop, on random images of the
real shape, in a child process with ``ONEDNN_VERBOSE=1``; the last step is summarised: for
each convolution and pass (forward, backward data, backward weights) the implementation
oneDNN chose (``brg_conv_fwd:avx512_core_amx_bf16`` on a Xeon with AMX,
``avx512_core_bf16`` on an EPYC Zen 4, an ``avx2`` or ``ref`` kernel where bf16 is
emulated) and its milliseconds; then every reorder, split into those of weights (cheap,
after each optimizer step) and those of activations (a whole batch copied into another
layout on every step: the cost to look for).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import torch

from fmnist.errors import ParamsError
from fmnist.machine import caption, describe
from fmnist.params import CNNParams, read_yaml
from fmnist.recipes import load_recipe, resolve

ROOT = Path(__file__).resolve().parents[1]
MARK = "=== measured step"
STEPS = 3  # oneDNN picks and caches its kernels in the first steps; the last is measured


def cnn_params(name: str) -> CNNParams:
    return resolve(load_recipe(name, ROOT / "recipes"), read_yaml(ROOT / "params.yaml"), {"cnn.device": "cpu"}).cnn


def steps(name: str) -> None:
    """The child: STEPS training steps of the recipe's CNN, the last one marked."""
    from fmnist.training import start_run, train_epoch

    p = cnn_params(name)
    n = p.batch_size
    x = torch.rand(STEPS * n, 1, 28, 28).contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 10, (STEPS * n,))
    run = start_run(p, 0, torch.device("cpu"), steps_per_epoch=STEPS, train_x=x)
    train_epoch(run, p, x[: (STEPS - 1) * n], y[: (STEPS - 1) * n], torch.arange((STEPS - 1) * n))
    print(MARK, flush=True)
    train_epoch(run, p, x[-n:], y[-n:], torch.arange(n))


def summary(verbose: str, batch: int) -> list[str]:
    """Markdown of the measured step's oneDNN primitives, from the verbose log's exec lines."""
    lines = verbose.split(MARK, 1)[-1].splitlines()
    execs = [line.split(",") for line in lines if line.startswith("onednn_verbose") and ",exec," in line]
    rows, reorders = [], defaultdict(lambda: [0, 0.0])
    for f in execs:
        kind, impl, prop, shape, ms = f[5], f[6], f[7], f[-2], float(f[-1])
        if kind == "convolution":
            rows.append(f"| {shape} | {prop.removesuffix('_training')} | `{impl}` | {ms:.2f} |")
        elif kind == "reorder":
            whose = "activations" if shape.split("x")[0] == str(batch) else "weights"
            reorders[whose][0] += 1
            reorders[whose][1] += ms
    out = ["| convolution | pass | implementation | ms |", "|---|---|---|---:|", *rows, ""]
    for whose in ("activations", "weights"):
        count, ms = reorders[whose]
        out.append(f"Reorders of {whose} in the step: {count}, {ms:.2f} ms.")
    return out


def main(argv: list[str]) -> None:
    if len(argv) == 2 and argv[0] == "--child":
        return steps(argv[1])
    if len(argv) != 1:
        raise SystemExit("usage: python benchmarks/onednn_kernels.py RECIPE   (a name in recipes/)")
    name = argv[0]
    try:
        batch = cnn_params(name).batch_size
    except ParamsError as exc:
        raise SystemExit(f"onednn_kernels: {exc}") from None
    child = subprocess.run([sys.executable, __file__, "--child", name], capture_output=True, text=True,
                           env=os.environ | {"ONEDNN_VERBOSE": "1"})  # fmt: skip
    if child.returncode != 0 or MARK not in child.stdout:
        raise SystemExit(f"onednn_kernels: the training step failed:\n{child.stderr[-2000:]}")
    report = [f"`python benchmarks/onednn_kernels.py {name}` on {caption(describe())}",
              "", f"One training step of {name}'s CNN (batch {batch}) after {STEPS - 1} warm-up steps.", "",
              *summary(child.stdout, batch)]  # fmt: skip
    out = ROOT / "benchmarks" / "results" / f"onednn_{name}.md"
    out.write_text("\n".join(report) + "\n")
    print("\n".join(report), f"\nwritten to {out.relative_to(ROOT)}", sep="\n")


if __name__ == "__main__":
    main(sys.argv[1:])
