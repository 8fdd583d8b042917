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
from fmnist.io import atomic_path, write_json
from fmnist.metrics import confusion, confusion_difference, model_metrics
from fmnist.models import count_parameters, mlp_predict_proba
from fmnist.params import Params
from fmnist.plots import accuracy_bars, difference_heatmap
from fmnist.prepare import PREPARED_DIR
from fmnist.weights import load_cnn, load_mlp

METRICS_FILE = Path("metrics/metrics.json")
TIMING_FILE = Path("metrics/timing.json")
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
    """Per-class accuracy of both models, one row per class."""
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["class", *results])
        for name in CLASS_NAMES:
            writer.writerow([name, *(r["per_class_accuracy"].get(name, "") for r in results.values())])


def stage(params: Params) -> None:
    test = load_prepared(PREPARED_DIR, "test")
    x, y = np.asarray(test.x), test.y
    device = train_cnn.pick_device(params.cnn.device)

    mlp = load_mlp(train_mlp.MODEL_FILE)
    mlp_proba, mlp_seconds = _timed(mlp_predict_proba, mlp, x.reshape(len(x), -1))
    cnn = load_cnn(train_cnn.MODEL_FILE).to(device)
    x_dev, _ = train_cnn.to_tensors(test, device)
    cnn_logits, cnn_seconds = _timed(
        lambda: train_cnn.predict_logits(cnn, x_dev, params.evaluate.batch_size).cpu().numpy()
    )
    preds = {"mlp": mlp_proba.argmax(1), "cnn": cnn_logits.argmax(1)}

    results = {name: model_metrics(y, pred) for name, pred in preds.items()}
    results["mlp"]["parameters"] = count_parameters(mlp.tensors())
    results["cnn"]["parameters"] = sum(p.numel() for p in cnn.parameters())
    for name, path in (("mlp", train_mlp.MODEL_FILE), ("cnn", train_cnn.MODEL_FILE)):
        results[name]["model_bytes"] = path.stat().st_size
    metrics = {
        **results,
        "cnn_minus_mlp": {
            "accuracy": round(results["cnn"]["accuracy"] - results["mlp"]["accuracy"], 6),
            "macro_f1": round(results["cnn"]["macro_f1"] - results["mlp"]["macro_f1"], 6),
        },
        "test_images": int(len(y)),
    }
    write_json(METRICS_FILE, metrics)

    summaries = {"mlp": _train_summary(train_mlp.LIVE_DIR), "cnn": _train_summary(train_cnn.LIVE_DIR)}
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
    write_per_class(PLOTS_DIR / "per_class_accuracy.csv", {m: results[m] for m in preds})
    diff = confusion_difference(confusion(y, preds["cnn"]), confusion(y, preds["mlp"]))
    difference_heatmap(diff, PLOTS_DIR / "confusion_difference.png")
    accuracy_bars({m: 100 * results[m]["accuracy"] for m in ("mlp", "cnn")}, PLOTS_DIR / "accuracy.png")
    print(f"evaluate: MLP {100 * results['mlp']['accuracy']:.2f} %, "
          f"CNN {100 * results['cnn']['accuracy']:.2f} % on {len(y)} test images")  # fmt: skip


def main() -> None:
    run_stage(stage)


if __name__ == "__main__":
    main()
