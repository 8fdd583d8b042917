"""ONNX files of both models, with one contract: ``images`` (N, 1, 28, 28) float32 in [0, 1]
in, ``logits`` (N, 10) out, N free. ONNX holds a graph and numbers, never code to run."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper
from torch import nn

from fmnist.classes import IMAGE_SHAPE, NUM_CLASSES
from fmnist.io import atomic_path
from fmnist.mlp import MLPWeights

INPUT, OUTPUT = "images", "logits"
OPSET = 18
_MLP_ACTIVATION = {"relu": "Relu", "tanh": "Tanh", "logistic": "Sigmoid", "identity": "Identity"}


def export_cnn(model: nn.Module, path: Path | str) -> None:
    """The CNN through PyTorch's exporter (``torch.export``), batch size left free."""
    model = model.eval().cpu().to(memory_format=torch.contiguous_format)  # type: ignore[call-overload]
    example = torch.zeros(2, 1, *IMAGE_SHAPE)
    batch = torch.export.Dim("batch")
    logging.getLogger("torch.onnx").setLevel(logging.ERROR)  # notes about absent torchvision ops
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch.export's own deprecations
        program = torch.onnx.export(model, (example,), input_names=[INPUT], output_names=[OUTPUT],
                                    dynamic_shapes=({0: batch},), dynamo=True, opset_version=OPSET,
                                    verbose=False)  # fmt: skip
    if program is None:  # dynamo=True always returns one; the type allows the legacy exporter's None
        raise RuntimeError("torch.onnx.export returned no program")
    program.optimize()
    _save(without_exporter_notes(program.model_proto), path)


def without_exporter_notes(model: onnx.ModelProto) -> onnx.ModelProto:
    """The graph without the exporter's per-node notes: stack traces that name files by
    absolute path would make the bytes depend on where the repository was cloned."""
    pending = [model.graph, *model.functions]  # both hold nodes; a node may hold subgraphs
    while pending:
        for node in pending.pop().node:
            del node.metadata_props[:]
            node.doc_string = ""
            pending += [a.g for a in node.attribute if a.HasField("g")] + [g for a in node.attribute for g in a.graphs]
    return model


def mlp_graph(weights: MLPWeights) -> onnx.ModelProto:
    """The MLP written out by hand: Flatten, then a Gemm and an activation per layer."""
    nodes = [helper.make_node("Flatten", [INPUT], ["h0"], axis=1)]
    initializers = []
    last = len(weights.coefs) - 1
    for i, (w, b) in enumerate(zip(weights.coefs, weights.intercepts, strict=True)):
        initializers += [numpy_helper.from_array(np.asarray(w, np.float32), f"coef_{i}"),
                         numpy_helper.from_array(np.asarray(b, np.float32), f"intercept_{i}")]  # fmt: skip
        out = OUTPUT if i == last else f"z{i + 1}"
        nodes.append(helper.make_node("Gemm", [f"h{i}", f"coef_{i}", f"intercept_{i}"], [out]))
        if i != last:
            nodes.append(helper.make_node(_MLP_ACTIVATION[weights.activation], [out], [f"h{i + 1}"]))
    graph = helper.make_graph(
        nodes, "fmnist-mlp",
        [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, ["batch", 1, *IMAGE_SHAPE])],
        [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, ["batch", NUM_CLASSES])],
        initializers,
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="fmnist-dvc")  # fmt: skip
    onnx.checker.check_model(model)
    return model


def export_mlp(weights: MLPWeights, path: Path | str) -> None:
    _save(mlp_graph(weights), path)


def _save(model: onnx.ModelProto, path: Path | str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(model.SerializeToString(deterministic=True))
