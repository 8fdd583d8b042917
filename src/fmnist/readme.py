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
from fmnist.report import significance_sentence

README = Path("README.md")
# Blocks copied from reports that fmnist-summary writes, when they exist.
REPORT_BLOCKS = {
    "seeds": Path("reports/seed_sweep.md"),
    "recipes": Path("reports/recipes.md"),
    "ablation": Path("reports/ablation.md"),
}


def markers(block: str) -> tuple[str, str]:
    return f"<!-- {block}:start -->", f"<!-- {block}:end -->"


START, END = markers("results")


def results_table(metrics: dict, timing: dict, dataset: dict) -> str:
    rows = [
        "| model | study | this repository [95 % CI] | difference | macro F1 | parameters | train seconds |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for model in ("mlp", "cnn"):
        m = metrics[model]
        ours, study = 100 * m["accuracy"], STUDY_ACCURACY[model]
        low, high = 100 * m["accuracy_ci95"]["low"], 100 * m["accuracy_ci95"]["high"]
        rows.append(
            f"| {model.upper()} | {study:.2f} % | {ours:.2f} % [{low:.2f}, {high:.2f}] | "
            f"{ours - study:+.2f} | {m['macro_f1']:.4f} | {m['parameters']:,} | "
            f"{timing[model]['train_seconds']:.0f} |"
        )
    rows += [
        "",
        f"{significance_sentence(metrics['cnn_minus_mlp'])} The study's gap: "
        f"{STUDY_ACCURACY['cnn'] - STUDY_ACCURACY['mlp']:+.2f} points.",
        "",
        f"Trained on {dataset['sizes']['train']:,} images, tested on {metrics['test_images']:,}; "
        f"CNN on `{timing['cnn']['device']}`. Full report: [metrics/report.md](metrics/report.md).",
    ]
    return "\n".join(rows)


def render(readme: str, table: str, block: str = "results") -> str:
    start, end = markers(block)
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    if not pattern.search(readme):
        raise SystemExit(f"{README}: markers {start} ... {end} not found")
    return pattern.sub(lambda _: f"{start}\n{table}\n{end}", readme)


def render_all(readme: str, root: Path = Path(".")) -> str:
    """Every generated block: the results table, and each summary report that exists."""
    readme = render(readme, current_table(root))
    for block, path in REPORT_BLOCKS.items():
        if (root / path).exists():
            readme = render(readme, (root / path).read_text().rstrip("\n"), block)
    return readme


def current_table(root: Path = Path(".")) -> str:
    load = lambda name: json.loads((root / "metrics" / name).read_text())  # noqa: E731
    return results_table(load("metrics.json"), load("timing.json"), load("dataset.json"))


def main() -> None:
    write_text(README, render_all(README.read_text()))
    print(f"{README}: generated blocks rewritten from metrics/ and reports/")


if __name__ == "__main__":
    main()
