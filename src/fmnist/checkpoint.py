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

from fmnist.params import CNNParams
from fmnist.weights import load_weights, save_weights

CHECKPOINT_DIR = Path(".cache/checkpoints")
KIND = "train_cnn-checkpoint"


def checkpoint_path(p: CNNParams, seed: int, data_file: Path) -> Path:
    """A file name unique to (params, seed, data): the data's size and head/tail bytes."""
    key = hashlib.sha256(json.dumps([asdict(p), seed], sort_keys=True).encode())
    stat = data_file.stat()
    key.update(str(stat.st_size).encode())
    with open(data_file, "rb") as fh:
        key.update(fh.read(1 << 20))
        fh.seek(max(0, stat.st_size - (1 << 20)))
        key.update(fh.read())
    return CHECKPOINT_DIR / f"train_cnn-{key.hexdigest()[:16]}.safetensors"


def save_checkpoint(path: Path, model, opt, order_rng: torch.Generator, history: list[dict]) -> None:
    tensors = {f"model.{k}": v.detach().cpu().contiguous().numpy() for k, v in model.state_dict().items()}
    opt_state = opt.state_dict()
    for index, state in opt_state["state"].items():
        for name, value in state.items():
            tensors[f"opt.{index}.{name}"] = value.detach().cpu().contiguous().numpy()
    tensors["rng.torch"] = torch.get_rng_state().numpy()
    tensors["rng.order"] = order_rng.get_state().numpy()
    meta = {"model": KIND, "history": history, "param_groups": opt_state["param_groups"]}
    save_weights(path, tensors, meta)


def load_checkpoint(path: Path, model, opt, order_rng: torch.Generator) -> list[dict]:
    """Restore everything into the given objects; returns the per-epoch log so far."""
    tensors, meta = load_weights(path, KIND)
    device = next(model.parameters()).device
    model.load_state_dict({k[6:]: torch.from_numpy(v) for k, v in tensors.items() if k.startswith("model.")})
    state: dict[int, dict] = {}
    for key, value in tensors.items():
        if key.startswith("opt."):
            _, index, name = key.split(".", 2)
            state.setdefault(int(index), {})[name] = torch.from_numpy(np.array(value)).to(device)
    for s in state.values():
        s["step"] = s["step"].cpu()  # Adam keeps its step count on the CPU
    opt.load_state_dict({"state": state, "param_groups": meta["param_groups"]})
    torch.set_rng_state(torch.from_numpy(tensors["rng.torch"]))
    order_rng.set_state(torch.from_numpy(tensors["rng.order"]))
    return meta["history"]
