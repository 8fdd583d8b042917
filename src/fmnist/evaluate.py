"""Stage `evaluate`: both saved models on the test set; metrics JSON and plots for DVC.

``metrics/metrics.json`` holds what the same params and seed always reproduce (accuracy,
F1, sizes); ``metrics/timing.json`` holds what the machine decides (seconds, throughput).
"""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

import numpy as np

from fmnist import train_cnn, train_mlp
from fmnist.cli import run_stage
from fmnist.data import CLASS_NAMES, load_prepared
from fmnist.io import atomic_path, write_json, write_text
from fmnist.metrics import (
    calibration_bins,
    confusion,
    confusion_difference,
    model_metrics,
    pair_metrics,
    top_confusions,
)
from fmnist.models import count_parameters, mlp_predict_proba, softmax
from fmnist.params import Params
from fmnist.plots import (
    accuracy_bars,
    difference_heatmap,
    disagreement_gallery,
    per_class_f1_bars,
    reliability_diagram,
    top_confusions_bars,
)
from fmnist.prepare import PREPARED_DIR
from fmnist.report import render_report
from fmnist.weights import load_cnn, load_mlp

METRICS_FILE = Path("metrics/metrics.json")
TIMING_FILE = Path("metrics/timing.json")
REPORT_FILE = Path("metrics/report.md")
PLOTS_DIR = Path("plots")


def _timed(fn, *args):
    start = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - start


def _train_summary(live_dir: str) -> dict:
    return json.loads((Path(live_dir) / "metrics.json").read_text())


def write_predictions(path: Path, y: np.ndarray, preds: dict[str, np.ndarray]) -> None:
    """One row per test image, class names as values: the input of DVC's confusion template."""
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["actual", *preds])
        for i, label in enumerate(y):
            writer.writerow([CLASS_NAMES[label], *(CLASS_NAMES[p[i]] for p in preds.values())])


def write_per_class(path: Path, results: dict[str, dict]) -> None:
    """Per-class accuracy (recall) of both models, one row per class."""
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["class", *results])
        for name in CLASS_NAMES:
            writer.writerow(
                [name, *(r["per_class"].get(name, {}).get("recall", "") for r in results.values())]
            )


def stage(params: Params) -> None:
    test = load_prepared(PREPARED_DIR, "test")
    x, y = np.asarray(test.x), test.y
    device = train_cnn.pick_device(params.cnn.device)

    mlp = load_mlp(train_mlp.MODEL_FILE)
    mlp_proba, mlp_seconds = _timed(mlp_predict_proba, mlp, x.reshape(len(x), -1))
    cnn = load_cnn(train_cnn.MODEL_FILE).to(device)
    x_dev, _ = train_cnn.to_tensors(test, device)
    cnn_logits, cnn_seconds = _timed(
        lambda: train_cnn.predict_logits(
            cnn, x_dev, params.evaluate.batch_size, params.evaluate.tta_flip
        )
        .cpu()
        .numpy()
    )
    proba = {"mlp": mlp_proba, "cnn": softmax(cnn_logits.astype(np.float64))}
    preds = {name: p.argmax(1) for name, p in proba.items()}

    results = {name: model_metrics(y, preds[name], proba[name]) for name in preds}
    results["mlp"]["parameters"] = count_parameters(mlp.tensors())
    results["cnn"]["parameters"] = sum(p.numel() for p in cnn.parameters())
    for name, path in (("mlp", train_mlp.MODEL_FILE), ("cnn", train_cnn.MODEL_FILE)):
        results[name]["model_bytes"] = path.stat().st_size
    samples = params.evaluate.bootstrap_samples
    metrics = {
        **results,
        "cnn_minus_mlp": pair_metrics(
            y, preds["mlp"], preds["cnn"], bootstrap_samples=samples, seed=params.seed
        ),
        "test_images": int(len(y)),
    }
    write_json(METRICS_FILE, metrics)
    confusions = {"mlp": top_confusions(y, preds["mlp"], preds["cnn"], k=5),
                  "cnn": top_confusions(y, preds["cnn"], preds["mlp"], k=5)}  # fmt: skip
    write_text(REPORT_FILE, render_report(metrics, confusions, samples))

    summaries = {
        "mlp": _train_summary(train_mlp.LIVE_DIR),
        "cnn": _train_summary(train_cnn.LIVE_DIR),
    }
    timing = {
        name: {
            "train_seconds": summaries[name]["train_seconds"],
            "inference_seconds": round(seconds, 4),
            "images_per_second": round(len(y) / seconds),
        }
        for name, seconds in (("mlp", mlp_seconds), ("cnn", cnn_seconds))
    }
    timing["cnn"]["device"] = summaries["cnn"]["device"]
    write_json(TIMING_FILE, timing)

    write_predictions(PLOTS_DIR / "predictions.csv", y, preds)
    write_per_class(PLOTS_DIR / "per_class_accuracy.csv", results)
    diff = confusion_difference(confusion(y, preds["cnn"]), confusion(y, preds["mlp"]))
    difference_heatmap(diff, PLOTS_DIR / "confusion_difference.png")
    accuracy_bars({m: 100 * results[m]["accuracy"] for m in preds}, PLOTS_DIR / "accuracy.png")
    reliability_diagram(
        {m: calibration_bins(y, proba[m]) for m in preds}, PLOTS_DIR / "reliability.png"
    )
    per_class_f1_bars({m: results[m]["per_class"] for m in preds}, PLOTS_DIR / "per_class_f1.png")
    top_confusions_bars(confusions, PLOTS_DIR / "top_confusions.png")
    disagreement_gallery(x, y, preds, PLOTS_DIR / "disagreements.png")
    print(f"evaluate: MLP {100 * results['mlp']['accuracy']:.2f} %, "
          f"CNN {100 * results['cnn']['accuracy']:.2f} % on {len(y)} test images")  # fmt: skip


def main() -> None:
    run_stage(stage)


if __name__ == "__main__":
    main()
