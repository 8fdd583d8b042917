"""`fmnist summary`: mean ± std over seeds, never over different params.

    fmnist summary                       # HEAD and all its experiments, one row per params set
    fmnist summary --rev 1a2b3c4 5d6e7f8 # several baseline commits and their experiments
    fmnist summary --exp exp-a exp-b     # chosen experiments: every one must be there
    fmnist summary --exp a b --allow-missing  # summarise what is there, name what is not
    fmnist summary --md                  # markdown (also --json)
    fmnist summary --out reports/seeds   # also write seeds.md, seeds.json and seeds.png (one params set)
    fmnist summary --by-recipe --out reports/ablation  # a report with one row per params set
    fmnist summary --pool-all            # average runs of different params anyway (the title says so)

Runs are grouped by their params other than ``seed``; each group says its n, and a group
of one is "one seed" with that run's intervals, never "± 0". Reads what ``dvc exp show``
reads (``dvc.api.exp_show``), so experiments need not be applied to the workspace. Named
experiments that are absent or unfinished are reported, never silently averaged away.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from rich.console import Console

from fmnist.io import write_json, write_text
from fmnist.params import PARAMS_FILE
from fmnist.plots import save_figure
from fmnist.study import STUDY_ACCURACY, STUDY_GAP
from fmnist.tools import pairview
from fmnist.tools.expdata import column, is_finished, name_of, param_keys, shown, train_seconds
from fmnist.tools.recipebook import RECIPES_DIR, recipe_of

# (label, metrics key suffix, scale for display)
METRICS = (
    ("accuracy (%)", "accuracy", 100),
    ("macro F1", "macro_f1", 1),
    ("NLL", "nll", 1),
    ("ECE", "ece", 1),
    ("train seconds", "train_seconds", 1),
)


def collect(rows: list[dict], names: list[str] | None) -> tuple[list[dict], list[str]]:
    """(finished runs, missing names): the named experiments, else everything but the workspace.

    A named experiment is missing when it is absent, queued, running (its metrics are still
    the baseline's) or failed.
    """
    picked = [r for r in rows if r.get("rev") != "workspace" and is_finished(r)
              and (not names or name_of(r) in names)]  # fmt: skip
    found = {name_of(r) for r in picked}
    return picked, [n for n in names or [] if n not in found]


def mean_std(values: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value)."""
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def summarise(rows: list[dict], missing: list[str] | None = None) -> dict:
    seeds = {column(r, "seed") for r in rows}
    seeds = sorted(int(s) if isinstance(s, float) and s.is_integer() else s for s in seeds)
    summary = {"runs": len(rows), "seeds": seeds, "missing": missing or [], "models": {}}
    for model in ("mlp", "cnn"):
        stats = {}
        for _, key, _ in METRICS:
            get = train_seconds if key == "train_seconds" else lambda r, m, k=key: column(r, f"{m}.{k}")
            values = [get(r, model) for r in rows]
            values = [float(v) for v in values if isinstance(v, int | float) and math.isfinite(v)]
            if values:
                mean, std = mean_std(values)
                stats[key] = {"mean": mean, "std": std, "values": values}
        summary["models"][model] = stats
    gaps = [column(r, "cnn_minus_mlp.accuracy") for r in rows]
    mean, std = mean_std([float(g) for g in gaps])
    summary["cnn_minus_mlp_accuracy"] = {"mean": mean, "std": std}
    return summary


def to_markdown(summary: dict) -> str:
    lines = [
        f"Summary of {summary['runs']} runs (seeds {', '.join(map(str, summary['seeds']))}): "
        "mean ± sample standard deviation."
        + (f" Missing, not averaged: {', '.join(summary['missing'])}." if summary.get("missing") else ""),
        "",
        "| metric | MLP | CNN | study MLP | study CNN |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, key, scale in METRICS:
        cells = []
        for model in ("mlp", "cnn"):
            s = summary["models"][model].get(key)
            cells.append(f"{scale * s['mean']:.3f} ± {scale * s['std']:.3f}" if s else "")
        study = [f"{STUDY_ACCURACY[m]:.2f}" if key == "accuracy" else "" for m in ("mlp", "cnn")]
        lines.append(f"| {label} | {cells[0]} | {cells[1]} | {study[0]} | {study[1]} |")
    gap = summary["cnn_minus_mlp_accuracy"]
    lines += ["", f"CNN minus MLP accuracy: {100 * gap['mean']:+.2f} ± {100 * gap['std']:.2f} points "
              f"(study: {STUDY_GAP:+.2f})."]  # fmt: skip
    return "\n".join(lines) + "\n"


def params_sets(rows: list[dict], keys: list[str]) -> tuple[list[str], dict[tuple, list[dict]]]:
    """Runs that differ in their seed only, grouped: (the params that vary between groups,
    each group's values of them -> its runs), in the order the groups first appear."""
    varying = [k for k in keys if k != "seed" and len({shown(column(r, k)) for r in rows}) > 1]
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault(tuple(shown(column(row, k)) for k in varying), []).append(row)
    return varying, groups


def changes(varying: list[str], group: tuple, against: tuple) -> str:
    return ", ".join(f"{k}={v}" for k, v, b in zip(varying, group, against, strict=True) if v != b) or "baseline"


def group_rows(rows: list[dict], keys: list[str], recipes: Path = RECIPES_DIR) -> list[pairview.PairRow]:
    """One row per group of seeds: its recipe (or its changes), n and the seeds in the detail."""
    varying, groups = params_sets(rows, keys)
    first = next(iter(groups), ())
    out = []
    for group, members in groups.items():
        named = {recipe_of(r, recipes) for r in members}
        label = f"recipe {named.pop()}" if len(named) == 1 and None not in named else changes(varying, group, first)
        seeds = sorted(shown(column(r, "seed")) for r in members)
        detail = f"one seed: {seeds[0]}" if len(members) == 1 else f"{len(members)} seeds: {', '.join(seeds)}"
        out.append(pairview.from_seeds(label, members, detail))
    return out


def by_recipe(rows: list[dict], keys: list[str]) -> list[dict]:
    """Group runs by their params other than the seed; groups ordered by how far they are
    from the first (fewest changed params first), each labelled by what it adds to the one
    before it: an ablation that adds one change at a time reads top to bottom."""
    varying, groups = params_sets(rows, keys)
    base = next(iter(groups))
    ordered = sorted(groups, key=lambda g: sum(a != b for a, b in zip(g, base, strict=True)))
    table, previous = [], base
    for group in ordered:
        members = groups[group]
        entry = {"change": changes(varying, group, previous), "runs": len(members),
                 "seeds": sorted(shown(column(r, "seed")) for r in members)}  # fmt: skip
        getters = {"cnn.accuracy": lambda r: column(r, "cnn.accuracy"),
                   "mlp.accuracy": lambda r: column(r, "mlp.accuracy"),
                   "cnn.train_seconds": lambda r: train_seconds(r, "cnn")}  # fmt: skip
        for metric, get in getters.items():
            values = [float(v) for r in members if isinstance(v := get(r), int | float)]
            if values:
                entry[metric] = dict(zip(("mean", "std"), mean_std(values), strict=True))
        table.append(entry)
        previous = group
    return table


def recipe_markdown(table: list[dict]) -> str:
    def cell(entry, metric, scale, digits):
        s = entry.get(metric)
        if not s:
            return ""
        mean = f"{scale * s['mean']:.{digits}f}"
        return mean if entry["runs"] == 1 else f"{mean} ± {scale * s['std']:.{digits}f}"  # no spread of one run

    lines = ["| step | adds | seeds | CNN test accuracy % | CNN train s | MLP test accuracy % |",
             "|---:|---|---|---:|---:|---:|"]  # fmt: skip
    for i, e in enumerate(table):
        lines.append(f"| {i} | {e['change']} | {', '.join(e['seeds'])} | {cell(e, 'cnn.accuracy', 100, 2)} | "
                     f"{cell(e, 'cnn.train_seconds', 1, 0)} | {cell(e, 'mlp.accuracy', 100, 2)} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def seed_sweep_plot(summary: dict, path: Path) -> None:
    """Test accuracy of every run, with mean ± std and the study's single figure."""
    fig, ax = plt.subplots(figsize=(5.5, 4))
    for x, model in enumerate(("mlp", "cnn")):
        stats = summary["models"][model]["accuracy"]
        values = 100 * np.asarray(stats["values"])
        ax.scatter(np.full(len(values), x - 0.1), values, s=14, alpha=0.7, label=None)
        ax.errorbar(x + 0.1, 100 * stats["mean"], yerr=100 * stats["std"], fmt="o", capsize=4,
                    color="black", label="mean ± std" if x == 0 else None)  # fmt: skip
        ax.scatter(x + 0.25, STUDY_ACCURACY[model], marker="*", s=90, color="tab:red",
                   label="study" if x == 0 else None)  # fmt: skip
    ax.set_xticks([0, 1], ["MLP", "CNN"])
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(f"Across {summary['runs']} runs")
    ax.legend(loc="upper left")
    save_figure(fig, path)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="fmnist summary", description=__doc__.split("\n")[0])
    parser.add_argument("--repo", default=".", help="the DVC repository (default: here)")
    parser.add_argument("--rev", nargs="+", help="baseline commits (default: HEAD)")
    parser.add_argument("--exp", nargs="*", help="experiment names (default: baseline and all)")
    parser.add_argument("--allow-missing", action="store_true",
                        help="summarise the named experiments that are there, listing the others")
    shown_as = parser.add_mutually_exclusive_group()
    shown_as.add_argument("--md", action="store_true", help="markdown instead of a table")
    shown_as.add_argument("--json", action="store_true", help="JSON instead of a table")
    parser.add_argument("--out", help="also write a report: PATH.md, PATH.json (and PATH.png for one group)")
    parser.add_argument("--by-recipe", action="store_true", help="with --out: one row per params set (an ablation)")
    parser.add_argument("--pool-all", action="store_true",
                        help="average every run together even where params differ (said in the title)")
    args = parser.parse_args(argv)

    from dvc.api import exp_show

    rows, missing = collect(exp_show(repo=args.repo, revs=args.rev, force=True), args.exp)
    if missing:
        print(f"fmnist summary: missing or unfinished: {', '.join(missing)}", file=sys.stderr)
        if not args.allow_missing:
            raise SystemExit("fmnist summary: rerun those experiments, or pass --allow-missing")
    if not rows:
        raise SystemExit("fmnist summary: no finished experiments matched")
    keys = param_keys(Path(args.repo) / PARAMS_FILE)
    if args.pool_all:
        pairs = [pairview.from_seeds(f"all {len(rows)} runs", rows, "params differ")]
        title = f"Summary of {len(rows)} runs POOLED ACROSS DIFFERENT PARAMS (--pool-all): mean ± std"
    else:
        pairs = group_rows(rows, keys, Path(args.repo) / RECIPES_DIR)
        title = f"Summary of {len(rows)} runs in {len(pairs)} groups (params other than the seed): mean ± std"
    if args.out:
        write_report(rows, missing, keys, Path(args.out), args.by_recipe, args.pool_all or len(pairs) == 1)
    if args.md:
        print(title + "\n\n" + pairview.markdown(pairs, first="group"), end="")
    elif args.json:
        print(json.dumps({"title": title, "groups": [pairview.as_json(p) for p in pairs]}, indent=2))
    else:
        console = Console()
        console.print(pairview.console_table(pairs, title, "group", console.width))


def write_report(rows: list[dict], missing: list[str], keys: list[str], out: Path, by_params: bool,
                 one_group: bool) -> None:  # fmt: skip
    """reports/NAME.{md,json,png}: one row per params set, or the seeds of one set with a plot."""
    if by_params:
        table = by_recipe(rows, keys)
        write_json(out.with_suffix(".json"), table)
        write_text(out.with_suffix(".md"), recipe_markdown(table))
        return
    if not one_group:
        raise SystemExit("fmnist summary: these runs differ in more than their seed; --by-recipe writes one row "
                         "per params set, --pool-all averages them anyway")  # fmt: skip
    summary = summarise(rows, missing)
    write_json(out.with_suffix(".json"), summary)
    write_text(out.with_suffix(".md"), to_markdown(summary))
    seed_sweep_plot(summary, out.with_suffix(".png"))


if __name__ == "__main__":
    main()
