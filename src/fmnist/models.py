"""The networks: the study's LeNet and its variants in PyTorch, and the MLP as plain arrays.

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
    """The study's CNN: conv 32@5x5 pad 2, pool, conv 64@5x5, pool, fc 1600-256-128-10.

    ``batch_norm`` adds BatchNorm after both convolutions and fc1 (``lenet_bn``); without
    it the layers, and so the saved tensors, are exactly the study's.
    """

    def __init__(self, dropout: float = 0.5, batch_norm: bool = False):
        super().__init__()
        norm2d = nn.BatchNorm2d if batch_norm else (lambda _: nn.Identity())
        norm1d = nn.BatchNorm1d if batch_norm else (lambda _: nn.Identity())
        self.conv1 = nn.Conv2d(1, 32, kernel_size=5, padding=2, bias=not batch_norm)
        self.bn1 = norm2d(32)
        self.conv2 = nn.Conv2d(32, 64, kernel_size=5, bias=not batch_norm)
        self.bn2 = norm2d(64)
        self.fc1 = nn.Linear(64 * 5 * 5, 256, bias=not batch_norm)
        self.bn3 = norm1d(256)
        self.fc2 = nn.Linear(256, 128)
        self.fc3 = nn.Linear(128, NUM_CLASSES)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (N, 1, 28, 28)
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        x = self.dropout(F.relu(self.bn3(self.fc1(torch.flatten(x, 1)))))
        return self.fc3(F.relu(self.fc2(x)))


class ResidualBlock(nn.Module):
    """Two 3x3 conv-BN layers with an identity shortcut (a 1x1 conv where the shape changes)."""

    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Identity()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class ResNet(nn.Module):
    """A CIFAR-style ResNet (He et al. 2016, section 4.2) for 28x28: three stages at 28, 14
    and 7 pixels with width, 2x and 4x channels, ``blocks`` per stage (depth 6 * blocks + 2).
    """

    def __init__(self, width: int = 16, blocks: int = 1):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(1, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU()
        )
        layers, cin = [], width
        for stage, cout in enumerate((width, 2 * width, 4 * width)):
            for block in range(blocks):
                layers.append(ResidualBlock(cin, cout, stride=2 if stage > 0 and block == 0 else 1))
                cin = cout
        self.stages = nn.Sequential(*layers)
        self.fc = nn.Linear(cin, NUM_CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stages(self.stem(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


@dataclass(frozen=True)
class CNNSpec:
    """What rebuilds a saved CNN: its architecture and the sizes that shape its tensors."""

    arch: str = "lenet"
    width: int = 16
    blocks: int = 1

    def metadata(self) -> dict:
        """The label a model file carries; only the ResNet has sizes to record."""
        if self.arch == "resnet":
            return {"model": self.arch, "width": self.width, "blocks": self.blocks}
        return {"model": self.arch}


def build_cnn(spec: CNNSpec, dropout: float = 0.5) -> nn.Module:
    if spec.arch == "resnet":
        return ResNet(spec.width, spec.blocks)
    return LeNet(dropout, batch_norm=spec.arch == "lenet_bn")


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
