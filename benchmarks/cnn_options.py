"""Which CPU options pay for the study's LeNet at batch 64: memory format, threads, torch.compile.

    python benchmarks/cnn_options.py     # writes benchmarks/results/cnn_options.md (a few minutes)

Each option is timed on this repository's training loop (``train_epoch``) over the same
slice of random images of the real shape (the cost does not depend on pixel values), in
one process: a warm-up pass, then the median of timed passes, scaled to a 60,000-image
epoch. ``torch.compile``'s first pass includes its compilation; the table gives that cost
and how many full epochs it takes to win it back.
"""

from __future__ import annotations

import dataclasses
import statistics
import time
from pathlib import Path

import torch

from fmnist.allocator import keep_freed_memory
from fmnist.params import load_params
from fmnist.training import start_run, train_epoch

OUT = Path(__file__).resolve().parent / "results" / "cnn_options.md"
FULL_EPOCH = 60_000


def time_option(channels_last: bool, threads: int, compiled: bool, batches: int, repeats: int):
    """(seconds of the first pass, median seconds of the later ones) over ``batches`` batches."""
    torch.set_num_threads(threads)
    p = dataclasses.replace(load_params().cnn, device="cpu")
    n = batches * p.batch_size
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    x = torch.rand(n, 1, 28, 28).contiguous(memory_format=fmt)
    y = torch.randint(0, 10, (n,))
    run = start_run(p, 0, torch.device("cpu"), steps_per_epoch=batches)
    run.model = run.model.to(memory_format=fmt)
    if compiled:
        run.model = torch.compile(run.model)
    order = torch.arange(n)
    seconds = []
    for _ in range(repeats + 1):
        start = time.perf_counter()
        train_epoch(run, p, x, y, order)
        seconds.append(time.perf_counter() - start)
    return seconds[0], statistics.median(seconds[1:]), n


def main(batches: int = 150, repeats: int = 3) -> None:
    keep_freed_memory()
    threads = torch.get_num_threads()
    options = {
        f"ours: channels-last, {threads} threads, eager": (True, threads, False),
        "contiguous (NCHW) memory format": (False, threads, False),
        "1 thread": (True, 1, False),
        "torch.compile (inductor)": (True, threads, True),
    }
    rows = []
    baseline = None
    for name, option in options.items():
        first, steady, n = time_option(*option, batches=batches, repeats=repeats)
        per_epoch = steady * FULL_EPOCH / n
        baseline = baseline or per_epoch
        overhead = first - steady
        repay = ""
        if option[2]:  # compiled: full epochs until the compile time is won back
            gain = baseline - per_epoch
            repay = f"{overhead / gain:.1f}" if gain > 0 else "never"
        rows.append((name, per_epoch, baseline / per_epoch, overhead, repay))
        print(f"{name}: {per_epoch:.1f} s per epoch, first pass +{overhead:.1f} s", flush=True)
    lines = [
        "# CNN options on this CPU",
        "",
        f"`python benchmarks/cnn_options.py`: the study's LeNet at batch 64 through `train_epoch`, "
        f"{batches} batches per pass, median of {repeats} passes after one warm-up, scaled to "
        f"60,000 images; torch {torch.__version__}, {threads} threads available.",
        "",
        "| option | s per epoch | speed vs ours | first pass extra s | epochs to repay |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, per_epoch, speed, overhead, repay in rows:
        lines.append(f"| {name} | {per_epoch:.1f} | {speed:.2f}x | {overhead:.1f} | {repay} |")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(lines) + "\n")
    print(OUT.read_text())


if __name__ == "__main__":
    main()
