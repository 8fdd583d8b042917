"""The CNNs, in one registry: the study's LeNet and the architectures that outgrow it.

``ARCHITECTURES`` is the only list of names: params name an entry of it, model files are
labelled with one, and an unknown name is an error, never a silent LeNet.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from fmnist.classes import NUM_CLASSES
from fmnist.errors import ModelFileError, ParamsError
from fmnist.weights import check_shapes, load_weights, save_weights


@dataclass(frozen=True)
class CNNSpec:
    """What rebuilds a saved CNN: its architecture and the sizes that shape its tensors."""

    arch: str = "lenet"
    width: int = 16
    blocks: int = 1

    def metadata(self) -> dict:
        """The label a model file carries; sizes only where the architecture has them."""
        if ARCHITECTURES[self.arch].sized:
            return {"model": self.arch, "width": self.width, "blocks": self.blocks}
        return {"model": self.arch}


@dataclass(frozen=True)
class Architecture:
    build: Callable[[CNNSpec, float], nn.Module]  # (spec, dropout) -> a fresh network
    sized: bool  # whether cnn.width and cnn.blocks shape it


ARCHITECTURES: dict[str, Architecture] = {}


def register(name: str, sized: bool):
    def add(build: Callable[[CNNSpec, float], nn.Module]):
        ARCHITECTURES[name] = Architecture(build, sized)
        return build

    return add


def check_arch(name: str) -> None:
    if name not in ARCHITECTURES:
        known = ", ".join(repr(a) for a in ARCHITECTURES)
        raise ParamsError(f"cnn.arch: expected one of {known}, got {name!r}")


def build_cnn(spec: CNNSpec, dropout: float = 0.5) -> nn.Module:
    check_arch(spec.arch)
    return ARCHITECTURES[spec.arch].build(spec, dropout)


# ----------------------------------------------------------------------------- LeNet


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


@register("lenet", sized=False)
def _lenet(spec: CNNSpec, dropout: float) -> nn.Module:
    return LeNet(dropout)


@register("lenet_bn", sized=False)
def _lenet_bn(spec: CNNSpec, dropout: float) -> nn.Module:
    return LeNet(dropout, batch_norm=True)


# ----------------------------------------------------------------------------- ResNet


class ResidualBlock(nn.Module):
    """Two 3x3 conv-BN layers with an identity shortcut (a 1x1 conv where the shape changes)."""

    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class ResNet(nn.Module):
    """A CIFAR-style ResNet (He et al. 2016, section 4.2) for 28x28: three stages at 28, 14
    and 7 pixels with width, 2x and 4x channels, ``blocks`` per stage (depth 6 * blocks + 2).
    """

    def __init__(self, width: int = 16, blocks: int = 1):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU())
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


@register("resnet", sized=True)
def _resnet(spec: CNNSpec, dropout: float) -> nn.Module:
    return ResNet(spec.width, spec.blocks)


# ----------------------------------------------------------------------------- VGG-style


class ConvGroup(nn.Sequential):
    """A 3x3 convolution, 2x2 max-pooling, then BatchNorm and ReLU at the pooled size (a
    quarter of the memory traffic of normalising first), and ``extra`` more 3x3
    conv-BN-ReLU units at that size."""

    def __init__(self, cin: int, cout: int, extra: int = 0):
        layers = [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.MaxPool2d(2), nn.BatchNorm2d(cout), nn.ReLU()]
        for _ in range(extra):
            layers += [nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]
        super().__init__(*layers)


class VGG(nn.Module):
    """Shaped for a small CPU: 3x3 convolutions, pooling early, a pooled head.

    Three groups at 28, 14 and 7 px with width, 2x and 4x channels; each pools right after
    its first convolution, so BatchNorm and ReLU run on 14, 7 and 3 px maps, and the
    ``blocks - 1`` further convolutions of a group work at the pooled size. Global max
    pooling feeds one linear layer in place of LeNet's 1600-256-128 stack. On two cores
    the elementwise layers, not the convolutions, set the pace of a network this small.
    """

    def __init__(self, width: int = 32, blocks: int = 1):
        super().__init__()
        widths = (width, 2 * width, 4 * width)
        self.stem = ConvGroup(1, widths[0], blocks - 1)
        self.groups = nn.Sequential(ConvGroup(widths[0], widths[1], blocks - 1),
                                    ConvGroup(widths[1], widths[2], blocks - 1))  # fmt: skip
        self.fc = nn.Linear(widths[2], NUM_CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.from_pooled_stem(self.pooled_stem(x))

    def pooled_stem(self, x: torch.Tensor) -> torch.Tensor:
        """The first convolution and its pooling: no trainable weight once whitened, so
        training without augmentation computes it once per image instead of every epoch."""
        conv, pool = cast(nn.Conv2d, self.stem[0]), self.stem[1]
        if torch.is_grad_enabled() and conv.weight.requires_grad:
            return pool(conv(x))
        return pooled_conv(x, conv.weight)

    def from_pooled_stem(self, x: torch.Tensor) -> torch.Tensor:
        for layer in list(self.stem)[2:]:  # its BatchNorm, ReLU and further convolutions
            x = layer(x)
        x = self.groups(x)
        return self.fc(torch.flatten(F.adaptive_max_pool2d(x, 1), 1))


def pooled_conv(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """``max_pool2d(conv2d(x, weight, padding=1), 2)`` for 3x3 filters, as the maximum of four
    stride-2 convolutions, one per place in the pooling window: without the full-size map,
    most of a one-channel stem's cost, in half the time or less on two CPU cores. The same
    bits for 28 px images on CPU (tested), else to float rounding. Forward only: on ties
    the maximum splits a gradient that pooling gives to one input."""
    h, w = x.shape[-2] // 2, x.shape[-1] // 2
    padded = F.pad(x, (1, 1, 1, 1))
    a, b, c, d = (F.conv2d(padded[:, :, dy:, dx:], weight, stride=2)[..., :h, :w] for dy in (0, 1) for dx in (0, 1))
    return torch.maximum(torch.maximum(a, b), torch.maximum(c, d))


def patch_whitening(images: torch.Tensor, eps: float = 1e-2) -> torch.Tensor:
    """(9, 1, 3, 3) filters that whiten 3x3 patches: the principal directions of the patches,
    largest variance first, each scaled by 1 / sqrt(its variance + eps)."""
    patches = F.unfold(images.float(), 3).transpose(1, 2).reshape(-1, 9).double()
    variances, directions = torch.linalg.eigh(torch.cov(patches.T))
    order = variances.argsort(descending=True)
    filters = directions[:, order] / torch.sqrt(variances[order] + eps)
    return filters.T.reshape(9, 1, 3, 3).float()


def whiten_stem(model: nn.Module, images: torch.Tensor) -> None:
    """Fix the stem's 3x3 filters to ± the patch-whitening directions (cycled over its
    channels, strongest first) and freeze them: a first layer that needs no training."""
    if not isinstance(model, VGG):
        raise TypeError(type(model).__name__)
    conv = cast(nn.Conv2d, model.stem[0])
    basis = patch_whitening(images)
    pairs = torch.stack([basis, -basis], 1).reshape(-1, 1, 3, 3)  # f0, -f0, f1, -f1, ...
    with torch.no_grad():
        index = torch.arange(conv.out_channels) % len(pairs)
        conv.weight.copy_(pairs[index].to(conv.weight.device))
    conv.weight.requires_grad_(False)


def identity_init(model: nn.Module) -> None:
    """Start every convolution after the first as the identity on its input channels (the
    first ``in_channels`` filters; the others keep their random start), as airbench does:
    each layer begins by passing its input on."""
    if not isinstance(model, VGG):
        raise TypeError(type(model).__name__)
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)][1:]
    with torch.no_grad():
        for conv in convs:
            nn.init.dirac_(conv.weight[: conv.in_channels])


@register("vgg", sized=True)
def _vgg(spec: CNNSpec, dropout: float) -> nn.Module:
    return VGG(spec.width, spec.blocks)


# ----------------------------------------------------------------------------- files


def state_arrays(state: dict, prefix: str = "") -> dict[str, np.ndarray]:
    """A torch state dict as the NumPy arrays a safetensors file holds, names prefixed."""
    return {prefix + k: v.detach().cpu().contiguous().numpy() for k, v in state.items()}


def save_cnn(path: Path | str, model: nn.Module, spec: CNNSpec = CNNSpec()) -> None:
    save_weights(path, state_arrays(model.state_dict()), spec.metadata())


def load_cnn(path: Path | str) -> nn.Module:
    """The saved CNN in eval mode, rebuilt from the architecture its file records.

    Dropout, the one hyper-parameter not in the weights, is off in eval mode anyway.
    """
    tensors, metadata = load_weights(path, tuple(ARCHITECTURES))
    try:
        sizes = {k: int(metadata[k]) for k in ("width", "blocks") if k in metadata}
        spec = CNNSpec(metadata["model"], **sizes)
    except (TypeError, ValueError):
        raise ModelFileError(f"{path}: bad architecture sizes in its metadata: {metadata}") from None
    model = build_cnn(spec)
    check_shapes(path, tensors, {k: tuple(v.shape) for k, v in model.state_dict().items()})
    model.load_state_dict({k: torch.from_numpy(v) for k, v in tensors.items()})
    return model.eval()


def forward_flops(model: nn.Module) -> int:
    """FLOPs of one image's forward pass (PyTorch's FlopCounterMode: 2 per multiply-add).

    Training costs about three times this per image (forward, and backward for inputs and
    weights).
    """
    from torch.utils.flop_counter import FlopCounterMode

    was_training = model.training
    model.eval()
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(torch.zeros(1, 1, 28, 28, device=next(model.parameters()).device))
    model.train(was_training)
    return int(counter.get_total_flops())


def training_flops(model: nn.Module, batch: int = 64) -> float:
    """FLOPs of one image's training step, forward and backward (PyTorch's FlopCounterMode),
    averaged over a CPU batch of ``batch``; the optimiser's update is not counted."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        model(torch.rand(batch, 1, 28, 28)).sum().backward()
    model.zero_grad(set_to_none=True)
    return counter.get_total_flops() / batch
