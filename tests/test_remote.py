"""`dvc push` / `dvc pull` round trips: a fresh clone gets every output without retraining."""

from __future__ import annotations

from pathlib import Path

import pytest

from dvcrepo import copy_repo, run, stages_run

from conftest import S3_ENV

pytestmark = pytest.mark.slow

PULLED = ("data/raw/train-images-idx3-ubyte.gz", "data/prepared/train_x.npy",
          "models/mlp.safetensors", "models/cnn.safetensors", "models/cnn.onnx",
          "dvclive/train_cnn/metrics.json", "metrics/metrics.json")  # fmt: skip


@pytest.fixture(scope="module")
def reproduced(tmp_path_factory, reproduced_template) -> Path:
    return copy_repo(reproduced_template[0], tmp_path_factory.mktemp("remote") / "repo")


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


def test_an_s3_remote_round_trips(reproduced, tmp_path, s3_server):
    url, client = s3_server
    client.create_bucket(Bucket="fmnist")
    run(reproduced, "dvc", "remote", "add", "-f", "-d", "s3store", "s3://fmnist/cache")
    run(reproduced, "dvc", "remote", "modify", "s3store", "endpointurl", url)
    run(reproduced, "git", "commit", "-qam", "s3 remote")
    assert "testing" not in (reproduced / ".dvc/config").read_text()
    round_trip(reproduced, tmp_path / "clone", **S3_ENV)
