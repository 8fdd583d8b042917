"""The PyTorch MLP: dense layers on the 784 pixels, nothing shared across pixel positions.

It trains with the CNN's loop (training.py) and leaves as the study MLP does, as plain
arrays in mlp.py's format: BatchNorm, when on, is folded into the dense layer before it,
and dropout is the identity at inference, so evaluation, ONNX export and serving read
either MLP the same way.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from fmnist.classes import N_PIXELS, NUM_CLASSES
from fmnist.mlp import MLPWeights

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "logistic": nn.Sigmoid, "identity": nn.Identity}


class TorchMLP(nn.Module):
    """Flatten, then per hidden layer: dense, BatchNorm (optional), activation, dropout; a dense head."""

    def __init__(self, hidden: tuple[int, ...], activation: str = "relu", batch_norm: bool = False,
                 dropout: float = 0.0) -> None:  # fmt: skip
        super().__init__()
        self.activation = activation
        layers: list[nn.Module] = [nn.Flatten()]
        widths = (N_PIXELS, *hidden)
        for n_in, n_out in zip(widths[:-1], widths[1:], strict=True):
            layers.append(nn.Linear(n_in, n_out))
            layers += [nn.BatchNorm1d(n_out)] if batch_norm else []
            layers += [ACTIVATIONS[activation](), nn.Dropout(dropout)]
        layers.append(nn.Linear(widths[-1], NUM_CLASSES))
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (N, 1, 28, 28) or (N, 784)
        return self.layers(x)

    def muon_parameters(self) -> list[torch.Tensor]:
        """The hidden layers' weight matrices: Muon's share; the output layer stays with Adam."""
        dense = [m for m in self.layers if isinstance(m, nn.Linear)]
        return [m.weight for m in dense[:-1]]


def folded(linear: nn.Linear, norm: nn.BatchNorm1d | None) -> tuple[np.ndarray, np.ndarray]:
    """(coef (in, out), intercept) of ``linear`` followed by ``norm`` in inference mode."""
    w, b = linear.weight.detach().double(), linear.bias.detach().double()
    if norm is not None:
        assert norm.running_mean is not None and norm.running_var is not None
        scale = torch.rsqrt(norm.running_var.double() + norm.eps)
        if norm.weight is not None:
            scale = scale * norm.weight.detach().double()
        shift = norm.bias.detach().double() if norm.bias is not None else 0.0
        w, b = w * scale[:, None], (b - norm.running_mean.double()) * scale + shift
    return w.T.float().numpy(), b.float().numpy()


def mlp_weights(model: TorchMLP) -> MLPWeights:
    """The trained network as mlp.py's arrays, BatchNorm folded in: what is saved and served."""
    layers = list(model.layers)
    pairs = []
    for i, layer in enumerate(layers):
        if isinstance(layer, nn.Linear):
            after = layers[i + 1] if i + 1 < len(layers) else None
            pairs.append(folded(layer, after if isinstance(after, nn.BatchNorm1d) else None))
    coefs, intercepts = zip(*pairs, strict=True)
    return MLPWeights(tuple(coefs), tuple(intercepts), model.activation)
