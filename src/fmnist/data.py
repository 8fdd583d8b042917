"""Fashion-MNIST on disk: the four official IDX files, their digests, and the prepared arrays.

Sources are tried in the order ``params.yaml`` gives (a local directory, the keras cache,
the official URLs). Each file is checked by the MD5 of its *decompressed* payload: Debian's
package recompresses the files, so its ``.gz`` bytes differ from the official ones while
the payloads are identical.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import struct
import tempfile
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fmnist.errors import DataError
from fmnist.io import atomic_path

CLASS_NAMES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip
NUM_CLASSES = len(CLASS_NAMES)
IMAGE_SHAPE = (28, 28)


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


# ----------------------------------------------------------------------------- reading


def read_gz(path: Path) -> bytes:
    """Decompress a whole ``.gz`` file; a missing, truncated or non-gzip file is a DataError."""
    try:
        with gzip.open(path, "rb") as fh:
            return fh.read()
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise DataError(f"{path}: not a complete gzip file ({exc})") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror or exc})") from None


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
        raise DataError(
            f"{where}: header promises {expected} bytes for shape {dims}, file holds {len(body)}"
        )
    array = np.frombuffer(body, dtype=np.uint8).reshape(dims)
    if not images and array.size and array.max() >= NUM_CLASSES:
        bad = int(np.flatnonzero(array >= NUM_CLASSES)[0])
        raise DataError(f"{where}: label {array[bad]} at index {bad} is outside 0-9")
    return array


def verify_payload(payload: bytes, spec: RawFile, where: Path | str) -> None:
    digest = hashlib.md5(payload).hexdigest()
    if digest != spec.payload_md5:
        raise DataError(
            f"{where}: payload MD5 {digest} does not match the official "
            f"{spec.payload_md5} for {spec.name}"
        )


@dataclass(frozen=True)
class RawDataset:
    train_images: np.ndarray  # uint8 (60000, 28, 28)
    train_labels: np.ndarray  # uint8 (60000,)
    test_images: np.ndarray  # uint8 (10000, 28, 28)
    test_labels: np.ndarray  # uint8 (10000,)


def load_raw(directory: Path, *, verify: bool = True) -> RawDataset:
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


# ----------------------------------------------------------------------------- acquiring


class SourceUnavailable(DataError):
    """A source that does not have the files (absent, offline): the next source is tried."""


KERAS_SOURCE = "keras"  # a source value: the files keras' own loader fetches and caches


def _is_url(source: str) -> bool:
    return source.startswith(("http://", "https://", "file://"))


def _download(url: str, dest: Path, timeout: float) -> None:
    """Stream ``url`` to ``dest`` through a temporary file; failures become DataError."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, atomic_path(dest) as tmp:
            with open(tmp, "wb") as out:
                shutil.copyfileobj(response, out, length=1 << 20)
    except urllib.error.HTTPError as exc:
        raise SourceUnavailable(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise SourceUnavailable(f"{url}: cannot connect ({exc.reason}); offline?") from None
    except TimeoutError:
        raise SourceUnavailable(f"{url}: no answer within {timeout:g} s") from None
    except OSError as exc:
        raise SourceUnavailable(f"{url}: download failed ({exc})") from None


def keras_cache_dir() -> Path:
    """Where ``tf.keras.datasets.fashion_mnist`` keeps its files ($KERAS_HOME or ~/.keras)."""
    home = os.environ.get("KERAS_HOME") or Path.home() / ".keras"
    return Path(home) / "datasets" / "fashion-mnist"


def _fill_keras_cache() -> Path:
    """Let keras' own loader put the files in its cache (downloading if it must)."""
    try:
        from keras.datasets import fashion_mnist
    except ImportError:
        raise SourceUnavailable("keras: not installed (pip install '.[tf]' adds it)") from None
    try:
        fashion_mnist.load_data()
    except Exception as exc:  # keras wraps network and file errors in many types
        raise SourceUnavailable(f"keras: its loader failed ({exc})") from None
    return keras_cache_dir()


def _copy_from_source(source: str, dest: Path, timeout: float) -> None:
    """Copy (or download) the four files from one source into ``dest`` and verify them."""
    if source == KERAS_SOURCE:
        source = str(_fill_keras_cache())
    if _is_url(source):
        for spec in RAW_FILES:
            _download(source.rstrip("/") + "/" + spec.name, dest / spec.name, timeout)
    else:
        folder = Path(source).expanduser()
        if not folder.is_dir():
            raise SourceUnavailable(f"{folder}: no such directory")
        missing = [s.name for s in RAW_FILES if not (folder / s.name).is_file()]
        if missing:
            raise SourceUnavailable(f"{folder}: missing {', '.join(missing)}")
        for spec in RAW_FILES:
            shutil.copyfile(folder / spec.name, dest / spec.name)
    for spec in RAW_FILES:
        verify_payload(read_gz(dest / spec.name), spec, f"{source} ({spec.name})")


def acquire(sources: tuple[str, ...], dest: Path, timeout: float) -> str:
    """Fill ``dest`` with the four verified files from the first source that has them.

    A source that is absent or unreachable is skipped with its reason; a source whose files
    exist but fail verification stops everything, since that is corruption, not absence.
    Returns the source used.
    """
    reasons = []
    for source in sources:
        with tempfile.TemporaryDirectory(dir=dest) as tmp:
            try:
                _copy_from_source(source, Path(tmp), timeout)
            except SourceUnavailable as exc:
                reasons.append(f"  - {exc}")
                continue
            for spec in RAW_FILES:
                (Path(tmp) / spec.name).replace(dest / spec.name)
            return source
    raise DataError(
        "no source had the four Fashion-MNIST files (params.yaml data.sources):\n"
        + "\n".join(reasons)
        + "\nInstall Debian's dataset-fashion-mnist package, or put the files in one of "
        "those directories."
    )


# ----------------------------------------------------------------------------- prepared


@dataclass(frozen=True)
class Split:
    x: np.ndarray  # float32 (N, 28, 28) in [0, 1]
    y: np.ndarray  # int64 (N,)


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
