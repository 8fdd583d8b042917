"""Stage `export`: both models as ONNX, checked against the originals on the whole test set.

ONNX Runtime must agree with PyTorch (CNN) and NumPy (MLP) on every test image's class and
stay within ``TOLERANCE`` on every logit; otherwise the stage fails and writes nothing
that claims otherwise. The figures go to ``metrics/export.json``.
"""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import torch

from fmnist.errors import ModelFileError
from fmnist.inference import predict_logits, to_tensors
from fmnist.io import write_json
from fmnist.mlp import load_mlp, mlp_logits
from fmnist.networks import load_cnn
from fmnist.onnx_models import INPUT, OPSET, export_cnn, export_mlp
from fmnist.params import Params
from fmnist.paths import CNN_MODEL, CNN_ONNX, EXPORT_CHECK, MLP_MODEL, MLP_ONNX, PREPARED_DIR
from fmnist.prepared import load_prepared
from fmnist.runner import run_stage

TOLERANCE = 1e-4  # the largest logit difference accepted, absolute (relative beyond |logit| 1)


def onnx_logits(path, x: np.ndarray, batch_size: int = 1000) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return np.concatenate([session.run(None, {INPUT: x[i : i + batch_size]})[0]
                           for i in range(0, len(x), batch_size)])  # fmt: skip


def agreement(path, reference: np.ndarray, ours: np.ndarray) -> dict:
    """Same class on every image and every logit within TOLERANCE, or a ModelFileError."""
    same = int(np.sum(reference.argmax(1) == ours.argmax(1)))
    difference = np.abs(reference.astype(np.float64) - ours)
    worst = float(difference.max())
    if same != len(reference) or np.any(difference > TOLERANCE * np.maximum(1, np.abs(reference))):
        raise ModelFileError(f"{path}: ONNX Runtime disagrees with the original on "
                             f"{len(reference) - same} of {len(reference)} images' classes, largest logit "
                             f"difference {worst:.3g} (allowed {TOLERANCE:g})")  # fmt: skip
    return {"images": len(reference), "same_class": same, "max_abs_logit_difference": float(f"{worst:.3g}"),
            "onnx_bytes": path.stat().st_size}  # fmt: skip


def stage(params: Params) -> None:
    test = load_prepared(PREPARED_DIR, "test")
    x = np.ascontiguousarray(np.asarray(test.x, np.float32)[:, None])

    cnn = load_cnn(CNN_MODEL)
    export_cnn(cnn, CNN_ONNX)
    x_torch, _ = to_tensors(test, torch.device("cpu"))
    cnn_check = agreement(CNN_ONNX, predict_logits(cnn, x_torch, 1000).numpy(), onnx_logits(CNN_ONNX, x))

    mlp = load_mlp(MLP_MODEL)
    export_mlp(mlp, MLP_ONNX)
    mlp_check = agreement(MLP_ONNX, mlp_logits(mlp, x.reshape(len(x), -1)), onnx_logits(MLP_ONNX, x))

    write_json(EXPORT_CHECK, {"cnn": cnn_check, "mlp": mlp_check, "opset": OPSET,
                              "onnxruntime": ort.__version__, "torch": torch.__version__.split("+")[0]})  # fmt: skip
    print(
        f"export: {CNN_ONNX} and {MLP_ONNX} agree with the originals on all {len(x)} test images "
        f"(largest logit difference {max(cnn_check['max_abs_logit_difference'], mlp_check['max_abs_logit_difference']):.2g})"
    )


def main() -> None:
    run_stage(stage)


if __name__ == "__main__":
    main()
