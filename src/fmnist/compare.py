"""`fmnist-compare`: the MLP-vs-CNN comparison between two revisions, as markdown.

    fmnist-compare                          # main against the workspace -> reports/compare.md
    fmnist-compare --base HEAD~1 --head HEAD --out pr.md

The same report a pull request gets as a comment (.github/workflows/pr-report.yml): what
changed in params.yaml, every metric with its delta (`dvc params diff`, `dvc metrics diff`),
and the key images of the head revision.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from fmnist.io import write_text

HEADLINE = ("mlp.accuracy", "cnn.accuracy", "cnn_minus_mlp.accuracy", "cnn_minus_mlp.accuracy_ci95.low",
            "cnn_minus_mlp.accuracy_ci95.high",
            "mlp.macro_f1", "cnn.macro_f1", "mlp.train_seconds", "cnn.train_seconds")  # fmt: skip
IMAGES = ("plots/accuracy.png", "plots/confusion_difference.png", "plots/top_confusions.png")


def dvc(*args: str) -> str:
    exe = Path(sys.executable).with_name("dvc")
    result = subprocess.run([str(exe), *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"fmnist-compare: dvc {' '.join(args)} failed:\n{result.stderr.strip()}")
    return result.stdout.strip()


def headline(metrics_md: str) -> str:
    """The header and the rows of the key metrics from `dvc metrics diff --md`, in HEADLINE order."""
    lines = metrics_md.splitlines()
    rows = {line.split("|")[2].strip(): line for line in lines[2:] if line.count("|") > 3}
    return "\n".join(lines[:2] + [rows[m] for m in HEADLINE if m in rows])


def build_report(base: str, head: str | None) -> str:
    revs = [base] if head is None else [base, head]
    head_name = head or "workspace"
    params = dvc("params", "diff", *revs, "--md")
    metrics = dvc("metrics", "diff", *revs, "--md", "--all")
    lines = [
        f"## MLP vs CNN: `{head_name}` against `{base}`",
        "",
        "### Params changed",
        "",
        params if params.count("\n") > 1 else "No params changed.",
        "",
        "### Metrics",
        "",
        headline(metrics) if metrics.count("\n") > 1 else "No metrics found in either revision.",
        "",
        "<details><summary>All metrics</summary>",
        "",
        metrics,
        "",
        "</details>",
        "",
        f"### Plots of `{head_name}`",
        "",
    ]
    for image in IMAGES:
        lines.append(f"![{Path(image).stem}]({image})")
    lines += ["", "Regenerate locally: `fmnist-compare --base " + base
              + ("" if head is None else f" --head {head}") + "`.", ""]  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="fmnist-compare", description=__doc__.split("\n")[0])
    parser.add_argument("--base", default="main", help="base revision (default: main)")
    parser.add_argument("--head", default=None, help="head revision (default: the workspace)")
    parser.add_argument("--out", default="reports/compare.md", help="markdown file to write")
    args = parser.parse_args(argv)
    report = build_report(args.base, args.head)
    write_text(args.out, report)
    print(report)


if __name__ == "__main__":
    main()
