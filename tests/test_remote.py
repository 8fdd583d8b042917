"""`dvc push` / `dvc pull` round trips: a fresh clone gets every output without retraining."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from dvcrepo import make_repo, run, stages_run

pytestmark = pytest.mark.slow

PULLED = ("data/raw/train-images-idx3-ubyte.gz", "data/prepared/train_x.npy",
          "models/mlp.safetensors", "models/cnn.safetensors",
          "dvclive/train_cnn/metrics.json", "metrics/metrics.json")  # fmt: skip
# Dummy credentials for the local S3 server, passed in the environment: never in git.
S3_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
          "AWS_DEFAULT_REGION": "us-east-1"}  # fmt: skip


@pytest.fixture(scope="module")
def reproduced(tmp_path_factory, real_raw) -> Path:
    repo = make_repo(tmp_path_factory.mktemp("remote"), real_raw)
    run(repo, "dvc", "repro")
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-qm", "repro")
    return repo


def round_trip(repo: Path, clone: Path, **env: str) -> None:
    run(repo, "dvc", "push", **env)
    run(clone.parent, "git", "clone", "-q", str(repo), str(clone))
    run(clone, "dvc", "pull", **env)
    for path in PULLED:
        assert (clone / path).is_file(), f"{path} not pulled"
        assert (clone / path).read_bytes() == (repo / path).read_bytes()
    assert "up to date" in run(clone, "dvc", "status").stdout
    assert stages_run(run(clone, "dvc", "repro").stdout) == set()  # nothing retrained


def test_a_local_directory_remote_round_trips(reproduced, tmp_path):
    run(reproduced, "dvc", "remote", "add", "-f", "-d", "store", str(tmp_path / "store"))
    run(reproduced, "git", "commit", "-qam", "local remote")
    round_trip(reproduced, tmp_path / "clone")


@pytest.fixture
def s3_endpoint():
    moto_server = pytest.importorskip("moto.server", reason="the test extras (moto) are not installed")
    boto3 = pytest.importorskip("boto3")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    client = boto3.client("s3", endpoint_url=url, region_name=S3_ENV["AWS_DEFAULT_REGION"],
                          aws_access_key_id=S3_ENV["AWS_ACCESS_KEY_ID"],
                          aws_secret_access_key=S3_ENV["AWS_SECRET_ACCESS_KEY"])  # fmt: skip
    client.create_bucket(Bucket="fmnist")
    yield url
    server.stop()


def test_an_s3_remote_round_trips(reproduced, tmp_path, s3_endpoint):
    pytest.importorskip("dvc_s3", reason="dvc-s3 is not installed")
    run(reproduced, "dvc", "remote", "add", "-f", "-d", "s3store", "s3://fmnist/cache")
    run(reproduced, "dvc", "remote", "modify", "s3store", "endpointurl", s3_endpoint)
    run(reproduced, "git", "commit", "-qam", "s3 remote")
    assert "testing" not in (reproduced / ".dvc/config").read_text()
    round_trip(reproduced, tmp_path / "clone", **S3_ENV)
