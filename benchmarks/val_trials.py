"""Recipe trials on the validation split: what each speedrun technique buys, never on test.

    python benchmarks/val_trials.py arch=vgg width=16 blocks=2 epochs=5 precision=bf16
    python benchmarks/val_trials.py seed=1 arch=vgg ...   # another training seed, same split
    python benchmarks/val_trials.py mlp hidden_layer_sizes=[1024,1024] epochs=10 ...   # the PyTorch MLP

Trains the CNN with the given ``cnn`` params over params.yaml (after ``mlp``: the PyTorch MLP
with ``mlp.torch`` params, and ``hidden_layer_sizes`` and ``activation``) on 54,000 training images and
scores the other 6,000 (a stratified 10 % split, seed 0, as ``prepare.val_fraction=0.1``
makes), without and with test-time augmentation; appends one run per trial to the run
record (reports/runs.jsonl), whose trials table `fmnist pages` writes to reports/trials.md.
Training seconds are recorded with the machine and its threads; trials that shared the
cores are not comparable in time, so choose on accuracy and time the recipes' final runs.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch
import yaml

from fmnist.allocator import keep_freed_memory
from fmnist.errors import ParamsError
from fmnist.idx import load_raw
from fmnist.inference import predict_logits, resolve_precision, to_tensors
from fmnist.machine import record
from fmnist.params import Params, override, parse_params, read_yaml
from fmnist.prepared import Split, scale
from fmnist.runs import Model, Run, append
from fmnist.stages.prepare import split_validation
from fmnist.training import mlp_network, train_network

ROOT = Path(__file__).resolve().parents[1]
MLP_SHAPE = ("hidden_layer_sizes", "activation")  # mlp keys; the PyTorch MLP's other keys are mlp.torch's
VIEWS = {"plain": (False, 0), "flip": (True, 0), "shift": (False, 1), "flip+shift": (True, 1)}


def validation_split() -> tuple[Split, Split]:
    raw = load_raw(ROOT / "data" / "raw")
    train, val = split_validation(raw.train_labels, 0.1, seed=0)
    as_split = lambda idx: Split(scale(raw.train_images[idx]), raw.train_labels[idx].astype(np.int64))  # noqa: E731
    return as_split(train), as_split(val)


def trial_params(args: list[str]) -> tuple[str, int, dict, Params]:
    """(family, seed, the keys as given, the validated params) of ``[mlp] KEY=VALUE ...``: a
    wrong key or value is refused as `dvc exp run -S` would be, before any training."""
    family = "mlp" if args[:1] == ["mlp"] else "cnn"
    if bad := [a for a in args[family == "mlp" :] if "=" not in a]:
        raise ParamsError(f"expected KEY=VALUE (the {family} keys of params.yaml), got {' '.join(bad)!r}")
    changes = {k: yaml.safe_load(v) for k, v in (a.split("=", 1) for a in args[family == "mlp" :])}
    seed = changes.pop("seed", 0)  # the training seed; the split stays seed 0's
    if family == "mlp":
        dotted = {f"mlp.{k}" if k in MLP_SHAPE else f"mlp.torch.{k}": v for k, v in changes.items()}
        dotted |= {"mlp.impl": "torch", "mlp.torch.device": "cpu"}
    else:
        dotted = {f"cnn.{k}": v for k, v in changes.items()} | {"cnn.device": "cpu"}
    params = parse_params(override(read_yaml(ROOT / "params.yaml"), dotted | {"seed": seed}))
    return family, seed, changes, params


def trial(args: list[str]) -> Run:
    family, seed, changes, params = trial_params(args)
    mlp = params.mlp
    p = mlp.torch if family == "mlp" else params.cnn
    network = mlp_network(mlp) if family == "mlp" else None
    train, val = validation_split()
    model, seconds = train_network(train, val, p, seed, torch.device("cpu"), network=network)
    x, y = to_tensors(val, torch.device("cpu"))
    accuracy = {name: round((predict_logits(model, x, 1000, flip, shift).argmax(1) == y).float().mean().item(), 6)
                for name, (flip, shift) in VIEWS.items()}  # fmt: skip
    machine = record()
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    score = {family: Model(accuracy.pop("plain"), seconds=round(seconds, 1))}
    keys = {k: f"mlp.{k}" if k in MLP_SHAPE else f"mlp.torch.{k}" for k in changes} if family == "mlp" else {}
    return Run(f"trial: {' '.join(args)}", seed, "val", **score,
               overrides={keys.get(k, f"cnn.{k}"): v for k, v in changes.items()}, views=accuracy,
               precision=resolve_precision(torch.device("cpu"), p.precision), device="cpu",
               family=machine["family"], machine=machine["caption"], commit=commit or None,
               date=datetime.now(timezone.utc).isoformat(timespec="seconds"),
               source=f"benchmarks/val_trials.py ({torch.get_num_threads()} threads)")  # fmt: skip


def main(argv: list[str]) -> None:
    keep_freed_memory()
    try:
        run = trial(argv)
    except ParamsError as exc:
        raise SystemExit(f"val_trials: {exc}") from None
    append([run], ROOT / "reports" / "runs.jsonl")
    model = run.mlp if run.mlp.accuracy is not None else run.cnn
    print(
        f"{run.name}: {100 * model.accuracy:.2f} % on validation in {model.seconds} s, "
        + ", ".join(f"{k} {100 * v:.2f} %" for k, v in run.views.items()),
        flush=True,
    )


if __name__ == "__main__":
    main(sys.argv[1:])
