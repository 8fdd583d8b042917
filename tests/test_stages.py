"""Each stage's function in a scratch directory: on generated arrays (fast), and on a slice
of the real data (slow), where the models must also learn something."""

import json

import numpy as np
import pytest

from fmnist.errors import ParamsError
from fmnist.idx import load_raw
from fmnist.inference import pick_device
from fmnist.machine import caption, describe, family
from fmnist.mlp import load_mlp
from fmnist.networks import load_cnn
from fmnist.paths import (
    CNN_LIVE,
    CNN_MODEL,
    DATASET_STATS,
    DETAILS,
    METRICS,
    MLP_LIVE,
    MLP_MODEL,
    PLOTS_DIR,
    PREPARED_DIR,
    REPORT,
)
from fmnist.prepared import load_prepared, save_split
from fmnist.stages import evaluate, prepare, train_cnn, train_mlp

from conftest import small_params

# The declared headline: what `dvc metrics show` lists for metrics/metrics.json. A new key
# here is a new column in every comparison: add it on purpose, or put it in details.json.
HEADLINE_KEYS = {f"{m}.{k}" for m in ("mlp", "cnn") for k in ("accuracy", "macro_f1", "nll", "ece")} | {
                 f"cnn_minus_mlp.{k}" for k in ("accuracy", "accuracy_low", "accuracy_high", "mcnemar_p")}  # fmt: skip
IMAGES = ("confusion_difference.png", "accuracy.png", "reliability.png", "per_class_f1.png",
          "top_confusions.png", "disagreements.png")  # fmt: skip
TINY = {"mlp.hidden_layer_sizes": [16], "mlp.max_iter": 2, "cnn.epochs": 1, "cnn.batch_size": 64}


def flat_keys(tree: dict, prefix: str = "") -> set[str]:
    keys = set()
    for k, v in tree.items():
        keys |= flat_keys(v, f"{prefix}{k}.") if isinstance(v, dict) else {prefix + k}
    return keys


@pytest.fixture
def generated(tmp_path, monkeypatch):
    """data/prepared filled with random images and labels: 256 train, 64 val, 100 test."""
    rng = np.random.default_rng(0)
    PREPARED = tmp_path / PREPARED_DIR
    PREPARED.mkdir(parents=True)
    for name, n in (("train", 256), ("val", 64), ("test", 100)):
        save_split(PREPARED, name, rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), np.arange(n) % 10)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DVCLIVE_TEST", raising=False)  # the stages read what DVCLive writes
    return tmp_path


def tsv_rows(live, name: str) -> list[str]:
    return (live / "plots/metrics" / f"{name}.tsv").read_text().splitlines()


# ----------------------------------------------------------------------------- fast


def test_train_mlp_saves_weights_a_curve_per_iteration_and_its_seconds(generated):
    train_mlp.stage(small_params(**TINY))
    assert [w.shape for w in load_mlp(MLP_MODEL).coefs] == [(784, 16), (16, 10)]
    assert len(tsv_rows(MLP_LIVE, "train/loss")) == 1 + 2
    assert len(tsv_rows(MLP_LIVE, "val/accuracy")) == 1 + 2
    summary = json.loads((MLP_LIVE / "metrics.json").read_text())
    assert summary["train_seconds"] > 0 and set(summary) == {"step", "train", "val", "train_seconds"}  # numbers only
    machine = json.loads((MLP_LIVE / "machine.json").read_text())
    assert machine["caption"] == caption(describe()) and machine["family"] == family(describe())


def test_train_cnn_saves_weights_a_curve_per_epoch_its_seconds_and_beside_them_where_it_ran(generated):
    train_cnn.stage(small_params(**TINY | {"cnn.epochs": 2}))
    assert load_cnn(CNN_MODEL) is not None
    for name in ("train/loss", "train/accuracy", "val/loss", "val/accuracy"):
        assert len(tsv_rows(CNN_LIVE, name)) == 1 + 2, name
    summary = json.loads((CNN_LIVE / "metrics.json").read_text())
    assert summary["train_seconds"] > 0 and all(isinstance(v, int | float | dict) for v in summary.values())
    machine = json.loads((CNN_LIVE / "machine.json").read_text())
    assert (machine["device"], machine["precision"], machine["caption"]) == ("cpu", "fp32", caption(describe()))


def test_cnn_seed_trains_the_cnn_the_run_seed_would_so_a_cnn_recipe_leaves_the_mlp_alone(generated):
    def weights(**seeds) -> bytes:
        train_cnn.stage(small_params(**TINY | seeds))
        return CNN_MODEL.read_bytes()

    assert weights(**{"seed": 3}) == weights(**{"seed": 0, "cnn.seed": 3}) != weights(**{"seed": 0})
    assert small_params(**{"seed": 5}).cnn_seed == 5 and small_params(**{"seed": 5, "cnn.seed": 1}).cnn_seed == 1
    with pytest.raises(ParamsError, match=r"cnn.seed: expected an integer in \[0, 4294967295\] or null, got 'x'"):
        small_params(**{"cnn.seed": "x"})


