"""The two models and their files.

Both are stored as safetensors: a JSON header plus raw tensor bytes, which cannot run code
on load (unlike pickle, ``torch.save`` or joblib). The MLP is stored as its weight arrays
and predicted with NumPy, so evaluating it needs no unpickling of an sklearn estimator.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors import SafetensorError, safe_open
from safetensors.numpy import save_file
from torch import nn

from fmnist.data import IMAGE_SHAPE, NUM_CLASSES
from fmnist.errors import ModelFileError
from fmnist.io import atomic_path

N_PIXELS = IMAGE_SHAPE[0] * IMAGE_SHAPE[1]

# ----------------------------------------------------------------------------- CNN


class LeNet(nn.Module):
    """The study's CNN: conv 32@5x5 pad 2, pool, conv 64@5x5, pool, fc 1600-256-128-10."""

    def __init__(self, dropout: float = 0.5):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, kernel_size=5, padding=2)
        self.conv2 = nn.Conv2d(32, 64, kernel_size=5)
        self.fc1 = nn.Linear(64 * 5 * 5, 256)
        self.fc2 = nn.Linear(256, 128)
        self.fc3 = nn.Linear(128, NUM_CLASSES)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (N, 1, 28, 28)
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = self.dropout(F.relu(self.fc1(torch.flatten(x, 1))))
        return self.fc3(F.relu(self.fc2(x)))


def count_parameters(tensors: dict[str, np.ndarray]) -> int:
    return int(sum(t.size for t in tensors.values()))


# ----------------------------------------------------------------------------- MLP


@dataclass(frozen=True)
class MLPWeights:
    """An sklearn ``MLPClassifier``'s learned arrays: enough to predict, nothing executable."""

    coefs: tuple[np.ndarray, ...]
    intercepts: tuple[np.ndarray, ...]
    activation: str

    def tensors(self) -> dict[str, np.ndarray]:
        out = {}
        for i, (w, b) in enumerate(zip(self.coefs, self.intercepts)):
            out[f"coef_{i}"], out[f"intercept_{i}"] = w, b
        return out


_ACTIVATIONS = {
    "relu": lambda z: np.maximum(z, 0),
    "tanh": np.tanh,
    "logistic": lambda z: 1 / (1 + np.exp(-z)),
    "identity": lambda z: z,
}


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def mlp_predict_proba(weights: MLPWeights, x: np.ndarray) -> np.ndarray:
    """Class probabilities for flattened images, the same forward pass as sklearn's."""
    act = _ACTIVATIONS[weights.activation]
    h = x
    for w, b in zip(weights.coefs[:-1], weights.intercepts[:-1]):
        h = act(h @ w + b)
    return softmax(h @ weights.coefs[-1] + weights.intercepts[-1])


# ----------------------------------------------------------------------------- files

_PICKLE_OR_ZIP = (b"\x80", b"PK\x03\x04")  # pickle protocol 2+; torch.save / joblib zip


def save_weights(path: Path | str, tensors: dict[str, np.ndarray], metadata: dict[str, str]) -> None:
    """Write tensors as safetensors, atomically; same tensors give the same bytes."""
    arrays = {k: np.ascontiguousarray(v) for k, v in tensors.items()}
    with atomic_path(path) as tmp:
        save_file(arrays, str(tmp), metadata=metadata)


def load_weights(path: Path | str, model: str) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Read a safetensors file written for ``model``; refuse anything else before parsing it.

    Pickle-based files are rejected by their first bytes and never handed to a loader that
    could execute them. Truncated or altered headers, another model's file and non-finite
    weights are all errors that name the file.
    """
    path = Path(path)
    try:
        head = path.open("rb").read(16)
        size = path.stat().st_size
    except FileNotFoundError:
        raise ModelFileError(f"{path}: model file not found; run `dvc repro`") from None
    if head.startswith(_PICKLE_OR_ZIP):
        raise ModelFileError(
            f"{path}: looks like a pickle or torch.save archive; refusing to load it "
            "(only safetensors files are accepted, since pickles can run code)"
        )
    if len(head) < 8 or struct.unpack("<Q", head[:8])[0] + 8 > size:
        raise ModelFileError(f"{path}: not a complete safetensors file ({size} bytes)")
    try:
        with safe_open(str(path), framework="numpy") as fh:
            metadata = fh.metadata() or {}
            tensors = {name: fh.get_tensor(name) for name in fh.keys()}
    except (SafetensorError, json.JSONDecodeError, ValueError, OSError) as exc:
        raise ModelFileError(f"{path}: corrupt safetensors file ({exc})") from None
    if metadata.get("model") != model:
        raise ModelFileError(
            f"{path}: holds a {metadata.get('model', 'unlabelled')!r} model, expected {model!r}"
        )
    for name, t in tensors.items():
        if not np.all(np.isfinite(t)):
            raise ModelFileError(f"{path}: tensor {name!r} has non-finite values")
    return tensors, metadata


def check_shapes(path: Path | str, tensors: dict[str, np.ndarray], expected: dict[str, tuple]) -> None:
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
    if activation not in _ACTIVATIONS:
        raise ModelFileError(f"{path}: unknown activation {activation!r}")
    return MLPWeights(coefs, intercepts, activation)


def save_cnn(path: Path | str, model: nn.Module) -> None:
    tensors = {k: v.detach().cpu().contiguous().numpy() for k, v in model.state_dict().items()}
    save_weights(path, tensors, {"model": "lenet"})


def load_cnn(path: Path | str) -> LeNet:
    """The saved CNN in eval mode (dropout, the only hyper-parameter not in the weights, is off)."""
    tensors, _ = load_weights(path, "lenet")
    model = LeNet()
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    check_shapes(path, tensors, expected)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in tensors.items()})
    return model.eval()
