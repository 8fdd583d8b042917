"""Model files: safetensors only, checked before they are used.

safetensors is a JSON header plus raw tensor bytes: loading it cannot run code, unlike
pickle, ``torch.save`` or joblib files. Anything else put where a model should be is
refused by its first bytes, before any parser sees it.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.numpy import save_file
from torch import nn

from fmnist.data import NUM_CLASSES
from fmnist.errors import ModelFileError
from fmnist.io import atomic_path
from fmnist.models import ACTIVATIONS, N_PIXELS, CNNSpec, MLPWeights, build_cnn
from fmnist.params import ARCHITECTURES

_PICKLE_OR_ZIP = (b"\x80", b"PK\x03\x04")  # pickle protocol 2+; torch.save / joblib zip
_MAX_HEADER = 100 << 20  # safetensors' own limit on the JSON header


_METADATA_KEY = "fmnist"


def save_weights(path: Path | str, tensors: dict[str, np.ndarray], metadata: dict) -> None:
    """Write tensors as safetensors, atomically; the same tensors give the same bytes.

    safetensors keeps metadata in a hash map whose order changes from process to process,
    so all of ours goes under one key as sorted JSON.
    """
    arrays = {k: np.require(v, requirements="C") for k, v in tensors.items()}  # keeps 0-d shapes
    packed = {_METADATA_KEY: json.dumps(metadata, sort_keys=True)}
    with atomic_path(path) as tmp:
        save_file(arrays, str(tmp), metadata=packed)


def load_weights(
    path: Path | str, model: str | tuple[str, ...]
) -> tuple[dict[str, np.ndarray], dict]:
    """Read a safetensors file written for ``model`` (or one of several); refuse anything else.

    Pickle-based files are rejected by their first bytes and never handed to a loader that
    could execute them. Truncated or altered headers, another model's file and non-finite
    weights are all errors that name the file.
    """
    path = Path(path)
    try:
        with path.open("rb") as fh:
            head = fh.read(8)
            header_len = struct.unpack("<Q", head)[0] if len(head) == 8 else 0
            header_bytes = fh.read(min(header_len, _MAX_HEADER))
        size = path.stat().st_size
    except FileNotFoundError:
        raise ModelFileError(f"{path}: model file not found; run `dvc repro`") from None
    if head.startswith(_PICKLE_OR_ZIP):
        raise ModelFileError(
            f"{path}: looks like a pickle or torch.save archive; refusing to load it "
            "(only safetensors files are accepted, since pickles can run code)"
        )
    if not 0 < header_len <= _MAX_HEADER or 8 + header_len > size:
        raise ModelFileError(f"{path}: not a complete safetensors file ({size} bytes)")
    try:
        header = json.loads(header_bytes)
        data_end = max(
            (v["data_offsets"][1] for k, v in header.items() if k != "__metadata__"), default=0
        )
    except (json.JSONDecodeError, UnicodeDecodeError, AttributeError, KeyError, TypeError) as exc:
        raise ModelFileError(f"{path}: corrupt safetensors file (header: {exc})") from None
    if 8 + header_len + data_end != size:
        raise ModelFileError(
            f"{path}: not a complete safetensors file: its header describes "
            f"{8 + header_len + data_end} bytes, the file has {size}"
        )
    try:
        with safe_open(str(path), framework="numpy") as fh:
            metadata = json.loads((fh.metadata() or {}).get(_METADATA_KEY, "{}"))
            tensors = {name: fh.get_tensor(name) for name in fh.keys()}
    except (SafetensorError, json.JSONDecodeError, ValueError, OSError) as exc:
        raise ModelFileError(f"{path}: corrupt safetensors file ({exc})") from None
    if "model" not in metadata:
        raise ModelFileError(
            f"{path}: carries no model label: not written by this pipeline (or by an older "
            "version); rerun `dvc repro`"
        )
    allowed = (model,) if isinstance(model, str) else model
    if metadata["model"] not in allowed:
        expected = " or ".join(repr(m) for m in allowed)
        raise ModelFileError(f"{path}: holds a {metadata['model']!r} model, expected {expected}")
    for name, t in tensors.items():
        if not np.all(np.isfinite(t)):
            raise ModelFileError(f"{path}: tensor {name!r} has non-finite values")
    return tensors, metadata


def check_shapes(
    path: Path | str, tensors: dict[str, np.ndarray], expected: dict[str, tuple]
) -> None:
    """Name every missing, unexpected or mis-shaped tensor, as a reader would want it."""
    problems = [f"missing {k}" for k in expected if k not in tensors]
    problems += [f"unexpected {k}" for k in tensors if k not in expected]
    problems += [
        f"{k} has shape {tuple(tensors[k].shape)}, expected {tuple(s)}"
        for k, s in expected.items()
        if k in tensors and tuple(tensors[k].shape) != tuple(s)
    ]
    if problems:
        raise ModelFileError(f"{path}: not this architecture: " + "; ".join(problems))


def save_mlp(path: Path | str, weights: MLPWeights) -> None:
    save_weights(path, weights.tensors(), {"model": "mlp", "activation": weights.activation})


def load_mlp(path: Path | str) -> MLPWeights:
    tensors, metadata = load_weights(path, "mlp")
    n_layers = len(tensors) // 2
    coefs = tuple(tensors.get(f"coef_{i}") for i in range(n_layers))
    intercepts = tuple(tensors.get(f"intercept_{i}") for i in range(n_layers))
    if n_layers == 0 or any(c is None or c.ndim != 2 for c in coefs):
        raise ModelFileError(f"{path}: expected coef_i/intercept_i pairs, got {sorted(tensors)}")
    widths = [N_PIXELS] + [c.shape[1] for c in coefs]
    expected = {}
    for i in range(n_layers):
        expected[f"coef_{i}"] = (widths[i], widths[i + 1])
        expected[f"intercept_{i}"] = (widths[i + 1],)
    expected[f"coef_{n_layers - 1}"] = (widths[-2], NUM_CLASSES)
    expected[f"intercept_{n_layers - 1}"] = (NUM_CLASSES,)
    check_shapes(path, tensors, expected)
    activation = metadata.get("activation")
    if activation not in ACTIVATIONS:
        raise ModelFileError(f"{path}: unknown activation {activation!r}")
    return MLPWeights(coefs, intercepts, activation)


STUDY_CNN = CNNSpec()


def state_arrays(state: dict, prefix: str = "") -> dict[str, np.ndarray]:
    """A torch state dict as the NumPy arrays a safetensors file holds, names prefixed."""
    return {prefix + k: v.detach().cpu().contiguous().numpy() for k, v in state.items()}


def save_cnn(path: Path | str, model: nn.Module, spec: CNNSpec = STUDY_CNN) -> None:
    save_weights(path, state_arrays(model.state_dict()), spec.metadata())


def load_cnn(path: Path | str) -> nn.Module:
    """The saved CNN in eval mode, rebuilt from the architecture its file records.

    Dropout, the one hyper-parameter not in the weights, is off in eval mode anyway.
    """
    tensors, metadata = load_weights(path, ARCHITECTURES)
    try:
        sizes = {k: int(metadata[k]) for k in ("width", "blocks") if k in metadata}
        spec = CNNSpec(metadata["model"], **sizes)
    except (TypeError, ValueError):
        raise ModelFileError(
            f"{path}: bad architecture sizes in its metadata: {metadata}"
        ) from None
    model = build_cnn(spec)
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    check_shapes(path, tensors, expected)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in tensors.items()})
    return model.eval()
