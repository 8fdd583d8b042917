"""Each stage's function on a small slice of the real data, in a scratch directory."""

import json

import numpy as np
import pytest

from fmnist import evaluate, prepare, train_cnn, train_mlp
from fmnist.data import load_prepared, load_raw
from fmnist.errors import ParamsError
from fmnist.weights import load_cnn, load_mlp

from conftest import small_params


def test_prepare_scales_slices_and_records_stats(workdir):
    prepare.stage(small_params(**{"prepare.val_fraction": 0.2}))
    train = load_prepared(prepare.PREPARED_DIR, "train")
    val = load_prepared(prepare.PREPARED_DIR, "val")
    test = load_prepared(prepare.PREPARED_DIR, "test")
    assert (len(train.y), len(val.y), len(test.y)) == (800, 200, 500)
    assert train.x.dtype == np.float32 and 0.0 <= train.x.min() and train.x.max() <= 1.0
    per_class = np.bincount(np.concatenate([train.y, val.y]), minlength=10)
    assert np.all(np.abs(np.bincount(val.y, minlength=10) - 0.2 * per_class) <= 1)  # stratified
    stats = json.loads(prepare.STATS_FILE.read_text())
    assert stats["sizes"] == {"train": 800, "val": 200, "test": 500}
    assert sum(stats["class_counts"]["train"].values()) == 800
    assert 0.2 < stats["train_pixel_mean"] < 0.4


def test_prepare_without_validation_keeps_every_training_image_in_order(workdir):
    prepare.stage(small_params())
    raw = load_raw("data/raw")
    train = load_prepared(prepare.PREPARED_DIR, "train")
    np.testing.assert_array_equal(train.x, raw.train_images[:1000] / np.float32(255))
    assert len(load_prepared(prepare.PREPARED_DIR, "val").y) == 0


@pytest.fixture
def prepared(workdir):
    prepare.stage(small_params(**{"prepare.val_fraction": 0.1}))
    return workdir


def test_train_mlp_saves_weights_and_a_loss_curve(prepared):
    train_mlp.stage(small_params())
    weights = load_mlp(train_mlp.MODEL_FILE)
    assert [w.shape for w in weights.coefs] == [(784, 256), (256, 128), (128, 10)]
    summary = json.loads((prepared / train_mlp.LIVE_DIR / "metrics.json").read_text())
    assert summary["iterations"] == 3 and summary["converged"] is False
    curve = (
        (prepared / train_mlp.LIVE_DIR / "plots/metrics/train/loss.tsv").read_text().splitlines()
    )
    assert curve[0] == "step\tloss" and len(curve) == 1 + 3
    val = (
        (prepared / train_mlp.LIVE_DIR / "plots/metrics/val/accuracy.tsv").read_text().splitlines()
    )
    assert len(val) == 1 + 3 and all(0 <= float(line.split("\t")[1]) <= 1 for line in val[1:])


def test_train_cnn_logs_train_and_validation_per_epoch(prepared):
    train_cnn.stage(small_params(**{"cnn.epochs": 2}))
    assert load_cnn(train_cnn.MODEL_FILE) is not None
    live = prepared / train_cnn.LIVE_DIR
    for name in ("train/loss", "train/accuracy", "val/loss", "val/accuracy"):
        rows = (live / "plots/metrics" / f"{name}.tsv").read_text().splitlines()
        assert len(rows) == 1 + 2, name
    summary = json.loads((live / "metrics.json").read_text())
    assert summary["device"] == "cpu" and summary["deterministic"] is True
    assert summary["train_seconds"] > 0


def test_evaluate_writes_metrics_timing_and_plots(prepared):
    params = small_params()
    train_mlp.stage(params)
    train_cnn.stage(params)
    evaluate.stage(params)
    metrics = json.loads(evaluate.METRICS_FILE.read_text())
    for model in ("mlp", "cnn"):
        m = metrics[model]
        assert 0.3 < m["accuracy"] <= 1.0  # even one short epoch on 900 images beats chance (0.1)
        assert m["errors"] == round((1 - m["accuracy"]) * 500)
        assert len(m["per_class"]) == 10
        assert m["accuracy_ci95"]["low"] < m["accuracy"] < m["accuracy_ci95"]["high"]
        assert 0 < m["ece"] < 1 and m["nll"] > 0
    assert metrics["mlp"]["parameters"] == 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10
    assert metrics["cnn"]["parameters"] == 832 + 51264 + 409856 + 32896 + 1290
    assert metrics["cnn_minus_mlp"]["accuracy"] == pytest.approx(
        metrics["cnn"]["accuracy"] - metrics["mlp"]["accuracy"], abs=1e-6
    )
    pair = metrics["cnn_minus_mlp"]
    assert pair["accuracy_ci95"]["low"] <= pair["accuracy"] <= pair["accuracy_ci95"]["high"]
    assert 0 <= pair["mcnemar"]["p_value"] <= 1
    report = evaluate.REPORT_FILE.read_text()
    assert (
        "McNemar's exact test" in report and f"{100 * metrics['mlp']['accuracy']:.2f} %" in report
    )
    timing = json.loads(evaluate.TIMING_FILE.read_text())
    assert timing["cnn"]["device"] == "cpu" and timing["mlp"]["images_per_second"] > 0
    rows = (evaluate.PLOTS_DIR / "predictions.csv").read_text().splitlines()
    assert rows[0] == "actual,mlp,cnn" and len(rows) == 1 + 500
    for image in (
        "confusion_difference.png",
        "accuracy.png",
        "reliability.png",
        "per_class_f1.png",
        "top_confusions.png",
        "disagreements.png",
    ):
        assert (evaluate.PLOTS_DIR / image).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_asking_for_cuda_without_one_is_a_params_error(monkeypatch):
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    with pytest.raises(ParamsError, match="cnn.device: 'cuda' was asked for"):
        train_cnn.pick_device("cuda")
    assert train_cnn.pick_device("auto").type == "cpu"
