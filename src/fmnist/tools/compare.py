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
import subprocess
import sys
from pathlib import Path

from fmnist.io import write_text
from fmnist.paths import CNN_LIVE, METRICS, MLP_LIVE
from fmnist.tools import pairview

IMAGES = ("plots/accuracy.png", "plots/confusion_difference.png", "plots/top_confusions.png")
CURVES = ("dvclive/train_cnn/plots/metrics/train/loss.tsv", "dvclive/train_mlp/plots/metrics/train/loss.tsv",
          "dvclive/train_cnn/plots/metrics/val/accuracy.tsv")  # fmt: skip


def dvc(*args: str) -> str:
    exe = Path(sys.executable).with_name("dvc")
    result = subprocess.run([str(exe), *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"fmnist compare: dvc {' '.join(args)} failed:\n{result.stderr.strip()}")
    return result.stdout.strip()


def git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], capture_output=True, text=True)


def read_json_at(rev: str | None, path: Path) -> dict:
    """A git-tracked JSON file as ``rev`` has it (the workspace's with ``rev`` None); {} if absent."""
    if rev is None:
        return json.loads(path.read_text()) if path.is_file() else {}
    shown = git("show", f"{rev}:{path.as_posix()}")
    return json.loads(shown.stdout) if shown.returncode == 0 else {}


def pair_at(rev: str | None) -> pairview.PairRow:
    """The revision's MLP-against-CNN row, from its metrics files (they live in git)."""
    seconds = {model: read_json_at(rev, live / "metrics.json").get("train_seconds")
               for model, live in (("mlp", MLP_LIVE), ("cnn", CNN_LIVE))}  # fmt: skip
    return pairview.from_metrics(rev or "workspace", read_json_at(rev, METRICS), seconds)


def same_commit(base: str, head: str | None) -> str | None:
    """The commit both name, when they name one (the workspace is never a commit)."""
    if head is None:
        return None
    commits = {git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}").stdout.strip() for rev in (base, head)}
    return commits.pop() if len(commits) == 1 and "" not in commits else None


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
    if commit := same_commit(base, head):
        return (f"## MLP vs CNN: `{head}` against `{base}`\n\nBoth name the same commit ({commit[:7]}): "
                "nothing to compare.\n")  # fmt: skip
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
        "Test accuracy in percent with its 95 % interval, the CNN's lead with its paired-bootstrap "
        "interval, McNemar's exact p, training seconds:",
        "",
        pairview.markdown([pair_at(base), pair_at(head)], first="revision"),
        "<details><summary>All declared metrics (dvc metrics diff: fractions, rounded to 5 decimals)</summary>",
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
    lines += ["", "Regenerate locally: `fmnist compare --base " + base
              + ("" if head is None else f" --head {head}") + "`.", ""]  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="fmnist compare", description=__doc__.split("\n")[0])
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
