"""Where the time goes: PyTorch's profiler on the CNN's training steps, cProfile on the MLP.

    python benchmarks/where_time_goes.py     # writes benchmarks/results/profile.txt (about a minute)

Profiles this repository's code path (the functions the stages call) on random images of
the real shape, since the cost does not depend on pixel values.
"""

from __future__ import annotations

import cProfile
import dataclasses
import io
import pstats
from pathlib import Path

import numpy as np
import torch
from torch.profiler import ProfilerActivity, profile

from fmnist.allocator import keep_freed_memory
from fmnist.machine import caption, describe
from fmnist.params import load_params
from fmnist.prepared import Split
from fmnist.sklearn_mlp import fit_mlp
from fmnist.training import start_run, train_epoch

OUT = Path(__file__).resolve().parent / "results" / "profile.txt"


def cnn_profile(batches: int = 60) -> str:
    p = dataclasses.replace(load_params().cnn, device="cpu")
    n = batches * p.batch_size
    x = torch.rand(n, 1, 28, 28).contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 10, (n,))
    run = start_run(p, 0, torch.device("cpu"), steps_per_epoch=batches)
    train_epoch(run, p, x, y, torch.arange(n))  # warm-up: allocator and kernel selection
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        train_epoch(run, p, x, y, torch.arange(n))
    table = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=15)
    return f"CNN: {batches} training batches of {p.batch_size} ({p.arch}), self CPU time by op\n{table}"


def mlp_profile(iterations: int = 3) -> str:
    p = dataclasses.replace(load_params().mlp, max_iter=iterations)
    rng = np.random.default_rng(0)
    split = Split(rng.random((60_000, 28, 28), dtype=np.float32), rng.integers(0, 10, 60_000))
    prof = cProfile.Profile()
    prof.enable()
    fit_mlp(split.x, split.y, p, 0)
    prof.disable()
    text = io.StringIO()
    pstats.Stats(prof, stream=text).strip_dirs().sort_stats("tottime").print_stats(12)  # no machine's paths
    return f"MLP: {iterations} iterations on 60,000 images, by own time\n{text.getvalue()}"


def main() -> None:
    keep_freed_memory()
    header = f"`python benchmarks/where_time_goes.py` on {caption(describe())}\n\n"
    report = header + cnn_profile() + "\n\n" + mlp_profile()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(report)
    print(report)


if __name__ == "__main__":
    main()
