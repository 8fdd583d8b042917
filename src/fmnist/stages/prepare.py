"""Stage `prepare`: parse the IDX files, slice and split as params say, scale to [0, 1],
and, for the structure experiment, shuffle the pixels in one fixed order.

Arrays are written as ``.npy`` so the trainers memory-map them instead of re-parsing;
a small JSON of dataset statistics goes to git beside the metrics.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

from fmnist.classes import CLASS_NAMES, NUM_CLASSES
from fmnist.errors import DataError
from fmnist.idx import RAW_FILES, load_raw
from fmnist.io import atomic_dir, write_json
from fmnist.params import Params
from fmnist.paths import DATASET_STATS, PREPARED_DIR, RAW_DIR
from fmnist.prepared import permute_pixels, pixel_permutation, save_split, scale
from fmnist.runner import run_stage


def split_validation(labels: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, val): a stratified hold-out of ``fraction``, both sorted; none if 0."""
    index = np.arange(len(labels))
    if fraction == 0:
        return index, index[:0]
    try:
        train, val = train_test_split(index, test_size=fraction, stratify=labels, random_state=seed)
    except ValueError as exc:
        raise DataError(f"prepare.val_fraction={fraction}: cannot stratify ({exc})") from None
    return np.sort(train), np.sort(val)


def class_counts(labels: np.ndarray) -> dict[str, int]:
    counts = np.bincount(labels, minlength=NUM_CLASSES)
    return {name: int(c) for name, c in zip(CLASS_NAMES, counts, strict=True)}


def prepare(raw_dir: Path, out_dir: Path, stats_file: Path, *, train_size: int,
            test_size: int, val_fraction: float, seed: int, permute: bool = False) -> dict:  # fmt: skip
    """Write train/val/test arrays to ``out_dir`` and their statistics to ``stats_file``."""
    raw = load_raw(raw_dir)
    train_images, test_images = raw.train_images[: train_size or None], raw.test_images[: test_size or None]
    if permute:
        order = pixel_permutation(seed)
        train_images, test_images = permute_pixels(train_images, order), permute_pixels(test_images, order)
    train_labels = raw.train_labels[: train_size or None]
    test_labels = raw.test_labels[: test_size or None]
    train_idx, val_idx = split_validation(train_labels, val_fraction, seed)

    splits = {
        "train": (train_images[train_idx], train_labels[train_idx]),
        "val": (train_images[val_idx], train_labels[val_idx]),
        "test": (test_images, test_labels),
    }
    with atomic_dir(out_dir) as tmp:
        for name, (images, labels) in splits.items():
            save_split(tmp, name, images, labels)

    train_pixels = scale(splits["train"][0])
    stats = {
        "sizes": {name: int(len(labels)) for name, (_, labels) in splits.items()},
        "class_counts": {name: class_counts(labels) for name, (_, labels) in splits.items()},
        "train_pixel_mean": round(float(train_pixels.mean(dtype=np.float64)), 6),
        "train_pixel_std": round(float(train_pixels.std(dtype=np.float64)), 6),
        "permuted_pixels": permute,
        "payload_md5": {spec.name.removesuffix(".gz"): spec.payload_md5 for spec in RAW_FILES},
    }
    write_json(stats_file, stats)
    return stats


def stage(params: Params) -> None:
    p = params.prepare
    stats = prepare(RAW_DIR, PREPARED_DIR, DATASET_STATS, train_size=p.train_size,
                    test_size=p.test_size, val_fraction=p.val_fraction, seed=params.seed,
                    permute=p.permute_pixels)  # fmt: skip
    print(f"prepare: {stats['sizes']} written to {PREPARED_DIR}")


def main() -> None:
    run_stage(stage)


if __name__ == "__main__":
    main()
