"""`fmnist exps`: every experiment side by side, both models, readable at 80 columns.

    fmnist exps                      # HEAD and its experiments, and the workspace
    fmnist exps --rev main other     # other baseline commits and their experiments
    fmnist exps --sort cnn           # best CNN first (also: mlp, diff)
    fmnist exps --md                 # markdown with every changed param, for a pull request
    fmnist exps --json               # the same, for machines

Built on ``dvc.api.exp_show``. Each row says what it changes against its baseline commit,
so both models stay side by side even when only one of them was retrained (where
``dvc exp show --only-changed`` would drop the other's columns). In the console a recipe's
run is named by its recipe and seed; ``--md`` and ``--json`` list its overrides.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

from rich.console import Console

from fmnist.tools import pairview
from fmnist.tools.expdata import (
    changed_params,
    column,
    name_of,
    param_keys,
    with_baselines,
)
from fmnist.tools.recipebook import RECIPES_DIR, recipe_of

SORT_KEYS = {"mlp": "mlp.accuracy", "cnn": "cnn.accuracy", "diff": "cnn_minus_mlp.accuracy"}


def experiment_rows(rows: list[dict], keys: list[str], recipes: Path = RECIPES_DIR) -> list[tuple[dict, pairview.PairRow, str]]:
    """(exp_show row, its pair row with the short detail, every changed param) for each row with metrics."""
    out = []
    for row, base in with_baselines(rows):
        if column(row, "mlp.accuracy") is None and column(row, "cnn.accuracy") is None:
            continue  # queued, failed, or a commit without a run
        changes = ", ".join(changed_params(row, base, keys)) if row is not base else ""
        changes = changes or ("baseline" if row is base else "no change")
        state = row.get("State")
        name = name_of(row) + (f" ({state.lower()})" if state not in (None, "Success") else "")
        split = column(row, "evaluate.split")
        short = "recipe's params" if recipe_of(row, recipes) else changes  # the name says recipe and seed
        short += "" if split in (None, "test") else "; val split"
        out.append((row, pairview.from_exp_row(name, row, short), changes))
    return out


def best_first(entries: list, by: str) -> list:
    value = lambda entry: column(entry[0], SORT_KEYS[by])  # noqa: E731
    return sorted(entries, key=lambda e: -value(e) if value(e) is not None else float("inf"))


TITLE = "MLP vs CNN per experiment (test accuracy unless marked val split)"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="fmnist exps", description=__doc__.split("\n")[0])
    parser.add_argument("--repo", default=".", help="the DVC repository (default: here)")
    parser.add_argument("--rev", nargs="+", help="baseline commits (default: HEAD)")
    parser.add_argument("--sort", choices=sorted(SORT_KEYS), help="order rows by this accuracy")
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--md", action="store_true", help="markdown, with every changed param")
    out.add_argument("--json", action="store_true", help="JSON, with every changed param")
    args = parser.parse_args(argv)

    from dvc.api import exp_show

    rows = exp_show(repo=args.repo, revs=args.rev, force=True)
    entries = experiment_rows(rows, param_keys(Path(args.repo) / "params.yaml"), Path(args.repo) / RECIPES_DIR)
    entries = best_first(entries, args.sort) if args.sort else entries
    full = [replace(pair, detail=changes) for _, pair, changes in entries]
    if args.md:
        print(pairview.markdown(full, first="experiment (changes against its baseline)"), end="")
    elif args.json:
        print(json.dumps([pairview.as_json(p) for p in full], indent=2))
    else:
        console = Console()
        table = pairview.console_table([pair for _, pair, _ in entries], TITLE, "experiment", console.width)
        table.caption, table.caption_justify = "every changed param: fmnist exps --md (or --json)", "left"
        console.print(table)


if __name__ == "__main__":
    main()
