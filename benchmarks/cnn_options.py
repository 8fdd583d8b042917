"""Which CPU options pay for a CNN: memory format, threads, torch.compile, oneDNN's bf16.

    python benchmarks/cnn_options.py            # the study's LeNet: results/cnn_options.md (a few minutes)
    python benchmarks/cnn_options.py speed94    # a recipe's CNN: results/cnn_options_speed94.md

Each option is timed on this repository's training loop (``train_epoch``) over the same
slice of random images of the real shape (the cost does not depend on pixel values), in
one process: a warm-up pass, then the median of timed passes, scaled to a 60,000-image
epoch. ``torch.compile``'s first pass includes its compilation; the table gives that cost
and how many full epochs it takes to win it back. For a recipe that trains in bf16, one
more option: fp32 training with oneDNN told to run fp32 convolutions in bf16
(``torch.backends.mkldnn.conv.fp32_precision``) in place of autocast.
"""

from __future__ import annotations

import dataclasses
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TORCHINDUCTOR_FORCE_DISABLE_CACHES", "1")  # compile time counted whole, every run
import torch  # noqa: E402

from fmnist.allocator import keep_freed_memory
from fmnist.errors import ParamsError
from fmnist.inference import resolve_precision
from fmnist.machine import caption, describe
from fmnist.params import CNNParams, load_params, read_yaml
from fmnist.recipes import load_recipe, resolve
from fmnist.training import start_run, train_epoch, training_inputs

RESULTS = Path(__file__).resolve().parent / "results"
FULL_EPOCH = 60_000


def time_option(p: CNNParams, channels_last: bool, threads: int, compiled: bool, onednn_bf16: bool = False, *,
                batches: int, repeats: int):  # fmt: skip
    """(seconds of the first pass, median seconds of the later ones) over ``batches`` batches."""
    torch.set_num_threads(threads)
    torch.backends.mkldnn.conv.fp32_precision = "bf16" if onednn_bf16 else "none"
    p = dataclasses.replace(p, precision="fp32") if onednn_bf16 else p
    n = batches * p.batch_size
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    x = torch.rand(n, 1, 28, 28).contiguous(memory_format=fmt)
    y = torch.randint(0, 10, (n,))
    run = start_run(p, 0, torch.device("cpu"), steps_per_epoch=batches, train_x=x)
    run.model = run.model.to(memory_format=fmt)
    inputs, forward = training_inputs(run.model, p, x)
    if compiled:
        compiled_forward = torch.compile(forward)
        forward = lambda batch: compiled_forward(batch)  # noqa: E731  (train_epoch tests `forward or ...`)
    order = torch.arange(n)
    seconds = []
    for _ in range(repeats + 1):
        start = time.perf_counter()
        train_epoch(run, p, inputs, y, order, forward=forward)
        seconds.append(time.perf_counter() - start)
    torch.backends.mkldnn.conv.fp32_precision = "none"
    return seconds[0], statistics.median(seconds[1:]), n


def cnn_of(recipe: str | None) -> tuple[CNNParams, str]:
    """The CNN to time and its words: the study's LeNet, or a recipe's network."""
    if recipe is None:
        return dataclasses.replace(load_params().cnn, device="cpu"), "the study's LeNet at batch 64"
    p = resolve(load_recipe(recipe), read_yaml(Path("params.yaml")), {"cnn.device": "cpu"}).cnn
    precision = resolve_precision(torch.device("cpu"), p.precision)
    return p, f"{recipe}'s CNN ({p.arch}, width {p.width}, batch {p.batch_size}, {precision} autocast)"


def main(recipe: str | None = None, batches: int = 150, repeats: int = 3) -> None:
    keep_freed_memory()
    threads = torch.get_num_threads()
    p, words = cnn_of(recipe)
    batches = batches if recipe is None else max(12, batches * 64 // p.batch_size)  # about as many images
    options = {
        f"ours: channels-last, {threads} threads, eager": (True, threads, False),
        "contiguous (NCHW) memory format": (False, threads, False),
        "1 thread": (True, 1, False),
        "torch.compile (inductor)": (True, threads, True),
    }
    if resolve_precision(torch.device("cpu"), p.precision) == "bf16":
        options["fp32 with oneDNN's bf16 convolutions, no autocast"] = (True, threads, False, True)
    rows = []
    baseline = None
    for name, option in options.items():
        first, steady, n = time_option(p, *option, batches=batches, repeats=repeats)
        per_epoch = steady * FULL_EPOCH / n
        baseline = baseline or per_epoch
        overhead = first - steady
        repay = ""
        if option[2]:  # compiled: full epochs until the compile time is won back
            gain = baseline - per_epoch
            repay = f"{overhead / gain:.1f}" if gain > 0 else "never"
        rows.append((name, per_epoch, baseline / per_epoch, overhead, repay))
        print(f"{name}: {per_epoch:.1f} s per epoch, first pass +{overhead:.1f} s", flush=True)
    command = "python benchmarks/cnn_options.py" + (f" {recipe}" if recipe else "")
    lines = [
        "# CNN options on this CPU",
        "",
        f"`{command}`: {words} through `train_epoch`, "
        f"{batches} batches per pass, median of {repeats} passes after one warm-up, scaled to "
        f"60,000 images; {caption(describe())}.",
        "",
        "| option | s per epoch | speed vs ours | first pass extra s | epochs to repay |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, per_epoch, speed, overhead, repay in rows:
        lines.append(f"| {name} | {per_epoch:.1f} | {speed:.2f}x | {overhead:.1f} | {repay} |")
    out = RESULTS / (f"cnn_options_{recipe}.md" if recipe else "cnn_options.md")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    print(out.read_text())


if __name__ == "__main__":
    if len(sys.argv) > 2:
        raise SystemExit("usage: python benchmarks/cnn_options.py [RECIPE]   (a name in recipes/)")
    try:
        main(sys.argv[1] if len(sys.argv) == 2 else None)
    except ParamsError as exc:
        raise SystemExit(f"cnn_options: {exc}") from None
