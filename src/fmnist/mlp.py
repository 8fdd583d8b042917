"""The MLP as plain arrays: sklearn trains it, NumPy predicts with it, safetensors holds it.

Evaluating or serving the MLP never unpickles an sklearn estimator, and needs neither
sklearn nor torch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fmnist.classes import N_PIXELS, NUM_CLASSES
from fmnist.errors import ModelFileError
from fmnist.weights import check_shapes, load_weights, save_weights


@dataclass(frozen=True)
class MLPWeights:
    """An sklearn ``MLPClassifier``'s learned arrays: enough to predict, nothing executable."""

    coefs: tuple[np.ndarray, ...]
    intercepts: tuple[np.ndarray, ...]
    activation: str

    def tensors(self) -> dict[str, np.ndarray]:
        out = {}
        for i, (w, b) in enumerate(zip(self.coefs, self.intercepts, strict=True)):
            out[f"coef_{i}"], out[f"intercept_{i}"] = w, b
        return out

    def parameters(self) -> int:
        return int(sum(t.size for t in self.tensors().values()))


ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "relu": lambda z: np.maximum(z, 0),
    "tanh": np.tanh,
    "logistic": lambda z: 1 / (1 + np.exp(-z)),
    "identity": lambda z: z,
}


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def mlp_logits(weights: MLPWeights, x: np.ndarray) -> np.ndarray:
    """Pre-softmax outputs for flattened images: sklearn's forward pass, step for step."""
    act = ACTIVATIONS[weights.activation]
    h = x
    for w, b in zip(weights.coefs[:-1], weights.intercepts[:-1], strict=True):
        h = act(h @ w + b)
    return h @ weights.coefs[-1] + weights.intercepts[-1]


def mlp_predict_proba(weights: MLPWeights, x: np.ndarray) -> np.ndarray:
    """Class probabilities for flattened images, the same as sklearn's ``predict_proba``."""
    return softmax(mlp_logits(weights, x))


def save_mlp(path: Path | str, weights: MLPWeights) -> None:
    save_weights(path, weights.tensors(), {"model": "mlp", "activation": weights.activation})


def load_mlp(path: Path | str) -> MLPWeights:
    tensors, metadata = load_weights(path, "mlp")
    n_layers = len(tensors) // 2
    names = [f"coef_{i}" for i in range(n_layers)]
    if n_layers == 0 or any(n not in tensors or tensors[n].ndim != 2 for n in names):
        raise ModelFileError(f"{path}: expected coef_i/intercept_i pairs, got {sorted(tensors)}")
    widths = [N_PIXELS] + [tensors[n].shape[1] for n in names]
    expected: dict[str, tuple[int, ...]] = {}
    for i in range(n_layers):
        expected[f"coef_{i}"] = (widths[i], widths[i + 1])
        expected[f"intercept_{i}"] = (widths[i + 1],)
    expected[f"coef_{n_layers - 1}"] = (widths[-2], NUM_CLASSES)
    expected[f"intercept_{n_layers - 1}"] = (NUM_CLASSES,)
    check_shapes(path, tensors, expected)
    activation = metadata.get("activation")
    if activation not in ACTIVATIONS:
        raise ModelFileError(f"{path}: unknown activation {activation!r}")
    coefs = tuple(tensors[f"coef_{i}"] for i in range(n_layers))
    return MLPWeights(coefs, tuple(tensors[f"intercept_{i}"] for i in range(n_layers)), activation)
