"""What machine a number was measured on: the CPU's model, cores and the instruction sets
that decide which kernels run (AMX and AVX-512 BF16 make bfloat16 pay; AVX2 is the
floor), torch's version and threads. Read from /proc/cpuinfo and torch, never assumed."""

from __future__ import annotations

import os
import platform
from pathlib import Path

ISA_FLAGS = {"amx": "amx_tile", "avx512_bf16": "avx512_bf16", "avx512": "avx512f", "avx2": "avx2"}
ISA_NAMES = {"amx": "AMX", "avx512_bf16": "AVX-512 BF16", "avx512": "AVX-512", "avx2": "AVX2"}


def cpuinfo(path: Path = Path("/proc/cpuinfo")) -> tuple[str, set[str]]:
    """The first processor's model name and its flags; the platform's name where Linux's file is absent."""
    if not path.is_file():
        return platform.processor() or platform.machine(), set()
    model, flags = platform.processor(), set()
    for line in path.read_text().splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name" and model == platform.processor():
            model = value.strip()
        elif key.strip() == "flags" and not flags:
            flags = set(value.split())
    return model, flags


def describe(path: Path = Path("/proc/cpuinfo")) -> dict:
    """The machine as a flat dict of plain values, for a JSON file or a table's caption."""
    import torch

    model, flags = cpuinfo(path)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"cpu": model, "cpus": cores, **{name: flag in flags for name, flag in ISA_FLAGS.items()},
            "torch": torch.__version__.split("+")[0], "torch_threads": torch.get_num_threads(),
            "torch_cpu_capability": torch.backends.cpu.get_cpu_capability()}  # fmt: skip


def caption(d: dict) -> str:
    """One line: 'AMD EPYC (AVX2; no AVX-512, AVX-512 BF16, AMX), 2 CPUs, torch 2.13.0 (2 threads)'."""
    has = [ISA_NAMES[k] for k in ISA_FLAGS if d.get(k)]
    lacks = [ISA_NAMES[k] for k in reversed(ISA_FLAGS) if not d.get(k)]
    isa = "; ".join(filter(None, [", ".join(has), "no " + ", ".join(lacks) if lacks else ""]))
    return f"{d['cpu']} ({isa}), {d['cpus']} CPUs, torch {d['torch']} ({d['torch_threads']} threads)"
