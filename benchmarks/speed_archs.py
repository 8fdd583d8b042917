"""Seconds per 60,000-image epoch and FLOPs per image of candidate CNNs, on this CPU.

    python benchmarks/speed_archs.py                     # writes results/speed_archs.md
    python benchmarks/speed_archs.py vgg:16:1:256 lenet_bn::1:256   # arch:width:blocks:batch

Times this repository's training loop (``train_epoch``, channels-last, the stage's
allocator setting) on random images of the real shape: one warm-up pass, then the median
of three, scaled to 60,000 images. It measures cost only; accuracy needs real runs.
"""

from __future__ import annotations

import dataclasses
import statistics
import sys
import time
from pathlib import Path

import torch

from fmnist.allocator import keep_freed_memory
from fmnist.networks import build_cnn, forward_flops
from fmnist.params import load_params
from fmnist.training import spec_of, start_run, train_epoch

OUT = Path(__file__).resolve().parent / "results" / "speed_archs.md"
DEFAULTS = ["lenet::1:64", "lenet_bn::1:256", "vgg:16:1:256", "vgg:16:1:512", "vgg:24:1:512",
            "vgg:32:1:512", "vgg:16:2:512", "resnet:16:1:256"]  # fmt: skip


def time_epoch(p, images: int = 6144, repeats: int = 3) -> float:
    x = torch.rand(images, 1, 28, 28).contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 10, (images,))
    run = start_run(p, 0, torch.device("cpu"), steps_per_epoch=-(-images // p.batch_size))
    seconds = []
    for _ in range(repeats + 1):
        start = time.perf_counter()
        train_epoch(run, p, x, y, torch.arange(images))
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds[1:]) * 60_000 / images


def main(specs: list[str]) -> None:
    keep_freed_memory()
    base = dataclasses.replace(load_params().cnn, device="cpu")
    lines = ["# Candidate CNNs on this CPU", "",
             f"`python benchmarks/speed_archs.py {' '.join(specs)}`; torch {torch.__version__}, "
             f"{torch.get_num_threads()} threads. Training loop on random images, median of 3 "
             "passes after a warm-up, scaled to 60,000 images.", "",
             "| arch | width | blocks | batch | parameters | forward MFLOP / image | s per epoch |",
             "|---|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for spec in specs:
        arch, width, blocks, batch = spec.split(":")
        p = dataclasses.replace(base, arch=arch, width=int(width or 16), blocks=int(blocks or 1),
                                batch_size=int(batch))  # fmt: skip
        model = build_cnn(spec_of(p))
        params = sum(t.numel() for t in model.parameters())
        mflop = forward_flops(model) / 1e6
        seconds = time_epoch(p)
        lines.append(f"| {arch} | {p.width} | {p.blocks} | {p.batch_size} | {params:,} | {mflop:.1f} | {seconds:.1f} |")
        print(lines[-1], flush=True)
    OUT.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:] or DEFAULTS)
