"""Shared fixtures: generated IDX files, the real dataset, and a scratch working directory."""

from __future__ import annotations

import gzip
import os
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest
import yaml

from fmnist.idx import IDX_UBYTE_IMAGES, IDX_UBYTE_LABELS, RAW_FILES
from fmnist.params import Params, override, parse_params

REPO = Path(__file__).resolve().parents[1]
REAL_DATA = Path(os.environ.get("FMNIST_DATA_DIR", "/usr/share/datasets/fashion-mnist"))


def idx_bytes(array: np.ndarray, magic: int | None = None) -> bytes:
    """Encode a uint8 array as IDX: magic, big-endian dims, raw bytes."""
    if magic is None:
        magic = IDX_UBYTE_IMAGES if array.ndim == 3 else IDX_UBYTE_LABELS
    return struct.pack(f">I{array.ndim}I", magic, *array.shape) + array.astype(np.uint8).tobytes()


def write_gz(path: Path, payload: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wb") as fh:
        fh.write(payload)
    return path


@pytest.fixture
def synthetic_raw(tmp_path) -> Path:
    """A directory with the four file names holding small generated IDX data (not the real digests)."""
    rng = np.random.default_rng(0)
    folder = tmp_path / "synthetic"
    for spec in RAW_FILES:
        n = 20 if "train" in spec.name else 10
        array = rng.integers(0, 256, (n, 28, 28)) if spec.is_images else np.arange(n) % 10
        write_gz(folder / spec.name, idx_bytes(np.asarray(array, dtype=np.uint8)))
    return folder


@pytest.fixture(scope="session")
def real_raw() -> Path:
    """The four official files; CI installs them, elsewhere the tests needing them skip."""
    if all((REAL_DATA / s.name).is_file() for s in RAW_FILES):
        return REAL_DATA
    if os.environ.get("CI"):
        pytest.fail(f"{REAL_DATA} lacks the Fashion-MNIST files; .ci/run should install them")
    pytest.skip(f"real Fashion-MNIST not found in {REAL_DATA} (apt-get install dataset-fashion-mnist)")


def load_default_params() -> dict:
    return yaml.safe_load((REPO / "params.yaml").read_text())


def small_params_dict(**overrides) -> dict:
    """params.yaml with a small slice and short training; overrides as {'cnn.epochs': 2}."""
    raw = load_default_params()
    quick = {"prepare.train_size": 1000, "prepare.test_size": 500, "mlp.max_iter": 3,
             "cnn.epochs": 1, "cnn.device": "cpu", "cnn.batch_size": 100}  # fmt: skip
    return override(raw, {**quick, "mlp.torch.device": "cpu", **overrides})


def small_params(**overrides) -> Params:
    return parse_params(small_params_dict(**overrides))


# Dummy credentials for the local S3 server, passed in the environment: never in git.
S3_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
          "AWS_DEFAULT_REGION": "us-east-1"}  # fmt: skip


@pytest.fixture(scope="session")
def s3_server():
    """moto's S3 server on 127.0.0.1; yields (endpoint URL, a function that makes a bucket)."""
    moto_server = pytest.importorskip("moto.server", reason="the test extras (moto) are not installed")
    boto3 = pytest.importorskip("boto3")
    pytest.importorskip("dvc_s3", reason="dvc-s3 is not installed")
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    client = boto3.client("s3", endpoint_url=url, region_name=S3_ENV["AWS_DEFAULT_REGION"],
                          aws_access_key_id=S3_ENV["AWS_ACCESS_KEY_ID"],
                          aws_secret_access_key=S3_ENV["AWS_SECRET_ACCESS_KEY"])  # fmt: skip
    yield url, client
    server.stop()


@pytest.fixture(scope="session")
def reproduced_template(tmp_path_factory, real_raw) -> tuple[Path, str]:
    """A throwaway repository of this pipeline (small slice) after `dvc repro`, committed, and
    what the repro printed. Tests take copies (dvcrepo.copy_repo): the pipeline runs once."""
    from dvcrepo import make_repo, run

    repo = make_repo(tmp_path_factory.mktemp("template"), real_raw)
    output = run(repo, "dvc", "repro").stdout
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-qm", "repro")
    return repo, output


@pytest.fixture
def workdir(tmp_path, monkeypatch, real_raw) -> Path:
    """A scratch directory, made current, with the real raw files where `fetch` puts them."""
    raw = tmp_path / "data" / "raw"
    raw.mkdir(parents=True)
    for spec in RAW_FILES:
        shutil.copyfile(real_raw / spec.name, raw / spec.name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DVCLIVE_TEST", raising=False)  # the stages read what DVCLive writes
    return tmp_path
