"""Per-epoch resume state for train_cnn, kept outside DVC's outputs.

A checkpoint holds the weights, the optimizer's state, both random generators and the
per-epoch log, so a resumed run continues exactly where the interrupted one stopped and
ends with the same weights. It is keyed by everything that decides the result (params,
seed, the prepared data), so a changed experiment never resumes from another's state,
and it is deleted when training completes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from fmnist.networks import state_arrays
from fmnist.params import CNNParams, MLPParams
from fmnist.paths import CHECKPOINT_DIR
from fmnist.weights import load_weights, save_weights

KIND = "train_cnn-checkpoint"


def checkpoint_path(p: CNNParams | MLPParams, seed: int, data_file: Path, stage: str = "train_cnn") -> Path:
    """A file name unique to (stage, params, seed, data): the data's size and head/tail bytes."""
    key = hashlib.sha256(json.dumps([asdict(p), seed], sort_keys=True).encode())
    stat = data_file.stat()
    key.update(str(stat.st_size).encode())
    with open(data_file, "rb") as fh:
        key.update(fh.read(1 << 20))
        fh.seek(max(0, stat.st_size - (1 << 20)))
        key.update(fh.read())
    return CHECKPOINT_DIR / f"{stage}-{key.hexdigest()[:16]}.safetensors"


def save_checkpoint(path: Path, run, history: list[dict]) -> None:
    """Save a ``training.TrainingRun`` after an epoch, with the per-epoch log so far."""
    tensors = state_arrays(run.model.state_dict(), "model.")
    if run.ema is not None:
        tensors.update(state_arrays(run.ema.state_dict(), "ema."))
    if run.lookahead is not None:
        tensors.update(state_arrays(run.lookahead.slow, "lookahead."))
    opt_state = run.opt.state_dict()
    for index, state in opt_state["state"].items():
        tensors.update(state_arrays(state, f"opt.{index}."))
    tensors["rng.torch"] = torch.get_rng_state().numpy()
    tensors["rng.order"] = run.order_rng.get_state().numpy()
    tensors["rng.augment"] = run.augment_rng.get_state().numpy()
    meta = {"model": KIND, "history": history, "param_groups": opt_state["param_groups"]}
    if run.schedule is not None:
        meta["schedule"] = run.schedule.state_dict()
    if run.lookahead is not None:
        meta["lookahead_steps"] = run.lookahead.steps
    save_weights(path, tensors, meta)


def _with_prefix(tensors: dict[str, np.ndarray], prefix: str, device) -> dict[str, torch.Tensor]:
    n = len(prefix) + 1
    return {k[n:]: torch.from_numpy(np.array(v)).to(device) for k, v in tensors.items() if k.startswith(prefix + ".")}


def load_checkpoint(path: Path, run) -> list[dict]:
    """Restore everything into ``run`` (a fresh ``TrainingRun``); returns the per-epoch log."""
    tensors, meta = load_weights(path, KIND)
    device = next(run.model.parameters()).device
    run.model.load_state_dict(_with_prefix(tensors, "model", device))
    if run.ema is not None:
        run.ema.load_state_dict(_with_prefix(tensors, "ema", device))
    if run.lookahead is not None:
        run.lookahead.slow = _with_prefix(tensors, "lookahead", device)
        run.lookahead.steps = meta["lookahead_steps"]
    state: dict[int, dict] = {}
    for key, value in _with_prefix(tensors, "opt", device).items():
        index, name = key.split(".", 1)
        state.setdefault(int(index), {})[name] = value
    for s in state.values():
        if "step" in s:  # Adam keeps its step count on the CPU (Muon keeps none)
            s["step"] = s["step"].cpu()
    run.opt.load_state_dict({"state": state, "param_groups": meta["param_groups"]})
    if run.schedule is not None:
        run.schedule.load_state_dict(meta["schedule"])
    torch.set_rng_state(torch.from_numpy(tensors["rng.torch"]))
    run.order_rng.set_state(torch.from_numpy(tensors["rng.order"]))
    run.augment_rng.set_state(torch.from_numpy(tensors["rng.augment"]))
    return meta["history"]
