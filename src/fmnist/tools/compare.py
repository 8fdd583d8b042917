"""`fmnist compare`: the MLP-vs-CNN comparison between two revisions, as markdown.

    fmnist compare                          # main against the workspace -> reports/compare.md
    fmnist compare --base HEAD~1 --head HEAD --out pr.md

The same report a pull request gets as a comment (.github/workflows/pr-report.yml): what
changed in params.yaml, the declared metrics with their deltas (`dvc params diff`,
`dvc metrics diff`), both revisions' training curves drawn from `dvc plots diff` (they are
in git, so the base needs no DVC cache), and the key images of the head revision.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import yaml

from fmnist.io import write_text
from fmnist.repo import checked, dvc, git, reader
from fmnist.runs import read_run
from fmnist.tools import views

IMAGES = ("plots/accuracy.png", "plots/confusion_difference.png", "plots/top_confusions.png")
CURVES = ("dvclive/train_cnn/plots/metrics/train/loss.tsv", "dvclive/train_mlp/plots/metrics/train/loss.tsv",
          "dvclive/train_cnn/plots/metrics/val/accuracy.tsv")  # fmt: skip


def run_row(rev: str | None, base: str) -> views.Row:
    """The revision's MLP-against-CNN row, from its metrics files (they live in git)."""
    params = yaml.safe_load(reader(base)("params.yaml") or "{}")
    run = read_run(reader(rev), rev or "workspace", params)
    return views.run_row(run, rev or "workspace") if run else views.Row(rev or "workspace", "no metrics")


def same_commit(base: str, head: str | None) -> str | None:
    """The commit both name, when they name one (the workspace is never a commit)."""
    if head is None:
        return None
    commits = {git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}") for rev in (base, head)}
    return commits.pop() if len(commits) == 1 and None not in commits else None


def curve_images(revs: list[str], folder: Path) -> list[Path]:
    """Each training curve of both revisions, rendered from DVC's own Vega-Lite to PNG."""
    import vl_convert

    plots = json.loads(checked(dvc("plots", "diff", *revs, "--json", "--targets", *CURVES), "dvc plots diff"))
    images = []
    for source, entries in plots.get("data", {}).items():
        for entry in entries:
            if entry.get("type") == "vega" and entry["content"].get("data", {}).get("values"):
                name = source.removeprefix("dvclive/").replace("/plots/metrics/", "-").replace("/", "-")
                path = folder / (name.removesuffix(".tsv") + ".png")
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(vl_convert.vegalite_to_png(entry["content"], scale=1))
                images.append(path)
    return images


def build_report(base: str, head: str | None, out: Path | None = None) -> str:
    """The report's markdown; with ``out``, curve images are drawn beside it and every image
    link is relative to it."""
    link = lambda path: Path(os.path.relpath(path, out.parent if out else ".")).as_posix()  # noqa: E731
    revs, head_name = [base] if head is None else [base, head], head or "workspace"
    if commit := same_commit(base, head):
        return f"## MLP vs CNN: `{head}` against `{base}`\n\nBoth name the same commit ({commit[:7]}): nothing to compare.\n"
    params = checked(dvc("params", "diff", *revs, "--md"), "dvc params diff").strip()
    metrics = checked(dvc("metrics", "diff", *revs, "--md", "--all"), "dvc metrics diff").strip()
    lines = [f"## MLP vs CNN: `{head_name}` against `{base}`", "", "### Params changed", "",
             params if params.count("\n") > 1 else "No params changed.", "", "### Metrics", "",
             "Test accuracy in percent with its 95 % interval, CNN − MLP with its paired-bootstrap interval, "
             "McNemar's exact p, training seconds; one run each:", "",
             views.markdown([run_row(base, base), run_row(head, base)], first="revision"),
             "<details><summary>Every declared metric (dvc metrics diff: fractions, rounded to 5 decimals)</summary>",
             "", metrics, "", "</details>", ""]  # fmt: skip
    if out is not None:
        lines += [f"### Training curves, `{base}` and `{head_name}`", ""]
        lines += [f"![{p.stem}]({link(p)})" for p in curve_images(revs, out.parent / f"{out.stem}_curves")] + [""]
    lines += [
        f"### Plots of `{head_name}`",
        "",
        *(f"![{Path(i).stem}]({link(i)})" for i in IMAGES),
        "",
        f"Regenerate locally: `fmnist compare --base {base}" + ("" if head is None else f" --head {head}") + "`.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="fmnist compare", description=__doc__.split("\n")[0])
    parser.add_argument("--base", default="main", help="base revision (default: main)")
    parser.add_argument("--head", default=None, help="head revision (default: the workspace)")
    parser.add_argument("--out", default="reports/compare.md", help="markdown file to write")
    args = parser.parse_args(argv)
    report = build_report(args.base, args.head, Path(args.out))
    write_text(args.out, report)
    print(report)


if __name__ == "__main__":
    main()
