"""The two architectures: the study's LeNet in PyTorch, and the MLP as plain arrays.

The MLP is trained by sklearn but predicted here with NumPy from its weight arrays, so
evaluating it never needs to unpickle an sklearn estimator (see weights.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from fmnist.data import IMAGE_SHAPE, NUM_CLASSES

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
        for i, (w, b) in enumerate(zip(self.coefs, self.intercepts, strict=True)):
            out[f"coef_{i}"], out[f"intercept_{i}"] = w, b
        return out


ACTIVATIONS = {
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
    act = ACTIVATIONS[weights.activation]
    h = x
    for w, b in zip(weights.coefs[:-1], weights.intercepts[:-1], strict=True):
        h = act(h @ w + b)
    return softmax(h @ weights.coefs[-1] + weights.intercepts[-1])
