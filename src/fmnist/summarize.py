"""Summarise a set of DVC experiments (a seed sweep, say): mean ± std per metric per model.

    fmnist-summary                       # HEAD and all its experiments
    fmnist-summary --rev 1a2b3c4         # another baseline commit and its experiments
    fmnist-summary --rev 1a2b3c4 5d6e7f8 # several commits and their experiments
    fmnist-summary --exp exp-a exp-b     # chosen experiments
    fmnist-summary --out reports/seeds   # writes seeds.md, seeds.json and seeds.png
    fmnist-summary --by-recipe --out reports/ablation  # one row per params set, seeds pooled

Reads what ``dvc exp show`` reads (through ``dvc.api.exp_show``), so experiments need not
be applied to the workspace. The study's single-run figures stand beside the means.
"""

from __future__ import annotations

import argparse
import math
import statistics
from pathlib import Path

import yaml

from fmnist.io import write_json, write_text
from fmnist.params import PARAMS_FILE
from fmnist.plots import STUDY_ACCURACY, seed_sweep_plot

# (label, metrics key suffix, scale for display)
METRICS = (
    ("accuracy (%)", "accuracy", 100),
    ("macro F1", "macro_f1", 1),
    ("NLL", "nll", 1),
    ("ECE", "ece", 1),
    ("train seconds", "train_seconds", 1),
)


def _value(row: dict, key: str):
    """A column of an exp_show row, whichever metrics file prefix DVC gave it."""
    for column, value in row.items():
        if column == key or column.endswith(":" + key):
            return value
    return None


def collect(rows: list[dict], names: list[str] | None) -> list[dict]:
    """Rows of finished runs: the chosen experiment names, else everything but the workspace."""
    picked = []
    for row in rows:
        name = row.get("Experiment") or row.get("rev")
        if row.get("rev") == "workspace" or (names and name not in names):
            continue
        if row.get("State") not in (None, "Success") or _value(row, "mlp.accuracy") is None:
            continue  # queued, running (its metrics are still the baseline's) or failed
        picked.append(row)
    return picked


def mean_std(values: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value)."""
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def summarise(rows: list[dict]) -> dict:
    seeds = {_value(r, "seed") for r in rows}
    seeds = sorted(int(s) if isinstance(s, float) and s.is_integer() else s for s in seeds)
    summary = {"runs": len(rows), "seeds": seeds, "models": {}}
    for model in ("mlp", "cnn"):
        stats = {}
        for _, key, _ in METRICS:
            values = [_value(r, f"{model}.{key}") for r in rows]
            values = [float(v) for v in values if isinstance(v, int | float) and math.isfinite(v)]
            if values:
                mean, std = mean_std(values)
                stats[key] = {"mean": mean, "std": std, "values": values}
        summary["models"][model] = stats
    gaps = [_value(r, "cnn_minus_mlp.accuracy") for r in rows]
    mean, std = mean_std([float(g) for g in gaps])
    summary["cnn_minus_mlp_accuracy"] = {"mean": mean, "std": std}
    return summary


def to_markdown(summary: dict) -> str:
    lines = [
        f"Summary of {summary['runs']} runs (seeds {', '.join(map(str, summary['seeds']))}): "
        "mean ± sample standard deviation.",
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
              f"(study: {STUDY_ACCURACY['cnn'] - STUDY_ACCURACY['mlp']:+.2f})."]  # fmt: skip
    return "\n".join(lines) + "\n"


def param_keys(path: Path = PARAMS_FILE) -> list[str]:
    """Dotted names of every leaf in params.yaml, as ``dvc exp show`` names its columns."""

    def walk(node, prefix: str):
        if isinstance(node, dict):
            for key, value in node.items():
                yield from walk(value, f"{prefix}{key}.")
        else:
            yield prefix.rstrip(".")

    return list(walk(yaml.safe_load(Path(path).read_text()), ""))


def _shown(value) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def by_recipe(rows: list[dict], keys: list[str]) -> list[dict]:
    """Group runs by their params other than the seed; groups ordered by how far they are
    from the first (fewest changed params first), each labelled by what it adds to the one
    before it: an ablation that adds one change at a time reads top to bottom."""
    varying = [k for k in keys if k != "seed" and len({repr(_value(r, k)) for r in rows}) > 1]
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault(tuple(repr(_value(row, k)) for k in varying), []).append(row)
    base = next(iter(groups))
    ordered = sorted(groups, key=lambda g: sum(a != b for a, b in zip(g, base, strict=True)))
    table, previous = [], base
    for group in ordered:
        members = groups[group]
        first = members[0]
        change = [
            f"{k}={_shown(_value(first, k))}"
            for k, a, b in zip(varying, group, previous, strict=True)
            if a != b
        ]
        entry = {"change": ", ".join(change) or "baseline", "runs": len(members),
                 "seeds": sorted(_shown(_value(r, "seed")) for r in members)}  # fmt: skip
        for metric in ("cnn.accuracy", "mlp.accuracy", "cnn.train_seconds"):
            values = [float(v) for r in members if isinstance(v := _value(r, metric), int | float)]
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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="fmnist-summary", description=__doc__.split("\n")[0])
    parser.add_argument("--repo", default=".", help="the DVC repository (default: here)")
    parser.add_argument("--rev", nargs="+", help="baseline commits (default: HEAD)")
    parser.add_argument("--exp", nargs="*", help="experiment names (default: baseline and all)")
    parser.add_argument("--out", default="reports/summary", help="output path without suffix")
    parser.add_argument(
        "--by-recipe", action="store_true", help="one row per params set (an ablation table)"
    )
    args = parser.parse_args(argv)

    from dvc.api import exp_show

    rows = collect(exp_show(repo=args.repo, revs=args.rev, force=True), args.exp)
    if not rows:
        raise SystemExit("fmnist-summary: no finished experiments matched")
    out = Path(args.out)
    if args.by_recipe:
        table = by_recipe(rows, param_keys(Path(args.repo) / PARAMS_FILE))
        write_json(out.with_suffix(".json"), table)
        write_text(out.with_suffix(".md"), markdown := recipe_markdown(table))
        print(markdown, end="")
        return
    summary = summarise(rows)
    write_json(out.with_suffix(".json"), summary)
    markdown = to_markdown(summary)
    write_text(out.with_suffix(".md"), markdown)
    seed_sweep_plot(summary, out.with_suffix(".png"))
    print(markdown, end="")


if __name__ == "__main__":
    main()
