"""A person's own image as the models' input: the preprocessing, stated and checked.

1. Open with Pillow under its decompression-bomb limit (refused, never allocated), first
   frame of an animation; CMYK, palette, 16-bit and alpha images converted (alpha over
   white), then grayscale.
2. Inverted when the background is light: Fashion-MNIST garments are light on black.
   The background is the median of the border pixels.
3. A 28x28 image is taken as it is, as Fashion-MNIST's own files are. Anything else is
   trimmed to its content, centred and padded to a square, and resized to 28x28 with
   antialiasing (Lanczos): the dataset's own recipe (Xiao et al. 2017, section 2).
4. Rounded to 8 bits like the dataset's files, then divided by 255 as in training:
   float32 in [0, 1].
"""

from __future__ import annotations

import gzip
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from fmnist.classes import IMAGE_SHAPE
from fmnist.errors import FmnistError
from fmnist.idx import parse_idx
from fmnist.prepared import scale

MIN_SIDE = 8  # smaller images hold too little to say anything about a garment
CONTENT = 0.1  # a pixel brighter than this share of the brightest one is content, for trimming


class ImageError(FmnistError):
    """An input that cannot be classified: the message names the file and why."""


@dataclass
class Example:
    name: str
    pixels: np.ndarray  # float32 (28, 28) in [0, 1]
    notes: list[str] = field(default_factory=list)  # what was done that a person should know


def open_image(path: Path) -> tuple[Image.Image, list[str]]:
    """The decoded first frame; Pillow's own errors become one line naming the file."""
    notes = []
    if path.stat().st_size == 0:
        raise ImageError(f"{path}: empty file (0 bytes)")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(path)
            frames = getattr(image, "n_frames", 1)
            image.seek(0)
            image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ImageError(f"{path}: refused: more pixels than Pillow's decompression-bomb "
                             f"limit of {Image.MAX_IMAGE_PIXELS:,}") from None  # fmt: skip
        except UnidentifiedImageError:
            raise ImageError(f"{path}: not an image Pillow can read") from None
        except (OSError, SyntaxError, ValueError) as exc:
            raise ImageError(f"{path}: truncated or corrupt image ({exc})") from None
    if frames > 1:
        notes.append(f"animated ({frames} frames): classified the first")
    if min(image.size) < MIN_SIDE:
        raise ImageError(f"{path}: {image.size[0]}x{image.size[1]} px is too small (at least "
                         f"{MIN_SIDE}x{MIN_SIDE})")  # fmt: skip
    return image, notes


def grayscale(image: Image.Image) -> tuple[np.ndarray, list[str]]:
    """float64 gray levels in [0, 255]; says which conversion it made."""
    notes = []
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        notes.append(f"{image.mode} (16/32-bit) scaled to 8 bits")
        gray = np.asarray(image, dtype=np.float64)
        return np.clip(gray * (255 / 65535), 0, 255), notes
    if image.mode == "F":
        return np.clip(np.asarray(image, dtype=np.float64), 0, 255), notes
    if "A" in image.mode or image.info.get("transparency") is not None:
        notes.append("transparency composited over white")
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, rgba)
    elif image.mode == "CMYK":
        notes.append("CMYK converted to RGB")
        image = image.convert("RGB")
    return np.asarray(image.convert("L"), dtype=np.float64), notes


def background_is_light(gray: np.ndarray) -> bool:
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    return float(np.median(border)) > 127.5


def fit_to_28(gray: np.ndarray) -> np.ndarray:
    """Trim to the content, centre on a square black canvas, resize to 28x28 (Lanczos)."""
    content = gray > CONTENT * max(gray.max(), 1e-9)
    if content.any():
        rows, cols = np.flatnonzero(content.any(1)), np.flatnonzero(content.any(0))
        gray = gray[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    side = max(gray.shape)
    square = np.zeros((side, side))
    top, left = (side - gray.shape[0]) // 2, (side - gray.shape[1]) // 2
    square[top : top + gray.shape[0], left : left + gray.shape[1]] = gray
    resized = Image.fromarray(square.astype(np.float32), mode="F").resize(IMAGE_SHAPE[::-1], Image.Resampling.LANCZOS)
    return np.clip(np.asarray(resized, dtype=np.float64), 0, 255)


def load_example(path: Path) -> Example:
    image, notes = open_image(path)
    gray, conversion = grayscale(ImageOps.exif_transpose(image) if image.mode != "F" else image)
    notes += conversion
    if background_is_light(gray):
        gray = 255 - gray
        notes.append("light background: inverted")
    if gray.shape != IMAGE_SHAPE:
        notes.append(f"{gray.shape[1]}x{gray.shape[0]} px: trimmed, centred, resized to 28x28")
        gray = fit_to_28(gray)
    return Example(str(path), scale(np.rint(gray).astype(np.uint8)), notes)


def is_idx(path: Path) -> bool:
    return path.name.removesuffix(".gz").endswith("idx3-ubyte")


def load_idx(path: Path) -> list[Example]:
    """Every image of an IDX file (Fashion-MNIST's own format, gzipped or not), as stored."""
    try:
        payload = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError) as exc:
        raise ImageError(f"{path}: not a complete gzip file ({exc})") from None
    try:
        images = parse_idx(payload, images=True, where=str(path))
    except FmnistError as exc:
        raise ImageError(str(exc)) from None
    return [Example(f"{path}[{i}]", scale(image)) for i, image in enumerate(images)]


IMAGE_SUFFIXES = frozenset(ext for ext, _ in Image.registered_extensions().items())


def collect(paths: list[Path]) -> list[Path]:
    """The files to classify: each file given, and each image file (by suffix) in a folder."""
    files = []
    for path in paths:
        if path.is_dir():
            found = sorted(
                p for p in path.iterdir() if p.is_file() and (p.suffix.lower() in IMAGE_SUFFIXES or is_idx(p))
            )
            if not found:
                raise ImageError(
                    f"{path}: no images in this folder (looked for {', '.join(sorted({'.png', '.jpg', '.jpeg', '.gif', '.bmp', '.webp', '.tif'}))}, ...)"
                )
            files += found
        elif path.exists():
            files.append(path)
        else:
            raise ImageError(f"{path}: no such file or folder")
    return files
