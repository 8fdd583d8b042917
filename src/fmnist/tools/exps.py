"""`fmnist-exps`: experiments side by side, both models, in a table that fits a terminal.

    fmnist-exps                      # HEAD and its experiments, and the workspace
    fmnist-exps --rev main other     # other baseline commits and their experiments
    fmnist-exps --sort cnn           # best CNN first (also: mlp, diff)
    fmnist-exps --md                 # markdown, for a pull request or a report

Built on ``dvc.api.exp_show``. Each row lists the params it changes against its baseline
commit, so both models stay side by side even when only one of them was retrained (where
``dvc exp show --only-changed`` would drop the other's columns).
"""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.table import Table

from fmnist.tools.expdata import (
    changed_params,
    column,
    name_of,
    param_keys,
    train_seconds,
    with_baselines,
)

HEADER = ("experiment", "changes against its baseline", "MLP %", "CNN %", "CNN − MLP [95 % CI]",
          "McNemar p", "MLP s", "CNN s")  # fmt: skip
SORT_KEYS = {"mlp": "mlp.accuracy", "cnn": "cnn.accuracy", "diff": "cnn_minus_mlp.accuracy"}


def _pct(value, digits: int = 2) -> str:
    return "" if value is None else f"{100 * value:.{digits}f}"


def _seconds(row: dict, model: str) -> str:
    value = train_seconds(row, model)
    return "" if value is None else f"{value:.0f}"


def table_rows(rows: list[dict], keys: list[str]) -> list[tuple[dict, list[str]]]:
    """Each exp_show row that has metrics, with its cells."""
    out = []
    for row, base in with_baselines(rows):
        if column(row, "mlp.accuracy") is None and column(row, "cnn.accuracy") is None:
            continue  # queued, failed, or a commit without a run
        gap, low, high = (column(row, f"cnn_minus_mlp.{k}") for k in ("accuracy", "accuracy_low", "accuracy_high"))
        changes = changed_params(row, base, keys) if row is not base else []
        split = column(row, "evaluate.split")
        state = row.get("State")
        name = name_of(row) + (f" ({state.lower()})" if state not in (None, "Success") else "")
        p = column(row, "cnn_minus_mlp.mcnemar_p")
        out.append((row, [
            name, ", ".join(changes) or ("baseline" if row is base else "no change"),
            _pct(column(row, "mlp.accuracy")) + ("" if split in (None, "test") else " (val)"),
            _pct(column(row, "cnn.accuracy")) + ("" if split in (None, "test") else " (val)"),
            "" if gap is None else f"{100 * gap:+.2f} [{100 * low:+.2f}, {100 * high:+.2f}]",
            "" if p is None else f"{p:.2g}", _seconds(row, "mlp"), _seconds(row, "cnn"),
        ]))  # fmt: skip
    return out


def best_first(pairs: list[tuple[dict, list[str]]], by: str) -> list[tuple[dict, list[str]]]:
    value = lambda pair: column(pair[0], SORT_KEYS[by])  # noqa: E731
    return sorted(pairs, key=lambda pair: -value(pair) if value(pair) is not None else float("inf"))


def markdown(cells: list[list[str]]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|---|---|" + "---:|" * (len(HEADER) - 2)]
    return "\n".join(lines + ["| " + " | ".join(c) + " |" for c in cells]) + "\n"


def show(cells: list[list[str]], console: Console) -> None:
    table = Table(title="MLP vs CNN per experiment (test accuracy unless marked val)", title_justify="left")
    for i, name in enumerate(HEADER):
        table.add_column(name, justify="left" if i < 2 else "right", overflow="fold",
                         no_wrap=i not in (0, 1))  # fmt: skip
    for row in cells:
        table.add_row(*row)
    console.print(table)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="fmnist-exps", description=__doc__.split("\n")[0])
    parser.add_argument("--repo", default=".", help="the DVC repository (default: here)")
    parser.add_argument("--rev", nargs="+", help="baseline commits (default: HEAD)")
    parser.add_argument("--sort", choices=sorted(SORT_KEYS), help="order rows by this accuracy")
    parser.add_argument("--md", action="store_true", help="print markdown instead of a table")
    args = parser.parse_args(argv)

    from dvc.api import exp_show

    rows = exp_show(repo=args.repo, revs=args.rev, force=True)
    keys = param_keys(f"{args.repo}/params.yaml")
    pairs = table_rows(rows, keys)
    cells = [c for _, c in (best_first(pairs, args.sort) if args.sort else pairs)]
    if args.md:
        print(markdown(cells), end="")
    else:
        show(cells, Console())


if __name__ == "__main__":
    main()
