"""Same params, data and seed give byte-identical models and metrics on CPU."""

import pytest

from fmnist.stages import evaluate, prepare, train_cnn, train_mlp

from conftest import small_params

OUTPUTS = ("models/mlp.safetensors", "models/cnn.safetensors", "metrics/metrics.json",
           "metrics/details.json", "metrics/dataset.json", "data/prepared/train_x.npy",
           "data/prepared/val_y.npy", "plots/predictions.csv")  # fmt: skip

pytestmark = pytest.mark.slow


def run_pipeline(params) -> dict[str, bytes]:
    prepare.stage(params)
    train_mlp.stage(params)
    train_cnn.stage(params)
    evaluate.stage(params)
    return {path: open(path, "rb").read() for path in OUTPUTS}


def test_two_runs_with_the_same_seed_are_byte_identical(workdir, monkeypatch, tmp_path_factory):
    params = small_params(**{"prepare.val_fraction": 0.1, "cnn.epochs": 2})
    first = run_pipeline(params)
    other = tmp_path_factory.mktemp("second")
    (other / "data").mkdir()
    (other / "data" / "raw").symlink_to(workdir / "data" / "raw")
    monkeypatch.chdir(other)
    second = run_pipeline(params)
    for path in OUTPUTS:
        assert first[path] == second[path], f"{path} differs between two identical runs"


def test_another_seed_gives_other_weights(workdir):
    a = run_pipeline(small_params())
    b = run_pipeline(small_params(seed=1))
    assert a["models/cnn.safetensors"] != b["models/cnn.safetensors"]
    assert a["models/mlp.safetensors"] != b["models/mlp.safetensors"]
