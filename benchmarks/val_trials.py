"""Recipe trials on the validation split: what each speedrun technique buys, never on test.

    python benchmarks/val_trials.py arch=vgg width=16 blocks=2 epochs=5 precision=bf16
    python benchmarks/val_trials.py seed=1 arch=vgg ...   # another training seed, same split
    python benchmarks/val_trials.py --table      # reports/speedrun_trials.md from the log

Trains the CNN with the given ``cnn`` params over params.yaml on 54,000 training images and
scores the other 6,000 (a stratified 10 % split, seed 0, as ``prepare.val_fraction=0.1``
makes), without and with test-time augmentation; appends one JSON line per trial to
reports/speedrun_trials.jsonl. Seconds are not comparable between trials: they ran two at a
time on one thread each (OMP_NUM_THREADS=1), to choose faster. Timing is for the recipes'
final runs.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import numpy as np
import torch
import yaml

from fmnist.allocator import keep_freed_memory
from fmnist.cnn_training import train_cnn
from fmnist.idx import load_raw
from fmnist.inference import predict_logits, to_tensors
from fmnist.params import load_params
from fmnist.prepared import Split, scale
from fmnist.stages.prepare import split_validation

ROOT = Path(__file__).resolve().parents[1]
LOG = ROOT / "reports" / "speedrun_trials.jsonl"
TABLE = ROOT / "reports" / "speedrun_trials.md"
VIEWS = {"plain": (False, 0), "flip": (True, 0), "shift": (False, 1), "flip+shift": (True, 1)}


def validation_split() -> tuple[Split, Split]:
    raw = load_raw(ROOT / "data" / "raw")
    train, val = split_validation(raw.train_labels, 0.1, seed=0)
    as_split = lambda idx: Split(scale(raw.train_images[idx]), raw.train_labels[idx].astype(np.int64))  # noqa: E731
    return as_split(train), as_split(val)


def trial(args: list[str]) -> dict:
    changes = {k: yaml.safe_load(v) for k, v in (a.split("=", 1) for a in args)}
    seed = changes.pop("seed", 0)  # the training seed; the split stays seed 0's
    p = dataclasses.replace(load_params(ROOT / "params.yaml").cnn, device="cpu", **changes)
    train, val = validation_split()
    model, seconds = train_cnn(train, val, p, seed, torch.device("cpu"))
    x, y = to_tensors(val, torch.device("cpu"))
    accuracy = {name: round(100 * (predict_logits(model, x, 1000, flip, shift).argmax(1) == y).float().mean().item(), 2)
                for name, (flip, shift) in VIEWS.items()}  # fmt: skip
    return {"args": " ".join(args), **accuracy, "seconds": round(seconds, 1), "threads": torch.get_num_threads()}


def table(records: list[dict]) -> str:
    lines = ["| trial (cnn params over params.yaml) | val % | + flip TTA | + shift TTA | + both |",
             "|---|---:|---:|---:|---:|"]  # fmt: skip
    cell = lambda r, view: f"{r[view]:.2f}" if view in r else ""  # noqa: E731
    for r in records:
        lines.append(f"| `{r['args']}` | " + " | ".join(cell(r, v) for v in VIEWS) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> None:
    if argv == ["--table"]:
        records = [json.loads(line) for line in LOG.read_text().splitlines()]
        TABLE.write_text(table(records))
        print(TABLE.read_text(), end="")
        return
    keep_freed_memory()
    record = trial(argv)
    print(json.dumps(record), flush=True)
    with LOG.open("a") as fh:
        fh.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
