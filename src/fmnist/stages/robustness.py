"""Stage `robustness`: both saved models on corrupted copies of the evaluation split.

Every transformation in ``robustness.transforms`` at every severity of
``fmnist.corruptions.SEVERITIES``, seeded by ``seed``, so a rerun scores the same images,
on the first ``robustness.images`` images (the stage must stay a small share of a run).
``metrics/robustness.json`` is the declared headline per model: the mean accuracy over
every corrupted setting, and over the translations alone (the structure question: does
keeping the 2-D layout make a model tolerate the garment moving?). The curves go to
``plots/robustness.csv`` (long form, for DVC's template) and ``plots/robustness.png``.
Images stored with permuted pixels (``prepare.permute_pixels``) are put back in order,
corrupted, and permuted again, so a transformation means the same thing for every run.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from fmnist.corruptions import SEVERITIES, UNITS, corrupt
from fmnist.inference import pick_device, predict_logits, to_tensors
from fmnist.io import atomic_path, write_json
from fmnist.mlp import load_mlp, mlp_predict_proba
from fmnist.networks import load_cnn
from fmnist.params import Params
from fmnist.paths import CNN_MODEL, MLP_MODEL, PLOTS_DIR, PREPARED_DIR, ROBUSTNESS
from fmnist.plots import robustness_curves
from fmnist.prepared import Split, load_prepared, permute_pixels, pixel_permutation
from fmnist.runner import run_stage

MODELS = ("mlp", "cnn")


class Scorer:
    """Accuracy of both models on a batch of images in natural pixel order."""

    def __init__(self, y: np.ndarray, order: np.ndarray | None, device_name: str, batch_size: int, precision: str):
        self.y, self.order, self.batch_size, self.precision = y, order, batch_size, precision
        self.device = pick_device(device_name)
        self.mlp = load_mlp(MLP_MODEL)
        self.cnn = load_cnn(CNN_MODEL).to(self.device)

    def __call__(self, images: np.ndarray) -> dict[str, float]:
        if self.order is not None:
            images = permute_pixels(images, self.order)
        mlp = mlp_predict_proba(self.mlp, images.reshape(len(images), -1)).argmax(1)
        x, _ = to_tensors(Split(images, self.y), self.device)
        cnn = predict_logits(self.cnn, x, self.batch_size, precision=self.precision).argmax(1).cpu().numpy()
        return {"mlp": float((mlp == self.y).mean()), "cnn": float((cnn == self.y).mean())}


def curves(natural: np.ndarray, score: Scorer, names: tuple[str, ...], seed: int) -> list[dict]:
    """One row per (transformation, severity, model), severity 0 (the clean images) included."""
    clean = score(natural)
    rows = []
    for name in names:
        for severity, amount in enumerate(SEVERITIES[name]):
            accuracy = clean if severity == 0 else score(corrupt(natural, name, severity, seed))
            rows += [{"transform": name, "severity": severity, "amount": amount, "unit": UNITS[name],
                      "model": m, "accuracy": round(100 * accuracy[m], 2)} for m in MODELS]  # fmt: skip
    return rows


def headline(rows: list[dict]) -> dict:
    """Per model: mean accuracy (as a fraction, like metrics.json) over every corrupted
    setting, and over the translations when they were run."""
    out = {}
    for model in MODELS:
        hit = [r for r in rows if r["model"] == model and r["severity"] > 0]
        out[model] = {"corrupted_accuracy": round(np.mean([r["accuracy"] for r in hit]) / 100, 4)}
        moved = [r["accuracy"] for r in hit if r["transform"] == "translate"]
        if moved:
            out[model]["translated_accuracy"] = round(np.mean(moved) / 100, 4)
    return out


def write_rows(path: Path, rows: list[dict]) -> None:
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def stage(params: Params) -> None:
    names = params.robustness.transforms
    split = load_prepared(PREPARED_DIR, params.evaluate.split)
    n = params.robustness.images or len(split.y)
    images, labels = np.array(split.x[:n]), np.asarray(split.y[:n])
    order = pixel_permutation(params.seed) if params.prepare.permute_pixels else None
    natural = images if order is None else permute_pixels(images, np.argsort(order))
    score = Scorer(labels, order, params.cnn.device, params.evaluate.batch_size, params.cnn.precision)
    rows = curves(natural, score, names, params.seed)
    summary = headline(rows)
    write_json(ROBUSTNESS, summary)
    write_rows(PLOTS_DIR / "robustness.csv", rows)
    robustness_curves(rows, PLOTS_DIR / "robustness.png")
    print(f"robustness: mean accuracy on {len(labels)} {params.evaluate.split} images over every corrupted setting: "
          + ", ".join(f"{m.upper()} {100 * summary[m]['corrupted_accuracy']:.2f} %" for m in MODELS))  # fmt: skip


def main() -> None:
    run_stage(stage)


if __name__ == "__main__":
    main()
