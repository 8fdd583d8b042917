"""Model files: safetensors only, checked before they are used.

safetensors is a JSON header plus raw tensor bytes: loading it cannot run code, unlike
pickle, ``torch.save`` or joblib files. ``safe_open`` checks the file's structure; this
module adds what it cannot know: pickles are refused by their first bytes before any
parser sees them, and a file must carry this pipeline's label for the expected model and
hold finite numbers. No torch here, so the MLP and ONNX paths run without it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from safetensors import SafetensorError, safe_open
from safetensors.numpy import save_file

from fmnist.errors import ModelFileError
from fmnist.io import atomic_path

_PICKLE_OR_ZIP = (b"\x80", b"PK\x03\x04")  # pickle protocol 2+; torch.save / joblib zip
_INCOMPLETE = ("incomplete", "header too small", "invalid header length")  # safetensors' words
_METADATA_KEY = "fmnist"


def save_weights(path: Path | str, tensors: dict[str, np.ndarray], metadata: dict) -> None:
    """Write tensors as safetensors, atomically; the same tensors give the same bytes.

    safetensors keeps metadata in a hash map whose order changes from process to process,
    so all of ours goes under one key as sorted JSON.
    """
    arrays = {k: np.require(v, requirements="C") for k, v in tensors.items()}  # keeps 0-d shapes
    packed = {_METADATA_KEY: json.dumps(metadata, sort_keys=True)}
    with atomic_path(path) as tmp:
        save_file(arrays, str(tmp), metadata=packed)


def _refuse_pickles(path: Path) -> None:
    try:
        with path.open("rb") as fh:
            head = fh.read(4)
    except FileNotFoundError:
        raise ModelFileError(f"{path}: model file not found; run `dvc repro`") from None
    except OSError as exc:
        raise ModelFileError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if head.startswith(_PICKLE_OR_ZIP):
        raise ModelFileError(
            f"{path}: looks like a pickle or torch.save archive; refusing to load it "
            "(only safetensors files are accepted, since pickles can run code)"
        )


def load_weights(path: Path | str, model: str | tuple[str, ...]) -> tuple[dict[str, np.ndarray], dict]:
    """Read a safetensors file written for ``model`` (or one of several); refuse anything else."""
    path = Path(path)
    _refuse_pickles(path)
    try:
        with safe_open(str(path), framework="numpy") as fh:
            metadata = json.loads((fh.metadata() or {}).get(_METADATA_KEY, "{}"))
            tensors = {name: fh.get_tensor(name) for name in fh.keys()}
    except SafetensorError as exc:
        reason = str(exc).removeprefix("Error while deserializing header: ")
        if any(word in reason for word in _INCOMPLETE):
            size = path.stat().st_size
            raise ModelFileError(f"{path}: not a complete safetensors file ({size} bytes: {reason})") from None
        raise ModelFileError(f"{path}: corrupt safetensors file ({reason})") from None
    except (json.JSONDecodeError, ValueError, OSError) as exc:
        raise ModelFileError(f"{path}: corrupt safetensors file ({exc})") from None
    if not isinstance(metadata, dict) or "model" not in metadata:
        raise ModelFileError(
            f"{path}: carries no model label: not written by this pipeline (or by an older version); rerun `dvc repro`"
        )
    allowed = (model,) if isinstance(model, str) else model
    if metadata["model"] not in allowed:
        expected = " or ".join(repr(m) for m in allowed)
        raise ModelFileError(f"{path}: holds a {metadata['model']!r} model, expected {expected}")
    for name, t in tensors.items():
        if np.issubdtype(t.dtype, np.floating) and not np.all(np.isfinite(t)):
            raise ModelFileError(f"{path}: tensor {name!r} has non-finite values")
    return tensors, metadata


def check_shapes(path: Path | str, tensors: dict[str, np.ndarray], expected: dict[str, tuple]) -> None:
    """Name every missing, unexpected or mis-shaped tensor, as a reader would want it."""
    problems = [f"missing {k}" for k in expected if k not in tensors]
    problems += [f"unexpected {k}" for k in tensors if k not in expected]
    problems += [
        f"{k} has shape {tuple(tensors[k].shape)}, expected {tuple(s)}"
        for k, s in expected.items()
        if k in tensors and tuple(tensors[k].shape) != tuple(s)
    ]
    if problems:
        raise ModelFileError(f"{path}: not this architecture: " + "; ".join(problems))
