"""ONNX files are the same bytes wherever the repository was cloned, and still the model."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import torch

from fmnist.cnn_training import spec_of
from fmnist.networks import build_cnn
from fmnist.onnx_models import INPUT, export_cnn

from conftest import REPO, small_params


def test_the_cnn_file_names_no_path_of_the_machine_that_built_it_and_still_computes_the_logits(tmp_path):
    torch.manual_seed(0)
    params = small_params()
    model = build_cnn(spec_of(params.cnn), params.cnn.dropout).eval()
    export_cnn(model, tmp_path / "a.onnx")
    data = (tmp_path / "a.onnx").read_bytes()
    assert b'File "' not in data and b"site-packages" not in data and str(REPO).encode() not in data
    x = np.random.default_rng(0).random((3, 1, 28, 28), dtype=np.float32)
    onnx_logits = ort.InferenceSession(data).run(None, {INPUT: x})[0]
    with torch.no_grad():
        np.testing.assert_allclose(onnx_logits, model(torch.from_numpy(x)).numpy(), atol=1e-4)
