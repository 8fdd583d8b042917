"""Regenerate the README's results table from the committed metrics (`fmnist-readme`).

The table is never typed: this rewrites the block between the two markers, and a test
fails when the README and ``metrics/`` disagree.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from fmnist.io import write_text
from fmnist.plots import STUDY_ACCURACY

README = Path("README.md")
START, END = "<!-- results:start -->", "<!-- results:end -->"


def results_table(metrics: dict, timing: dict, dataset: dict) -> str:
    sizes = dataset["sizes"]
    rows = [
        "| model | study | this repository | difference | macro F1 | parameters | train seconds |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for model in ("mlp", "cnn"):
        ours = 100 * metrics[model]["accuracy"]
        study = STUDY_ACCURACY[model]
        rows.append(
            f"| {model.upper()} | {study:.2f} % | {ours:.2f} % | {ours - study:+.2f} | "
            f"{metrics[model]['macro_f1']:.4f} | {metrics[model]['parameters']:,} | "
            f"{timing[model]['train_seconds']:.0f} |"
        )
    gap = 100 * metrics["cnn_minus_mlp"]["accuracy"]
    rows.append("")
    rows.append(
        f"CNN minus MLP: {gap:+.2f} points (study: "
        f"{STUDY_ACCURACY['cnn'] - STUDY_ACCURACY['mlp']:+.2f}). Trained on {sizes['train']:,} "
        f"images, tested on {metrics['test_images']:,}; CNN on `{timing['cnn']['device']}`."
    )
    return "\n".join(rows)


def render(readme: str, table: str) -> str:
    pattern = re.compile(re.escape(START) + r".*?" + re.escape(END), re.S)
    if not pattern.search(readme):
        raise SystemExit(f"{README}: markers {START} ... {END} not found")
    return pattern.sub(lambda _: f"{START}\n{table}\n{END}", readme)


def current_table(root: Path = Path(".")) -> str:
    load = lambda name: json.loads((root / "metrics" / name).read_text())  # noqa: E731
    return results_table(load("metrics.json"), load("timing.json"), load("dataset.json"))


def main() -> None:
    write_text(README, render(README.read_text(), current_table()))
    print(f"{README}: results table regenerated from metrics/")


if __name__ == "__main__":
    main()
