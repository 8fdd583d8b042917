"""Training-time augmentation of whole batches, on the batch's device, from one seeded generator.

Each function draws its randomness per image from ``gen``, so a run is reproducible and
a checkpoint that saves ``gen``'s state resumes the same draws. Inputs are (N, 1, H, W).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def _uniform(n: int, lo: float, hi: float, gen: torch.Generator, device) -> torch.Tensor:
    return lo + (hi - lo) * torch.rand(n, generator=gen, device=device)


def random_translate(x: torch.Tensor, padding: int, gen: torch.Generator) -> torch.Tensor:
    """Shift each image by up to ``padding`` pixels each way, filling with zeros (background)
    (the usual pad-and-random-crop)."""
    n, _, h, w = x.shape
    padded = F.pad(x[:, 0], (padding, padding, padding, padding))
    dy = torch.randint(0, 2 * padding + 1, (n, 1), generator=gen, device=x.device)
    dx = torch.randint(0, 2 * padding + 1, (n, 1), generator=gen, device=x.device)
    rows = (dy + torch.arange(h, device=x.device))[:, :, None]
    cols = (dx + torch.arange(w, device=x.device))[:, None, :]
    return padded[torch.arange(n, device=x.device)[:, None, None], rows, cols].unsqueeze(1)


def random_hflip(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Mirror each image left-right with probability 1/2."""
    flip = torch.rand(len(x), generator=gen, device=x.device) < 0.5
    return torch.where(flip[:, None, None, None], x.flip(3), x)


def random_erase(x: torch.Tensor, p: float, gen: torch.Generator,
                 area: tuple[float, float] = (0.02, 0.33), ratio: tuple[float, float] = (0.3, 3.3)) -> torch.Tensor:  # fmt: skip
    """With probability ``p`` per image, zero a rectangle covering ``area`` of it with aspect
    ratio in ``ratio`` (Zhong et al. 2020's random erasing, torchvision's default ranges)."""
    n, _, h, w = x.shape
    dev = x.device
    target = h * w * _uniform(n, *area, gen, dev)
    aspect = torch.exp(_uniform(n, math.log(ratio[0]), math.log(ratio[1]), gen, dev))
    eh = torch.sqrt(target * aspect).round().clamp(1, h)
    ew = torch.sqrt(target / aspect).round().clamp(1, w)
    top = (_uniform(n, 0, 1, gen, dev) * (h - eh + 1)).floor()
    left = (_uniform(n, 0, 1, gen, dev) * (w - ew + 1)).floor()
    apply = torch.rand(n, generator=gen, device=dev) < p
    r = torch.arange(h, device=dev)[None, :]
    c = torch.arange(w, device=dev)[None, :]
    in_rows = (r >= top[:, None]) & (r < (top + eh)[:, None])
    in_cols = (c >= left[:, None]) & (c < (left + ew)[:, None])
    mask = in_rows[:, :, None] & in_cols[:, None, :] & apply[:, None, None]
    return x.masked_fill(mask[:, None], 0.0)


def augment(x: torch.Tensor, gen: torch.Generator, crop_padding: int = 0, hflip: bool = False,
            random_erasing: float = 0.0) -> torch.Tensor:  # fmt: skip
    """The switched-on augmentations in a fixed order: translate, flip, erase."""
    if crop_padding:
        x = random_translate(x, crop_padding, gen)
    if hflip:
        x = random_hflip(x, gen)
    if random_erasing:
        x = random_erase(x, random_erasing, gen)
    return x
