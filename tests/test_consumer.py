"""A model consumer's path, typed as the pages write it: docs/models.md's registration in
the repository, then, from empty folders elsewhere, docs/models.md's and the README's
commands to fetch the models and classify an image, with a fresh virtual environment that
holds only what `pip install "fmnist-dvc[onnx] @ git+$REPO"` brings (no torch, no sklearn).
Everything local: a bare git upstream served by git's http-backend on 127.0.0.1, and a
folder as the DVC remote."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dvcrepo import copy_repo, dvc_env, run
from githttp import GitHTTPServer
from pages import code_blocks, commands, section

from conftest import REPO

pytestmark = pytest.mark.slow

MODELS_PAGE, README = REPO / "docs" / "models.md", REPO / "README.md"
STORAGE_PLACEHOLDER = "s3://your-bucket/fmnist-dvc"


def bash(cwd: Path, lines: list[str], path_first: list[Path] = (), **env: str) -> subprocess.CompletedProcess:
    """The lines as one bash script that stops at the first failure, as a reader would."""
    environment = dvc_env(cwd, **env)
    environment.pop("PYTHONPATH")  # the consumer has no clone: only what it installed
    environment["PATH"] = os.pathsep.join([*map(str, path_first), environment["PATH"]])
    script = "set -euo pipefail\n" + "\n".join(lines)
    result = subprocess.run(["bash", "-c", script], cwd=cwd, env=environment, capture_output=True, text=True)
    assert result.returncode == 0, f"{script}\nexited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def upstream(tmp_path_factory, reproduced_template):
    """A repository after docs/models.md's registration, pushed to a bare upstream served over
    HTTP on 127.0.0.1: yields its URL."""
    tmp = tmp_path_factory.mktemp("consumer")
    repo = copy_repo(reproduced_template[0], tmp / "repo")
    for name in ("pyproject.toml", "README.md", "LICENSE"):  # an installable package, as this one is
        shutil.copy(REPO / name, repo / name)
    (repo / "scripts").mkdir()
    shutil.copy(REPO / "scripts" / "register.sh", repo / "scripts")
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-qm", "the package and its scripts")
    bare = tmp / "served" / "fmnist-dvc.git"
    run(tmp, "git", "init", "-q", "--bare", str(bare))
    run(repo, "git", "remote", "add", "origin", str(bare))
    registration = commands(MODELS_PAGE, "## Registering a version (in this repository)")
    filled = [line.replace(STORAGE_PLACEHOLDER, str(tmp / "dvc-storage")) for line in registration]
    assert filled != registration, f"docs/models.md no longer adds a remote at {STORAGE_PLACEHOLDER}"
    shown = bash(repo, filled).stdout
    assert "fmnist-cnn-onnx" in shown and "fmnist-mlp-onnx" in shown
    with GitHTTPServer(bare.parent, token=None) as public:  # a URL as a consumer gets one
        yield f"{public.url}/{bare.name}"


@pytest.fixture(scope="module")
def consumer_venv(tmp_path_factory, upstream) -> Path:
    """The consumer's own virtual environment, after the page's `pip install` line: its bin/."""
    venv = tmp_path_factory.mktemp("venv") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    [install] = [c for c in commands(MODELS_PAGE, "## Classifying your own images") if c.startswith("pip install")]
    bash(venv.parent, [install], [venv / "bin"], REPO=upstream)
    return venv / "bin"


def a_shirt(path: Path) -> Path:
    image = np.zeros((28, 28), np.uint8)
    image[6:22, 6:22] = 200
    image[6:10, 2:26] = 200  # sleeves
    Image.fromarray(image).save(path)
    return path


def test_the_models_page_fetches_every_model_and_classifies_with_only_the_onnx_extra(
    upstream, consumer_venv, tmp_path, real_raw
):
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    fetched = bash(folder, commands(MODELS_PAGE, "## Getting a model (in another repository or an empty folder)"),
                   REPO=upstream)  # fmt: skip
    for name in ("cnn.safetensors", "mlp.safetensors", "cnn.onnx", "mlp.onnx"):
        assert (folder / name).is_file(), (name, fetched.stdout, fetched.stderr)

    [python] = code_blocks(
        section(MODELS_PAGE, "## Getting a model (in another repository or an empty folder)"), "python"
    )
    namespace: dict = {}
    exec(python.replace("https://example.org/you/fmnist-dvc.git", upstream), namespace)  # noqa: S102
    assert namespace["weights"] == (folder / "cnn.safetensors").read_bytes()

    a_shirt(folder / "shirt.png")
    (folder / "photos").mkdir()
    a_shirt(folder / "photos" / "one.png")
    Image.fromarray(np.full((28, 28), 30, np.uint8)).save(folder / "photos" / "two.png")
    with gzip.open(real_raw / "t10k-images-idx3-ubyte.gz") as fh:  # the first 20 test images
        head = fh.read(16 + 20 * 784)
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(head[:4] + (20).to_bytes(4, "big") + head[8:]))
    classified = bash(folder, commands(MODELS_PAGE, "## Classifying your own images"), [consumer_venv], REPO=upstream)
    installed = subprocess.run([consumer_venv / "python", "-m", "pip", "list", "--format", "json"],
                               capture_output=True, text=True, check=True).stdout  # fmt: skip
    names = {p["name"].lower() for p in json.loads(installed)}
    assert "onnxruntime" in names and not names & {"torch", "scikit-learn", "dvc"}, names
    assert (
        "shirt.png" in classified.stdout
        and "one.png" in classified.stdout
        and "t10k-images-idx3-ubyte.gz[19]" in classified.stdout
    )


def test_the_readme_fetches_the_onnx_cnn_and_classifies_an_image(upstream, consumer_venv, tmp_path):
    folder = tmp_path / "readme-reader"
    folder.mkdir()
    a_shirt(folder / "shirt.png")
    lines = [line.replace("<this repository's URL>", upstream) for line in commands(README, "## Use the models")]
    result = bash(folder, lines, [consumer_venv])
    assert (folder / "cnn.onnx").is_file()
    assert "shirt.png" in result.stdout
