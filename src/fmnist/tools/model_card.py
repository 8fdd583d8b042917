"""MODEL_CARD.md's numbers: the front matter's model-index and the evaluation section,
generated from the committed run like the README's table."""

from __future__ import annotations

from fmnist.classes import CLASS_NAMES
from fmnist.study import STUDY_ACCURACY
from fmnist.tools.results import RunResults

NAMES = {"cnn": "fmnist-cnn", "mlp": "fmnist-mlp"}


def model_index(r: RunResults) -> str:
    """The Hugging Face model-index (YAML) for both models, from metrics/metrics.json."""
    lines = ["model-index:"]
    for model in ("cnn", "mlp"):
        m = r.headline[model]
        lines += [
            f"- name: {NAMES[model]}",
            "  results:",
            "  - task: {type: image-classification, name: Image classification}",
            f"    dataset: {{type: fashion_mnist, name: Fashion-MNIST, split: {r.details['split']}}}",
            "    metrics:",
            f"    - {{type: accuracy, value: {100 * m['accuracy']:.2f}, name: accuracy (%)}}",
            f"    - {{type: f1, value: {m['macro_f1']:.4f}, name: macro F1}}",
        ]
    return "\n".join(lines)


def results_section(r: RunResults) -> str:
    """Accuracy with intervals, calibration, and each model's weakest classes."""
    lines = ["| model | accuracy [95 % CI] | macro F1 | NLL | ECE | study | train s |",
             "|---|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for model in ("cnn", "mlp"):
        m = r.headline[model]
        lines.append(
            f"| {NAMES[model]} | {100 * m['accuracy']:.2f} % [{100 * m['accuracy_low']:.2f}, "
            f"{100 * m['accuracy_high']:.2f}] | {m['macro_f1']:.4f} | {m['nll']:.3f} | {m['ece']:.3f} | "
            f"{STUDY_ACCURACY[model]:.2f} % | {r.training[model]['train_seconds']:.0f} |"
        )
    lines += ["", f"On the {r.details['images']:,} images of the {r.details['split']} split. "
              "Per-class accuracy (recall), weakest first:", "",
              "| class | " + " | ".join(NAMES[m] for m in ("cnn", "mlp")) + " |", "|---|---:|---:|"]  # fmt: skip
    recall = {m: {c: r.details[m]["per_class"][c]["recall"] for c in CLASS_NAMES} for m in ("cnn", "mlp")}
    for name in sorted(CLASS_NAMES, key=lambda c: recall["cnn"][c]):
        lines.append(f"| {name} | {100 * recall['cnn'][name]:.1f} % | {100 * recall['mlp'][name]:.1f} % |")
    return "\n".join(lines)
