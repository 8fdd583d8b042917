"""What machine a number was measured on: the CPU's model, cores and the instruction sets
that decide which kernels run (AMX and AVX-512 BF16 make bfloat16 pay; AVX2 is the
floor), torch's version and threads, and the GPU where one trained. Read from
/proc/cpuinfo and torch, never assumed.

Seconds and even weight bytes follow the CPU *family*, so every timing carries
:func:`family`, a short name a table row has room for ("EPYC Zen 4", "Xeon AMX"), beside
:func:`caption`, the details."""

from __future__ import annotations

import os
import platform
from pathlib import Path

ISA_FLAGS = {"amx": "amx_tile", "avx512_bf16": "avx512_bf16", "avx512": "avx512f", "avx2": "avx2"}
ISA_NAMES = {"amx": "AMX", "avx512_bf16": "AVX-512 BF16", "avx512": "AVX-512", "avx2": "AVX2"}
AMD_ZEN = {23: "Zen 2", 26: "Zen 5"}  # AMD's "cpu family" numbers; 25 is Zen 3 or Zen 4, told by AVX-512


def cpuinfo(path: Path = Path("/proc/cpuinfo")) -> dict[str, str]:
    """The first processor's fields (model name, vendor_id, cpu family, flags); the platform's
    name where Linux's file is absent."""
    fields = {"model name": platform.processor() or platform.machine(), "flags": ""}
    if not path.is_file():
        return fields
    for line in path.read_text().splitlines():
        if not line.strip():
            break  # the first processor only
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    return fields


def describe(path: Path = Path("/proc/cpuinfo"), gpu: str | None = None) -> dict:
    """The machine as a flat dict of plain values, for a JSON file or a table's caption."""
    import torch

    info = cpuinfo(path)
    flags = set(info["flags"].split())
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"cpu": info["model name"], "vendor": info.get("vendor_id", ""), "cpu_family": info.get("cpu family", ""),
            "cpus": cores, **{name: flag in flags for name, flag in ISA_FLAGS.items()},
            "torch": torch.__version__.split("+")[0], "torch_threads": torch.get_num_threads(),
            "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(), "gpu": gpu}  # fmt: skip


def family(d: dict) -> str:
    """A short name for the kind of machine: 'Xeon AMX', 'EPYC Zen 4', 'EPYC Zen 3', a GPU's name."""
    if d.get("gpu"):
        return str(d["gpu"])
    brand = next((b for b in ("EPYC", "Ryzen", "Xeon", "Core") if b in d["cpu"]), "")
    if d.get("vendor") == "AuthenticAMD":
        number = int(d["cpu_family"]) if str(d.get("cpu_family", "")).isdigit() else 0
        zen = AMD_ZEN.get(number) or ({25: "Zen 4" if d.get("avx512") else "Zen 3"}.get(number, "AMD"))
        return f"{brand or 'AMD'} {zen}"
    if d.get("vendor") == "GenuineIntel":
        isa = "AMX" if d.get("amx") else "AVX-512" if d.get("avx512") else "AVX2"
        return f"{brand or 'Intel'} {isa}"
    return d["cpu"]


def caption(d: dict) -> str:
    """One line: 'AMD EPYC (AVX2; no AVX-512, AVX-512 BF16, AMX), 2 CPUs, torch 2.13.0 (2 threads)'."""
    has = [ISA_NAMES[k] for k in ISA_FLAGS if d.get(k)]
    lacks = [ISA_NAMES[k] for k in reversed(ISA_FLAGS) if not d.get(k)]
    isa = "; ".join(filter(None, [", ".join(has), "no " + ", ".join(lacks) if lacks else ""]))
    gpu = f"{d['gpu']} with " if d.get("gpu") else ""
    return f"{gpu}{d['cpu']} ({isa}), {d['cpus']} CPUs, torch {d['torch']} ({d['torch_threads']} threads)"


def record(device: str = "cpu") -> dict:
    """What a training stage writes beside its metrics: the family, the caption and the details."""
    gpu = None
    if device.startswith("cuda"):
        import torch

        gpu = torch.cuda.get_device_name(torch.device(device))
    d = describe(gpu=gpu)
    return {"family": family(d), "caption": caption(d), **d}
