"""The arrays the models see: pixels scaled to [0, 1], written by `prepare`, read by the rest."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fmnist.classes import IMAGE_SHAPE
from fmnist.errors import DataError

SPLITS = ("train", "val", "test")


def scale(images: np.ndarray) -> np.ndarray:
    """The study's normalisation: uint8 pixels divided by 255, as float32."""
    return images.astype(np.float32) / np.float32(255.0)


@dataclass(frozen=True)
class Split:
    x: np.ndarray  # float32 (N, 28, 28) in [0, 1]
    y: np.ndarray  # int64 (N,)


def pixel_permutation(seed: int) -> np.ndarray:
    """The fixed order of the 784 pixels for ``prepare.permute_pixels``: a bijection drawn
    from ``seed`` alone, so train, val and test (and a rerun) share it."""
    return np.random.default_rng(seed).permutation(IMAGE_SHAPE[0] * IMAGE_SHAPE[1])


def permute_pixels(images: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Images (N, 28, 28) with pixel ``order[i]`` moved to position ``i`` (row-major):
    an MLP sees the same numbers in another order, a convolution loses every neighbourhood."""
    flat = images.reshape(len(images), -1)
    return np.ascontiguousarray(flat[:, order]).reshape(images.shape)


def save_split(directory: Path, name: str, images: np.ndarray, labels: np.ndarray) -> None:
    np.save(directory / f"{name}_x.npy", scale(images))
    np.save(directory / f"{name}_y.npy", labels.astype(np.int64))


def load_prepared(directory: Path | str, split: str) -> Split:
    """Memory-map one prepared split ('train', 'val' or 'test') written by the prepare stage."""
    directory = Path(directory)
    try:
        x = np.load(directory / f"{split}_x.npy", mmap_mode="r", allow_pickle=False)
        y = np.load(directory / f"{split}_y.npy", allow_pickle=False)
    except FileNotFoundError as exc:
        raise DataError(f"{exc.filename}: not found; run `dvc repro prepare`") from None
    except ValueError as exc:
        raise DataError(f"{directory}/{split}_*.npy: unreadable ({exc})") from None
    if len(x) != len(y) or x.shape[1:] != IMAGE_SHAPE:
        raise DataError(f"{directory}: {split} arrays disagree: x {x.shape}, y {y.shape}")
    return Split(x, y)
