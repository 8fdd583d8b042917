"""Stage `evaluate`: both saved models on one held-out split: predict, score, write.

``metrics/metrics.json`` is the declared headline (accuracy with its interval, macro F1,
NLL, ECE per model; the difference with its interval and McNemar's p for the pair);
``metrics/details.json`` holds the rest (per-class scores, counts, sizes). Both follow
from the weights, params and seed alone, so they are byte-identical across repeated runs.
The split is the test set, or the validation split while a recipe is being chosen
(``evaluate.split: val``), so that choosing never reads the test set.
"""

from __future__ import annotations

import csv
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fmnist.classes import CLASS_NAMES
from fmnist.errors import ParamsError
from fmnist.inference import pick_device, predict_logits, to_tensors
from fmnist.io import atomic_path, write_json, write_text
from fmnist.metrics import (
    calibration_bins,
    confusion,
    confusion_difference,
    model_details,
    model_headline,
    pair_details,
    pair_headline,
    top_confusions,
)
from fmnist.mlp import load_mlp, mlp_predict_proba, softmax
from fmnist.networks import load_cnn
from fmnist.params import EvaluateParams, Params
from fmnist.paths import (
    CNN_MACHINE,
    CNN_MODEL,
    DETAILS,
    METRICS,
    MLP_MACHINE,
    MLP_MODEL,
    PLOTS_DIR,
    PREPARED_DIR,
    REPORT,
)
from fmnist.plots import (
    accuracy_bars,
    difference_heatmap,
    disagreement_gallery,
    per_class_f1_bars,
    reliability_diagram,
    top_confusions_bars,
)
from fmnist.prepared import Split, load_prepared
from fmnist.report import render_report
from fmnist.runner import run_stage

MODELS = ("mlp", "cnn")


@dataclass(frozen=True)
class Predictions:
    proba: dict[str, np.ndarray]  # model -> (N, 10) class probabilities
    parameters: dict[str, int]
    seconds: dict[str, float]  # inference wall time, printed only: it is the machine's, not the model's

    @property
    def labels(self) -> dict[str, np.ndarray]:
        return {name: p.argmax(1) for name, p in self.proba.items()}


def predict(split: Split, p: EvaluateParams, device_name: str, precision: str) -> Predictions:
    """Both models' probabilities for every image of ``split``."""
    x = np.asarray(split.x)
    mlp = load_mlp(MLP_MODEL)
    start = time.perf_counter()
    mlp_proba = mlp_predict_proba(mlp, x.reshape(len(x), -1))
    mlp_seconds = time.perf_counter() - start

    device = pick_device(device_name)
    cnn = load_cnn(CNN_MODEL).to(device)
    x_dev, _ = to_tensors(split, device)
    start = time.perf_counter()
    logits = predict_logits(cnn, x_dev, p.batch_size, p.tta_flip, p.tta_shift, precision).cpu().numpy()
    cnn_seconds = time.perf_counter() - start
    return Predictions(
        proba={"mlp": mlp_proba, "cnn": softmax(logits.astype(np.float64))},
        parameters={"mlp": mlp.parameters(), "cnn": sum(t.numel() for t in cnn.parameters())},
        seconds={"mlp": mlp_seconds, "cnn": cnn_seconds},
    )


def score(y: np.ndarray, preds: Predictions, split: str, bootstrap_samples: int, seed: int) -> tuple[dict, dict]:
    """(headline, details): what DVC compares, and everything else worth keeping."""
    labels = preds.labels
    headline = {name: model_headline(y, labels[name], preds.proba[name]) for name in MODELS}
    headline["cnn_minus_mlp"] = pair_headline(y, labels["mlp"], labels["cnn"],
                                              bootstrap_samples=bootstrap_samples, seed=seed)  # fmt: skip
    details = {"split": split, "images": int(len(y))}
    for name, path in (("mlp", MLP_MODEL), ("cnn", CNN_MODEL)):
        details[name] = model_details(y, labels[name]) | {
            "parameters": preds.parameters[name], "model_bytes": path.stat().st_size}  # fmt: skip
    details["cnn_minus_mlp"] = pair_details(y, labels["mlp"], labels["cnn"])
    details["top_confusions"] = {"mlp": top_confusions(y, labels["mlp"], labels["cnn"], k=5),
                                 "cnn": top_confusions(y, labels["cnn"], labels["mlp"], k=5)}  # fmt: skip
    return headline, details


