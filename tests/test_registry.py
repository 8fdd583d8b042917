"""The models leave the repository: registered with GTO, fetched by a consumer with
`dvc artifacts get` from the upstream and its DVC remote, and used to classify an image."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from dvcrepo import copy_repo, run

pytestmark = pytest.mark.slow

ARTIFACTS = {"fmnist-cnn", "fmnist-mlp", "fmnist-cnn-onnx", "fmnist-mlp-onnx", "fashion-mnist"}


def test_dvc_yaml_declares_both_models_their_onnx_files_and_the_data():
    from conftest import REPO

    artifacts = yaml.safe_load((REPO / "dvc.yaml").read_text())["artifacts"]
    assert set(artifacts) == ARTIFACTS
    assert artifacts["fashion-mnist"]["type"] == "dataset"
    assert all(artifacts[a]["type"] == "model" for a in ARTIFACTS - {"fashion-mnist"})


@pytest.fixture(scope="module")
def upstream(tmp_path_factory, reproduced_template) -> Path:
    """A bare git 'upstream' and a directory DVC remote, holding a run with fmnist-cnn v0.0.1 in prod."""
    tmp = tmp_path_factory.mktemp("registry")
    repo = copy_repo(reproduced_template[0], tmp / "repo")
    bare, storage = tmp / "upstream.git", tmp / "dvc-storage"
    run(tmp, "git", "init", "-q", "--bare", str(bare))
    run(repo, "dvc", "remote", "add", "-d", "storage", str(storage))
    run(repo, "git", "commit", "-qam", "a remote to publish to")
    run(repo, "dvc", "push")
    run(repo, "git", "remote", "add", "origin", str(bare))
    run(repo, "git", "push", "-q", "origin", "HEAD")
    for name in ("fmnist-cnn", "fmnist-cnn-onnx"):
        run(repo, "gto", "register", name, "--version", "v0.0.1")
        run(repo, "gto", "assign", name, "--version", "v0.0.1", "--stage", "prod")
    run(repo, "git", "push", "-q", "origin", "--tags")
    return bare


def test_a_consumer_gets_the_prod_cnn_in_one_command_and_classifies_an_image(upstream, tmp_path):
    consumer = tmp_path / "consumer"
    consumer.mkdir()
    run(consumer, "dvc", "artifacts", "get", str(upstream), "fmnist-cnn", "--stage", "prod")
    assert (consumer / "cnn.safetensors").is_file()
    image = np.zeros((28, 28), np.uint8)
    image[6:22, 9:19] = 220
    Image.fromarray(image).save(consumer / "mine.png")
    result = run(consumer, sys.executable, "-m", "fmnist.tools.predict", "mine.png", "--model", "cnn",
                 "--cnn", "cnn.safetensors", "--json")  # fmt: skip
    assert json.loads(result.stdout)["results"][0]["cnn"][0]["class"]


def test_the_onnx_cnn_comes_the_same_way_and_runs_in_onnx_runtime(upstream, tmp_path):
    run(tmp_path, "dvc", "artifacts", "get", str(upstream), "fmnist-cnn-onnx", "--stage", "prod")
    Image.fromarray(np.full((28, 28), 0, np.uint8)).save(tmp_path / "dark.png")
    result = run(tmp_path, sys.executable, "-m", "fmnist.tools.predict", "dark.png", "--model", "cnn",
                 "--cnn", "cnn.onnx", "--json")  # fmt: skip
    assert len(json.loads(result.stdout)["results"][0]["cnn"]) == 3


def test_an_unregistered_artifact_is_refused(upstream, tmp_path):
    result = run(tmp_path, "dvc", "artifacts", "get", str(upstream), "fmnist-mlp", "--stage", "prod", check=False)
    assert result.returncode != 0


def test_the_python_api_finds_the_prod_cnn_and_reads_it(upstream):
    import dvc.api

    info = dvc.api.artifacts_show("fmnist-cnn", stage="prod", repo=str(upstream))
    assert info["path"] == "models/cnn.safetensors"
    with dvc.api.open(info["path"], repo=str(upstream), rev=info["rev"], mode="rb") as fh:
        head = fh.read(64)
    assert head[8:9] == b"{"  # a safetensors file: 8 bytes of header length, then its JSON
