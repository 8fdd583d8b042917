"""This machine's practical arithmetic ceiling: the FLOP/s a large square matrix product
reaches in each precision (fp32 through the BLAS, bf16 through oneDNN), the yardstick for
a training run's FLOP/s in the speedrun table. Without native bf16 (AMX or AVX-512 BF16)
the bf16 figure is emulation's, and usually below fp32's.

    python benchmarks/matmul_peak.py     # about 10 s; records this machine in results/matmul_peak.json

Each machine (its caption: CPU, ISA features, cores, torch, threads) keeps one row, the
newest measurement; `fmnist recipe table` reads the row of the machine a run trained on.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from pathlib import Path

import torch

from fmnist.machine import caption, describe

RESULTS = Path(__file__).resolve().parent / "results" / "matmul_peak.json"
PRECISIONS = {"fp32": torch.float32, "bf16": torch.bfloat16}
SIZE = 2048


def peak_gflops(dtype: torch.dtype, seconds: float = 3.0, size: int = SIZE) -> float:
    """GFLOP/s of repeated ``size``-square products in ``dtype`` over about ``seconds``."""
    a, b = torch.rand(size, size).to(dtype), torch.rand(size, size).to(dtype)
    a @ b  # first call: kernel selection and allocation, not counted
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        a @ b
        done += 1
    return done * 2 * size**3 / (time.perf_counter() - start) / 1e9


def read(path: Path = RESULTS) -> dict[str, dict]:
    """Machine caption -> its measurement; empty where nothing was measured yet."""
    return json.loads(path.read_text()) if path.is_file() else {}


def main() -> None:
    machine = caption(describe())
    row = {name: round(peak_gflops(dtype), 1) for name, dtype in PRECISIONS.items()}
    row |= {"matrix": SIZE, "measured": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "command": "python benchmarks/matmul_peak.py"}  # fmt: skip
    peaks = read() | {machine: row}
    RESULTS.write_text(json.dumps(peaks, indent=2, sort_keys=True) + "\n")
    print(f"{machine}\n  fp32 {row['fp32']:.0f} GFLOP/s, bf16 {row['bf16']:.0f} GFLOP/s -> {RESULTS}")


if __name__ == "__main__":
    main()
