"""Running a CNN on a batch of images: device choice, device-resident tensors, TTA.

Shared by training (validation each epoch), evaluation and export, so all three see the
same logits for the same weights.
"""

from __future__ import annotations

import contextlib

import numpy as np
import torch
from torch import nn

from fmnist.errors import ParamsError
from fmnist.prepared import Split


def pick_device(name: str, key: str = "cnn.device") -> torch.device:
    """'auto' means CUDA when present, else CPU; asking for absent CUDA is an error naming ``key``."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise ParamsError(f"{key}: 'cuda' was asked for but no CUDA device is available")
    return torch.device(name)


def to_tensors(split: Split, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """The split as two device-resident tensors, copied once (pinned, asynchronous on CUDA)."""
    x = torch.from_numpy(np.array(split.x)).unsqueeze(1)  # (N, 1, 28, 28), a private copy
    y = torch.from_numpy(split.y)
    if device.type == "cuda":
        x, y = x.pin_memory(), y.pin_memory()
    x = x.to(device, non_blocking=True).contiguous(memory_format=torch.channels_last)
    return x, y.to(device, non_blocking=True)


def cpu_runs_bf16_natively() -> bool:
    """Whether this CPU has bf16 matrix instructions (AMX tiles, or AVX-512 BF16), as torch
    reports them. Elsewhere oneDNN emulates bf16, slower than fp32 (PyTorch #86550, #118499)."""
    return bool(torch.cpu._is_amx_tile_supported() or torch.cpu._is_avx512_bf16_supported())


def resolve_precision(device: torch.device, precision: str) -> str:
    """``cnn.precision`` as it will run: ``auto`` is bf16 on CUDA devices that support it and
    on CPUs with native bf16, fp32 elsewhere; ``fp32`` and ``bf16`` are taken as asked."""
    if precision != "auto":
        return precision
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    return "bf16" if cpu_runs_bf16_natively() else "fp32"


def autocast(device: torch.device, precision: str = "fp32"):
    """Mixed precision as ``cnn.precision`` says (see ``resolve_precision``)."""
    if resolve_precision(device, precision) == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def shifted(x: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """The images moved by (dy, dx) pixels, background (zero) filling the gap."""
    if dy == dx == 0:
        return x
    h, w = x.shape[-2:]
    out = torch.zeros_like(x)
    out[..., max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = (
        x[..., max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)]
    )  # fmt: skip
    return out


def tta_views(flip: bool, shift: int) -> list[tuple[bool, int, int]]:
    """(mirror, dy, dx) of every view averaged: the image, its mirror, its 4 one-step shifts."""
    offsets = [(0, 0)] + [(d * shift, 0) for d in (-1, 1)] + [(0, d * shift) for d in (-1, 1)]
    offsets = offsets if shift else offsets[:1]
    return [(m, dy, dx) for m in ((False, True) if flip else (False,)) for dy, dx in offsets]


@torch.inference_mode()
def predict_logits(model: nn.Module, x: torch.Tensor, batch_size: int, tta_flip: bool = False,
                   tta_shift: int = 0, precision: str = "fp32") -> torch.Tensor:  # fmt: skip
    """Logits in batches; with test-time augmentation, the mean over the views of each image.
    Evaluation runs in the precision training ran in; export and serving keep fp32."""
    model.eval()
    views = tta_views(tta_flip, tta_shift)
    out = []
    with autocast(x.device, precision):
        for i in range(0, len(x), batch_size):
            xb = x[i : i + batch_size]
            if len(views) == 1:
                out.append(model(xb).float())
                continue
            total = sum(model(shifted(xb.flip(3) if m else xb, dy, dx)).float() for m, dy, dx in views)
            out.append(total / len(views))
    return torch.cat(out)
