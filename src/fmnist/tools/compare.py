"""`fmnist-compare`: the MLP-vs-CNN comparison between two revisions, as markdown.

    fmnist-compare                          # main against the workspace -> reports/compare.md
    fmnist-compare --base HEAD~1 --head HEAD --out pr.md

The same report a pull request gets as a comment (.github/workflows/pr-report.yml): what
changed in params.yaml, the declared metrics with their deltas (`dvc params diff`,
`dvc metrics diff`), both revisions' training curves drawn from `dvc plots diff` (they are
in git, so the base needs no DVC cache), and the key images of the head revision.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from fmnist.io import write_text

HEADLINE = ("mlp.accuracy", "cnn.accuracy", "cnn_minus_mlp.accuracy", "cnn_minus_mlp.accuracy_low",
            "cnn_minus_mlp.accuracy_high", "cnn_minus_mlp.mcnemar_p", "mlp.macro_f1", "cnn.macro_f1",
            "train_seconds")  # fmt: skip
IMAGES = ("plots/accuracy.png", "plots/confusion_difference.png", "plots/top_confusions.png")
CURVES = ("dvclive/train_cnn/plots/metrics/train/loss.tsv", "dvclive/train_mlp/plots/metrics/train/loss.tsv",
          "dvclive/train_cnn/plots/metrics/val/accuracy.tsv")  # fmt: skip


def dvc(*args: str) -> str:
    exe = Path(sys.executable).with_name("dvc")
    result = subprocess.run([str(exe), *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"fmnist-compare: dvc {' '.join(args)} failed:\n{result.stderr.strip()}")
    return result.stdout.strip()


def headline(metrics_md: str) -> str:
    """The header and the rows of the key metrics from `dvc metrics diff --md`, in HEADLINE order."""
    lines = metrics_md.splitlines()
    rows: dict[str, list[str]] = {}
    for line in lines[2:]:
        if line.count("|") > 3:
            rows.setdefault(line.split("|")[2].strip(), []).append(line)
    return "\n".join(lines[:2] + [line for m in HEADLINE for line in rows.get(m, [])])


def curve_images(revs: list[str], folder: Path) -> list[Path]:
    """Each training curve of both revisions, rendered from DVC's own Vega-Lite to PNG."""
    import vl_convert

    plots = json.loads(dvc("plots", "diff", *revs, "--json", "--targets", *CURVES))
    images = []
    for source, entries in plots.get("data", {}).items():
        for entry in entries:
            if entry.get("type") == "vega" and entry["content"].get("data", {}).get("values"):
                path = folder / (source.removeprefix("dvclive/").replace("/plots/metrics/", "-").replace("/", "-")
                                 .removesuffix(".tsv") + ".png")  # fmt: skip
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(vl_convert.vegalite_to_png(entry["content"], scale=1))
                images.append(path)
    return images


def build_report(base: str, head: str | None, out: Path | None = None) -> str:
    """The report's markdown; with ``out``, curve images are drawn beside it and every image
    link is relative to it."""
    link = lambda path: Path(os.path.relpath(path, out.parent if out else ".")).as_posix()  # noqa: E731
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
    ]
    if out is not None:
        lines += [f"### Training curves, `{base}` and `{head_name}`", ""]
        lines += [f"![{p.stem}]({link(p)})" for p in curve_images(revs, out.parent / f"{out.stem}_curves")] + [""]
    lines += [f"### Plots of `{head_name}`", ""]
    for image in IMAGES:
        lines.append(f"![{Path(image).stem}]({link(image)})")
    lines += ["", "Regenerate locally: `fmnist-compare --base " + base
              + ("" if head is None else f" --head {head}") + "`.", ""]  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="fmnist-compare", description=__doc__.split("\n")[0])
    parser.add_argument("--base", default="main", help="base revision (default: main)")
    parser.add_argument("--head", default=None, help="head revision (default: the workspace)")
    parser.add_argument("--out", default="reports/compare.md", help="markdown file to write")
    args = parser.parse_args(argv)
    out = Path(args.out)
    report = build_report(args.base, args.head, out)
    write_text(args.out, report)
    print(report)


if __name__ == "__main__":
    main()
