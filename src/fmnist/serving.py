"""A saved model, ready to score images, whichever runtime runs it.

``.safetensors`` files run in PyTorch (the CNN) or NumPy (the MLP); ``.onnx`` files in
ONNX Runtime, which needs neither torch nor sklearn. Each runtime is imported only when a
model needs it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fmnist.errors import ModelFileError
from fmnist.mlp import load_mlp, mlp_logits, softmax


@dataclass(frozen=True)
class Classifier:
    model: str  # "cnn" or "mlp"
    path: Path
    runtime: str  # "torch", "numpy" or "onnx"
    logits: Callable[[np.ndarray], np.ndarray]  # (N, 28, 28) float32 in [0, 1] -> (N, 10)

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        return softmax(self.logits(x).astype(np.float64))


def _onnx(path: Path) -> Callable[[np.ndarray], np.ndarray]:
    try:
        import onnxruntime as ort
    except ImportError:
        raise ModelFileError(f"{path}: ONNX Runtime is not installed (pip install onnxruntime)") from None
    if not path.is_file():
        raise ModelFileError(f"{path}: model file not found; run `dvc repro export` or `dvc artifacts get`")
    try:
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as exc:  # ONNX Runtime raises its own exception types for bad files
        raise ModelFileError(f"{path}: not an ONNX model ONNX Runtime can load ({exc})") from None
    name = session.get_inputs()[0].name
    return lambda x: session.run(None, {name: np.ascontiguousarray(x[:, None], np.float32)})[0]


def _torch_cnn(path: Path, tta_flip: bool) -> Callable[[np.ndarray], np.ndarray]:
    try:
        import torch

        from fmnist.inference import predict_logits
        from fmnist.networks import load_cnn
    except ImportError:
        raise ModelFileError(f"{path}: PyTorch is not installed; use the ONNX file (--runtime onnx)") from None
    cnn = load_cnn(path)

    def logits(x: np.ndarray) -> np.ndarray:
        # np.require copies a read-only array (a memory map, an ONNX Runtime output): torch wants to own it.
        batch = torch.from_numpy(np.require(x[:, None], requirements=["C", "W"]))
        batch = batch.contiguous(memory_format=torch.channels_last)
        return predict_logits(cnn, batch, 1000, tta_flip).numpy()  # evaluate's layout and batch size

    return logits


def load_classifier(model: str, path: Path, tta_flip: bool = False) -> Classifier:
    """The model in ``path``; its suffix picks the runtime."""
    if path.suffix == ".onnx":
        logits = _onnx(path)
        if tta_flip:
            plain = logits
            logits = lambda x: (plain(x) + plain(x[:, :, ::-1].copy())) / 2  # noqa: E731
        return Classifier(model, path, "onnx", logits)
    if model == "mlp":
        weights = load_mlp(path)
        return Classifier(model, path, "numpy", lambda x: mlp_logits(weights, x.reshape(len(x), -1)))
    return Classifier(model, path, "torch", _torch_cnn(path, tta_flip))
