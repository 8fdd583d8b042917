"""The stages' figures that DVC's Vega templates cannot draw well: annotated heatmaps,
bar charts, an image gallery, small multiples."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from fmnist.classes import CLASS_NAMES  # noqa: E402
from fmnist.io import atomic_path  # noqa: E402
from fmnist.metrics import favours_cnn  # noqa: E402
from fmnist.study import STUDY_ACCURACY  # noqa: E402


def save_figure(fig, path: Path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)


def difference_heatmap(diff: np.ndarray, path: Path) -> None:
    """CNN minus MLP counts, coloured by which model each cell favours, with the rule stated."""
    credit = favours_cnn(diff)
    limit = max(1, int(np.abs(credit).max()))
    fig, ax = plt.subplots(figsize=(8.6, 7.6))
    ax.imshow(credit, cmap="RdBu", vmin=-limit, vmax=limit)
    for (i, j), value in np.ndenumerate(diff):
        if value:
            strong = abs(credit[i, j]) > 0.6 * limit
            ax.text(j, i, f"{value:+d}", ha="center", va="center", fontsize=8,
                    color="white" if strong else "black")  # fmt: skip
    ticks = np.arange(len(CLASS_NAMES))
    ax.set_xticks(ticks, CLASS_NAMES, rotation=45, ha="right")
    ax.set_yticks(ticks, CLASS_NAMES)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    fig.suptitle("Confusion matrix difference: CNN count minus MLP count", y=0.99)
    ax.set_title(
        "Blue favours the CNN, red the MLP. Diagonal (correct): + means the CNN got more right.\n"
        "Off-diagonal (mistakes): - means the CNN made fewer of that mistake.",
        fontsize=9,
    )
    save_figure(fig, path)


def accuracy_bars(ours: dict[str, float], path: Path, split: str = "test") -> None:
    """Accuracy (%) of this run on ``split`` beside the study's published test figures."""
    models = ["mlp", "cnn"]
    x = np.arange(len(models))
    fig, ax = plt.subplots(figsize=(6, 4))
    for offset, label, values in ((-0.2, "study", STUDY_ACCURACY), (0.2, "this run", ours)):
        bars = ax.bar(x + offset, [values[m] for m in models], width=0.38, label=label)
        ax.bar_label(bars, fmt="%.2f", fontsize=9)
    ax.set_xticks(x, [m.upper() for m in models])
    ax.set_ylabel(f"{split} accuracy (%)")
    low = min(min(ours.values()), min(STUDY_ACCURACY.values()))
    ax.set_ylim(max(0.0, low - 5), 100)
    ax.legend(loc="upper left")
    ax.set_title(f"Fashion-MNIST {split} accuracy (the study's: test)" if split != "test"
                 else "Fashion-MNIST test accuracy")  # fmt: skip
    save_figure(fig, path)


def reliability_diagram(bins: dict[str, list[dict]], path: Path) -> None:
    """Accuracy against confidence per bin for each model; the diagonal is perfect calibration."""
    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="perfectly calibrated")
    for name, model_bins in bins.items():
        ax.plot([b["confidence"] for b in model_bins], [b["accuracy"] for b in model_bins],
                marker="o", label=name.upper())  # fmt: skip
    ax.set_xlabel("mean confidence in bin (15 equal-width bins)")
    ax.set_ylabel("accuracy in bin")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(loc="upper left")
    ax.set_title("Reliability diagram (test set)")
    save_figure(fig, path)


def per_class_f1_bars(per_class: dict[str, dict[str, dict]], path: Path) -> None:
    """F1 of each class, both models side by side."""
    y = np.arange(len(CLASS_NAMES))
    fig, ax = plt.subplots(figsize=(7, 5))
    for offset, (name, scores) in zip((-0.2, 0.2), per_class.items(), strict=True):
        ax.barh(y + offset, [scores.get(c, {}).get("f1", 0) for c in CLASS_NAMES], height=0.38,
                label=name.upper())  # fmt: skip
    ax.set_yticks(y, CLASS_NAMES)
    ax.invert_yaxis()
    ax.set_xlim(0.5, 1)
    ax.set_xlabel("F1 on the test set")
    ax.legend(loc="lower left")
    ax.set_title("Per-class F1")
    save_figure(fig, path)