def test_an_unknown_architecture_is_refused_when_params_are_read_before_any_stage_runs():
    with pytest.raises(ParamsError, match="cnn.arch: expected one of 'lenet', 'lenet_bn', .*got 'lenet5'"):
        small_params(**TINY | {"cnn.arch": "lenet5"})


@pytest.fixture
def trained(generated):
    params = small_params(**TINY)
    train_mlp.stage(params)
    train_cnn.stage(params)
    return params


def test_evaluate_declares_only_the_headline_and_keeps_the_details(trained):
    evaluate.stage(trained)
    headline = json.loads(METRICS.read_text())
    assert flat_keys(headline) == HEADLINE_KEYS
    details = json.loads(DETAILS.read_text())
    for model in ("mlp", "cnn"):
        m = headline[model]
        assert details[model]["accuracy_low"] <= m["accuracy"] <= details[model]["accuracy_high"]
        assert 0 <= m["ece"] <= 1 and m["nll"] > 0
    pair = headline["cnn_minus_mlp"]
    assert pair["accuracy"] == pytest.approx(headline["cnn"]["accuracy"] - headline["mlp"]["accuracy"], abs=1e-6)
    assert pair["accuracy_low"] <= pair["accuracy"] <= pair["accuracy_high"] and 0 <= pair["mcnemar_p"] <= 1

    assert details["split"] == "test" and details["images"] == 100
    assert details["mlp"]["parameters"] == 784 * 16 + 16 + 16 * 10 + 10
    assert details["cnn"]["parameters"] == 832 + 51264 + 409856 + 32896 + 1290
    assert details["mlp"]["errors"] == round((1 - headline["mlp"]["accuracy"]) * 100)
    assert len(details["cnn"]["per_class"]) == 10
    assert "McNemar's exact test" in REPORT.read_text()
    rows = (PLOTS_DIR / "predictions.csv").read_text().splitlines()
    assert rows[0] == "actual,mlp,cnn" and len(rows) == 1 + 100
    for image in IMAGES:
        assert (PLOTS_DIR / image).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_evaluate_on_the_validation_split_never_reads_the_test_set(trained):
    (PREPARED_DIR / "test_x.npy").unlink()
    (PREPARED_DIR / "test_y.npy").unlink()
    evaluate.stage(small_params(**TINY | {"evaluate.split": "val"}))
    assert json.loads(DETAILS.read_text())["split"] == "val"
    assert json.loads(DETAILS.read_text())["images"] == 64


def test_evaluate_on_an_empty_validation_split_says_what_to_set(trained):
    save_split(PREPARED_DIR, "val", np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.int64))
    with pytest.raises(ParamsError, match="evaluate.split is 'val'.*prepare.val_fraction > 0"):
        evaluate.stage(small_params(**TINY | {"evaluate.split": "val"}))


def test_asking_for_cuda_without_one_is_a_params_error(monkeypatch):
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    with pytest.raises(ParamsError, match="cnn.device: 'cuda' was asked for"):
        pick_device("cuda")
    assert pick_device("auto").type == "cpu"


def test_prepare_scales_slices_and_records_stats(workdir):
    prepare.stage(small_params(**{"prepare.val_fraction": 0.2}))
    train, val, test = (load_prepared(PREPARED_DIR, s) for s in ("train", "val", "test"))
    assert (len(train.y), len(val.y), len(test.y)) == (800, 200, 500)
    assert train.x.dtype == np.float32 and 0.0 <= train.x.min() and train.x.max() <= 1.0
    per_class = np.bincount(np.concatenate([train.y, val.y]), minlength=10)
    assert np.all(np.abs(np.bincount(val.y, minlength=10) - 0.2 * per_class) <= 1)  # stratified
    stats = json.loads(DATASET_STATS.read_text())
    assert stats["sizes"] == {"train": 800, "val": 200, "test": 500}
    assert sum(stats["class_counts"]["train"].values()) == 800
    assert 0.2 < stats["train_pixel_mean"] < 0.4


def test_prepare_without_validation_keeps_every_training_image_in_order(workdir):
    prepare.stage(small_params())
    raw = load_raw("data/raw")
    train = load_prepared(PREPARED_DIR, "train")
    np.testing.assert_array_equal(train.x, raw.train_images[:1000] / np.float32(255))
    assert len(load_prepared(PREPARED_DIR, "val").y) == 0


# ----------------------------------------------------------------------------- slow


@pytest.mark.slow
def test_on_a_real_slice_both_models_learn_and_the_report_says_who_wins(workdir):
    params = small_params(**{"prepare.val_fraction": 0.1})
    for stage in (prepare, train_mlp, train_cnn, evaluate):
        stage.stage(params)
    headline = json.loads(METRICS.read_text())
    for model in ("mlp", "cnn"):
        assert 0.3 < headline[model]["accuracy"] <= 1.0  # one short epoch on 900 images beats chance
    val = tsv_rows(CNN_LIVE, "val/accuracy")
    assert len(val) == 1 + 1 and 0.3 < float(val[1].split("\t")[1]) <= 1
    assert f"{100 * headline['mlp']['accuracy']:.2f} %" in REPORT.read_text()
