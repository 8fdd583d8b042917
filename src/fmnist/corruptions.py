"""Seeded, deterministic image corruptions at graded severities, for the robustness stage.

Each transformation maps images (N, 28, 28) float32 in [0, 1] to images of the same shape
and range. Severity 0 is the identity; severities 1.. follow ``SEVERITIES``, in the
transformation's own unit. What varies per image (a direction, a noise draw, where an
occluder sits) comes from a generator seeded by the seed, the transformation's name and
the severity, so a rerun gives the same images. The kinds follow MNIST-C (Mu and Gilmer
2019) where they make sense for photographs of clothing on a black background; the
geometric ones ask the question of the structure experiment: does a model that keeps the
image's 2-D layout tolerate the garment moving?
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

# Severity 0 first (the identity), then severities 1, 2, ... in each transformation's unit.
SEVERITIES: dict[str, tuple[float, ...]] = {
    "translate": (0, 1, 2, 3, 4),  # pixels, in one of 8 directions per image
    "rotate": (0, 10, 20, 30),  # degrees, either way
    "scale": (0, 0.1, 0.2, 0.3),  # zoom by 1 + s, in or out
    "shear": (0, 0.2, 0.4, 0.6),  # horizontal shear factor, either way
    "gaussian_noise": (0, 0.1, 0.2, 0.3),  # standard deviation
    "shot_noise": (0, 60, 25, 10),  # photons at full white (Poisson); fewer is noisier
    "impulse_noise": (0, 0.03, 0.06, 0.10),  # share of pixels set to black or white
    "gaussian_blur": (0, 0.5, 1.0, 1.5),  # standard deviation in pixels
    "motion_blur": (0, 3, 5, 7),  # length of a horizontal streak in pixels
    "contrast": (0, 0.4, 0.6, 0.8),  # share of the contrast to each image's mean removed
    "occlude": (0, 6, 10, 14),  # side of a black square, somewhere in the central 20x20
}
UNITS = {"translate": "pixels", "rotate": "degrees", "scale": "zoom 1 + s", "shear": "shear factor",
         "gaussian_noise": "noise σ", "shot_noise": "photons", "impulse_noise": "share of pixels",
         "gaussian_blur": "blur σ (pixels)", "motion_blur": "streak (pixels)", "contrast": "share removed",
         "occlude": "square side (pixels)"}  # fmt: skip


def generator(seed: int, name: str, severity: int) -> np.random.Generator:
    """The draw of one (transformation, severity): independent of every other one."""
    return np.random.default_rng([seed, zlib.crc32(name.encode()), severity])


def signs(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.choice(np.array([-1.0, 1.0]), size=n)


def translate(x: np.ndarray, px: float, rng: np.random.Generator) -> np.ndarray:
    """Move each image by ``px`` pixels in one of 8 compass directions; the border is black."""
    steps = np.array([(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy or dx])
    moves = steps[rng.integers(0, len(steps), len(x))] * int(px)
    padded = np.pad(x, ((0, 0), (4, 4), (4, 4)))
    out = np.empty_like(x)
    for i, (dy, dx) in enumerate(moves):
        out[i] = padded[i, 4 - dy : 32 - dy, 4 - dx : 32 - dx]
    return out


def affine(x: np.ndarray, matrices: np.ndarray) -> np.ndarray:
    """Resample each image through its 2x3 matrix (output to input coordinates in [-1, 1]),
    bilinear, black outside."""
    images = torch.from_numpy(np.ascontiguousarray(x)).unsqueeze(1)
    theta = torch.from_numpy(matrices.astype(np.float32))
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    out = F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return out.squeeze(1).numpy()


def rotate(x: np.ndarray, degrees: float, rng: np.random.Generator) -> np.ndarray:
    angles = np.deg2rad(degrees) * signs(rng, len(x))
    cos, sin, zero = np.cos(angles), np.sin(angles), np.zeros(len(x))
    return affine(x, np.stack([np.stack([cos, -sin, zero], 1), np.stack([sin, cos, zero], 1)], 1))


def scale(x: np.ndarray, amount: float, rng: np.random.Generator) -> np.ndarray:
    """Zoom in (the garment grows past the frame) or out (it shrinks), chosen per image."""
    factor = (1 + amount) ** signs(rng, len(x))
    inverse, zero = 1 / factor, np.zeros(len(x))
    return affine(x, np.stack([np.stack([inverse, zero, zero], 1), np.stack([zero, inverse, zero], 1)], 1))


def shear(x: np.ndarray, amount: float, rng: np.random.Generator) -> np.ndarray:
    k, one, zero = amount * signs(rng, len(x)), np.ones(len(x)), np.zeros(len(x))
    return affine(x, np.stack([np.stack([one, k, zero], 1), np.stack([zero, one, zero], 1)], 1))


def gaussian_noise(x: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    return x + rng.normal(0.0, sigma, x.shape).astype(np.float32)


def shot_noise(x: np.ndarray, photons: float, rng: np.random.Generator) -> np.ndarray:
    return (rng.poisson(x.astype(np.float64) * photons) / photons).astype(np.float32)


def impulse_noise(x: np.ndarray, share: float, rng: np.random.Generator) -> np.ndarray:
    hit = rng.random(x.shape) < share
    return np.where(hit, rng.integers(0, 2, x.shape).astype(np.float32), x)


def convolve(x: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Each image convolved with a small normalised kernel, zero padding (black border)."""
    images = torch.from_numpy(np.ascontiguousarray(x)).unsqueeze(1)
    weight = torch.from_numpy((kernel / kernel.sum()).astype(np.float32))[None, None]
    padding = (kernel.shape[0] // 2, kernel.shape[1] // 2)
    return F.conv2d(images, weight, padding=padding).squeeze(1).numpy()


def gaussian_blur(x: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    radius = math.ceil(3 * sigma)
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    return convolve(x, np.outer(taps, taps))


def motion_blur(x: np.ndarray, length: float, rng: np.random.Generator) -> np.ndarray:
    return convolve(x, np.ones((1, int(length))))


def contrast(x: np.ndarray, removed: float, rng: np.random.Generator) -> np.ndarray:
    mean = x.mean(axis=(1, 2), keepdims=True)
    return mean + (1 - removed) * (x - mean)


def occlude(x: np.ndarray, side: float, rng: np.random.Generator) -> np.ndarray:
    side = int(side)
    corners = rng.integers(4, 24 - side + 1, size=(len(x), 2))
    out = x.copy()
    for i, (top, left) in enumerate(corners):
        out[i, top : top + side, left : left + side] = 0.0
    return out


TRANSFORMS: dict[str, Callable[[np.ndarray, float, np.random.Generator], np.ndarray]] = {
    "translate": translate, "rotate": rotate, "scale": scale, "shear": shear,
    "gaussian_noise": gaussian_noise, "shot_noise": shot_noise, "impulse_noise": impulse_noise,
    "gaussian_blur": gaussian_blur, "motion_blur": motion_blur, "contrast": contrast,
    "occlude": occlude,
}  # fmt: skip


def corrupt(images: np.ndarray, name: str, severity: int, seed: int) -> np.ndarray:
    """``images`` under transformation ``name`` at ``severity`` (0 = unchanged), in [0, 1]."""
    if name not in TRANSFORMS:
        raise KeyError(name)
    if severity == 0:
        return np.array(images, dtype=np.float32)
    amount = SEVERITIES[name][severity]
    out = TRANSFORMS[name](np.asarray(images, dtype=np.float32), amount, generator(seed, name, severity))
    return np.clip(out, 0.0, 1.0).astype(np.float32)
