"""ONNX files are the same bytes wherever the repository was cloned, and still the model."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
import torch

from fmnist.networks import build_cnn
from fmnist.onnx_models import INPUT, export_cnn
from fmnist.training import spec_of

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


def test_the_export_stage_refuses_an_onnx_file_that_disagrees_with_the_original(tmp_path):
    from fmnist.errors import ModelFileError
    from fmnist.stages.export import TOLERANCE, agreement

    path = tmp_path / "cnn.onnx"
    path.write_bytes(b"onnx")
    reference = np.array([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0]], np.float32)
    assert agreement(path, reference, reference + TOLERANCE / 2)["same_class"] == 2
    with pytest.raises(ModelFileError, match=r"cnn.onnx: ONNX Runtime disagrees with the original on 1 of 2 "
                                             r"images' classes, largest logit difference 2"):  # fmt: skip
        agreement(path, reference, reference[[0, 0]] + [[0, 0, 0], [0, 0, 0]])
    with pytest.raises(ModelFileError, match=r"on 0 of 2 images' classes, largest logit difference 0.01"):
        agreement(path, reference, reference + 0.01)  # same classes, logits too far apart