def top_confusions_bars(confusions: dict[str, list[dict]], path: Path) -> None:
    """Each model's most frequent mistakes, and how many of those images the other gets right."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.8), sharex=True, layout="constrained")
    for ax, (name, rows) in zip(axes, confusions.items(), strict=True):
        other = "CNN" if name == "mlp" else "MLP"
        labels = [f"{r['true']} → {r['predicted']}" for r in rows]
        y = np.arange(len(rows))
        ax.barh(y, [r["count"] for r in rows], color="lightgrey", label=f"{name.upper()} mistakes")
        ax.barh(y, [r["other_model_right"] for r in rows], height=0.45, color="tab:green",
                label=f"of these, {other} right")  # fmt: skip
        ax.set_yticks(y, labels)
        ax.invert_yaxis()
        ax.set_title(f"{name.upper()}: most frequent mistakes")
        ax.legend(loc="lower right", fontsize=8)
    axes[0].set_xlabel("test images")
    axes[1].set_xlabel("test images")
    save_figure(fig, path)


def disagreement_gallery(images: np.ndarray, y: np.ndarray, preds: dict[str, np.ndarray],
                         path: Path, count: int = 24) -> None:  # fmt: skip
    """The first test images on which the two models disagree, labelled true / MLP / CNN."""
    index = np.flatnonzero(preds["mlp"] != preds["cnn"])[:count]
    cols = 6
    rows = max(1, -(-len(index) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.9, rows * 2.25), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, i in zip(axes.flat, index, strict=False):
        ax.imshow(images[i], cmap="gray_r", vmin=0, vmax=1)
        mlp, cnn = preds["mlp"][i], preds["cnn"][i]
        ax.set_title(f"true: {CLASS_NAMES[y[i]]}\nMLP: {CLASS_NAMES[mlp]}{' ✓' if mlp == y[i] else ''}\n"
                     f"CNN: {CLASS_NAMES[cnn]}{' ✓' if cnn == y[i] else ''}", fontsize=7)  # fmt: skip
    fig.suptitle(f"Test images where MLP and CNN disagree (first {len(index)} of "
                 f"{int(np.sum(preds['mlp'] != preds['cnn']))})")  # fmt: skip
    save_figure(fig, path)


def robustness_curves(rows: list[dict], path: Path) -> None:
    """Accuracy against severity, one panel per transformation, one line per model."""
    names = list(dict.fromkeys(r["transform"] for r in rows))
    cols = 3 if len(names) <= 9 else 4
    fig, axes = plt.subplots(math.ceil(len(names) / cols), cols, figsize=(3.2 * cols, 2.6 * math.ceil(len(names) / cols)),
                             sharey=True, squeeze=False)  # fmt: skip
    for ax, name in zip(axes.flat, names, strict=False):
        for model, colour in (("mlp", "tab:orange"), ("cnn", "tab:blue")):
            points = [r for r in rows if r["transform"] == name and r["model"] == model]
            ax.plot([r["amount"] for r in points], [r["accuracy"] for r in points], "o-", color=colour,
                    label=model.upper(), markersize=3)  # fmt: skip
        unit = points[-1]["unit"]
        ax.set_title(name.replace("_", " "), fontsize=10)
        ax.set_xlabel(unit, fontsize=8)
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(names) :]:
        ax.axis("off")
    for ax in axes[:, 0]:
        ax.set_ylabel("test accuracy (%)")
    axes.flat[0].legend(fontsize=8)
    fig.suptitle("Accuracy of both models on corrupted test images (severity 0 = clean)", y=1.0)
    fig.tight_layout()
    save_figure(fig, path)