def write_predictions(path: Path, y: np.ndarray, labels: dict[str, np.ndarray]) -> None:
    """One row per image, class names as values: the input of DVC's confusion template."""
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["actual", *labels])
        for i, label in enumerate(y):
            writer.writerow([CLASS_NAMES[label], *(CLASS_NAMES[p[i]] for p in labels.values())])


def write_per_class(path: Path, details: dict) -> None:
    """Per-class accuracy (recall) of both models, one row per class."""
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["class", *MODELS])
        for name in CLASS_NAMES:
            writer.writerow([name, *(details[m]["per_class"].get(name, {}).get("recall", "") for m in MODELS)])


def write_plots(split: Split, preds: Predictions, headline: dict, details: dict) -> None:
    y, labels = split.y, preds.labels
    write_predictions(PLOTS_DIR / "predictions.csv", y, labels)
    write_per_class(PLOTS_DIR / "per_class_accuracy.csv", details)
    diff = confusion_difference(confusion(y, labels["cnn"]), confusion(y, labels["mlp"]))
    difference_heatmap(diff, PLOTS_DIR / "confusion_difference.png")
    accuracy_bars({m: 100 * headline[m]["accuracy"] for m in MODELS}, PLOTS_DIR / "accuracy.png",
                  details["split"])  # fmt: skip
    reliability_diagram({m: calibration_bins(y, preds.proba[m]) for m in MODELS},
                        PLOTS_DIR / "reliability.png")  # fmt: skip
    per_class_f1_bars({m: details[m]["per_class"] for m in MODELS}, PLOTS_DIR / "per_class_f1.png")
    top_confusions_bars(details["top_confusions"], PLOTS_DIR / "top_confusions.png")
    disagreement_gallery(np.asarray(split.x), y, labels, PLOTS_DIR / "disagreements.png")


def trained_on() -> dict:
    """Where each model trained, from the training stages' machine files: in git with the
    metrics, so any clone (and any experiment's commit) can say which machine made a run."""
    keep = ("family", "caption", "device", "precision")
    return {m: {k: v for k, v in json.loads(path.read_text()).items() if k in keep} if path.is_file() else {}
            for m, path in (("mlp", MLP_MACHINE), ("cnn", CNN_MACHINE))}  # fmt: skip


def stage(params: Params) -> None:
    p = params.evaluate
    split = load_prepared(PREPARED_DIR, p.split)
    if not len(split.y):
        raise ParamsError(f"{PREPARED_DIR}/{p.split}_x.npy holds no images: evaluate.split is "
                          f"{p.split!r}, so set prepare.val_fraction > 0")  # fmt: skip
    preds = predict(split, p, params.cnn.device, params.cnn.precision)
    headline, details = score(split.y, preds, p.split, p.bootstrap_samples, params.seed)
    write_json(METRICS, headline)
    write_json(DETAILS, details | {"trained_on": trained_on()})
    write_text(REPORT, render_report(headline, details, p.bootstrap_samples))
    write_plots(split, preds, headline, details)
    rate = {m: len(split.y) / s for m, s in preds.seconds.items()}
    print(f"evaluate: MLP {100 * headline['mlp']['accuracy']:.2f} %, CNN "
          f"{100 * headline['cnn']['accuracy']:.2f} % on {len(split.y)} {p.split} images "
          f"({rate['mlp']:,.0f} and {rate['cnn']:,.0f} images/s)")  # fmt: skip


def main() -> None:
    run_stage(stage)


if __name__ == "__main__":
    main()
