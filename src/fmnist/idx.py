"""The four official Fashion-MNIST files: their digests, and a checked IDX reader.

Each file is checked by the MD5 of its *decompressed* payload: Debian's package
recompresses the files, so its ``.gz`` bytes differ from the official ones while the
payloads are identical. The reader checks every header field before trusting a byte.
"""

from __future__ import annotations

import gzip
import hashlib
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fmnist.classes import IMAGE_SHAPE, NUM_CLASSES
from fmnist.errors import DataError


@dataclass(frozen=True)
class RawFile:
    name: str  # file name, as the official site and Debian's package call it
    payload_md5: str  # MD5 of the decompressed bytes
    count: int  # images or labels it holds
    is_images: bool


RAW_FILES = (
    RawFile("train-images-idx3-ubyte.gz", "f4a8712d7a061bf5bd6d2ca38dc4d50a", 60_000, True),
    RawFile("train-labels-idx1-ubyte.gz", "9018921c3c673c538a1fc5bad174d6f9", 60_000, False),
    RawFile("t10k-images-idx3-ubyte.gz", "8181f5470baa50b63fa0f6fddb340f0a", 10_000, True),
    RawFile("t10k-labels-idx1-ubyte.gz", "15d484375f8d13e6eb1aabb0c3f46965", 10_000, False),
)

IDX_UBYTE_IMAGES = 0x0803  # magic: unsigned byte, 3 dimensions
IDX_UBYTE_LABELS = 0x0801  # magic: unsigned byte, 1 dimension


def read_gz(path: Path | str, where: Path | str | None = None) -> bytes:
    """Decompress a whole ``.gz`` file; a missing, truncated or non-gzip file is a DataError.

    ``where`` names the file in messages when ``path`` is a temporary copy of it.
    """
    where = where or path
    try:
        with gzip.open(path, "rb") as fh:
            return fh.read()
    except FileNotFoundError:
        raise DataError(f"{where}: file not found") from None
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise DataError(f"{where}: not a complete gzip file ({exc})") from None
    except OSError as exc:
        raise DataError(f"{where}: cannot read ({exc.strerror or exc})") from None


def parse_idx(payload: bytes, *, images: bool, where: str = "IDX data") -> np.ndarray:
    """Parse an IDX payload of unsigned bytes: (N, 28, 28) images or (N,) labels 0-9."""
    want_magic, ndim = (IDX_UBYTE_IMAGES, 3) if images else (IDX_UBYTE_LABELS, 1)
    if len(payload) < 4 + 4 * ndim:
        raise DataError(f"{where}: {len(payload)} bytes is too short for an IDX header")
    (magic,) = struct.unpack(">I", payload[:4])
    if magic != want_magic:
        kind = "images" if images else "labels"
        raise DataError(
            f"{where}: wrong IDX magic number 0x{magic:08x}, expected 0x{want_magic:08x} "
            f"({kind}, unsigned byte, {ndim}-D)"
        )
    dims = struct.unpack(f">{ndim}I", payload[4 : 4 + 4 * ndim])
    if images and tuple(dims[1:]) != IMAGE_SHAPE:
        raise DataError(f"{where}: images are {dims[1]}x{dims[2]}, expected 28x28")
    body = payload[4 + 4 * ndim :]
    expected = int(np.prod(dims))
    if len(body) != expected:
        raise DataError(f"{where}: header promises {expected} bytes for shape {dims}, file holds {len(body)}")
    array = np.frombuffer(body, dtype=np.uint8).reshape(dims)
    if not images and array.size and array.max() >= NUM_CLASSES:
        bad = int(np.flatnonzero(array >= NUM_CLASSES)[0])
        raise DataError(f"{where}: label {array[bad]} at index {bad} is outside 0-9")
    return array


def verify_payload(payload: bytes, spec: RawFile, where: Path | str) -> None:
    digest = hashlib.md5(payload).hexdigest()
    if digest != spec.payload_md5:
        raise DataError(f"{where}: payload MD5 {digest} does not match the official {spec.payload_md5} for {spec.name}")


@dataclass(frozen=True)
class RawDataset:
    train_images: np.ndarray  # uint8 (60000, 28, 28)
    train_labels: np.ndarray  # uint8 (60000,)
    test_images: np.ndarray  # uint8 (10000, 28, 28)
    test_labels: np.ndarray  # uint8 (10000,)


def load_raw(directory: Path | str, *, verify: bool = True) -> RawDataset:
    """Read and check the four files in ``directory`` (payload digests, IDX structure, counts)."""
    arrays = []
    for spec in RAW_FILES:
        path = Path(directory) / spec.name
        payload = read_gz(path)
        if verify:
            verify_payload(payload, spec, path)
        arrays.append(parse_idx(payload, images=spec.is_images, where=str(path)))
    dataset = RawDataset(*arrays)
    for split in ("train", "test"):
        n_img = len(getattr(dataset, f"{split}_images"))
        n_lab = len(getattr(dataset, f"{split}_labels"))
        if n_img != n_lab:
            raise DataError(f"{directory}: {split} has {n_img} images but {n_lab} labels")
    return dataset
