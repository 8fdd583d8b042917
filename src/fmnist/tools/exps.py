"""`fmnist exps`: every experiment side by side, both models, at the terminal's width.

    fmnist exps                      # HEAD, the workspace, and HEAD's experiments
    fmnist exps --sort cnn --md      # best CNN first, as markdown with every changed param

Each row is one run (one seed): what it changed against its baseline commit (a recipe's
run says its recipe, and what it added to it), both models, the gap and both times, so
both models stay side by side even when only one was retrained.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.console import Console

from fmnist.params import shown
from fmnist.runs import Run, experiment_runs
from fmnist.tools import views

SORT_KEYS = {"mlp": lambda r: r.mlp.accuracy, "cnn": lambda r: r.cnn.accuracy,
             "diff": lambda r: r.gap.accuracy if r.gap else None}  # fmt: skip
TITLE = "MLP vs CNN per experiment, one seed each (test accuracy unless marked val)"


def detail(run: Run) -> str:
    return run.label + ("; val split" if run.split == "val" else "")


def every_change(run: Run) -> str:
    return ", ".join(f"{k}={shown(v)}" for k, v in {**run.settings, **run.overrides}.items()) or "no change"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="fmnist exps", description=__doc__.split("\n")[0])
    parser.add_argument("--repo", default=".", help="the DVC repository (default: here)")
    parser.add_argument("--rev", nargs="+", help="baseline commits (default: HEAD)")
    parser.add_argument("--sort", choices=sorted(SORT_KEYS), help="order rows by this accuracy")
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--md", action="store_true", help="markdown, with every changed param")
    out.add_argument("--json", action="store_true", help="JSON, with every changed param")
    args = parser.parse_args(argv)
    runs = experiment_runs(args.rev, Path(args.repo))
    if args.sort:
        value = SORT_KEYS[args.sort]
        runs.sort(key=lambda r: -v if (v := value(r)) is not None else float("inf"))
    if args.md or args.json:
        rows = [views.run_row(r, r.name, every_change(r)) for r in runs]
        print(json.dumps([views.as_json(r) for r in rows], indent=2) if args.json
              else views.markdown(rows, "experiment (changes against its baseline)"), end="\n" if args.json else "")  # fmt: skip
        return
    console = Console()
    table = views.console_table([views.run_row(r, r.name, detail(r)) for r in runs], TITLE, "experiment", console.width)
    table.caption, table.caption_justify = "every changed param: fmnist exps --md (or --json)", "left"
    console.print(table)


if __name__ == "__main__":
    main()
