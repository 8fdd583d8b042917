"""`fmnist summary`: mean ± std over seeds, never over different params or machines.

    fmnist summary                        # HEAD's experiments, one row per params set
    fmnist summary --record               # every run in reports/runs.jsonl instead
    fmnist summary --exp a b --out reports/seeds   # named runs (all must be there); .md, .json, .png
    fmnist summary --steps --out reports/ablation  # groups in order, each labelled by what it adds

Runs are grouped by what they ran (recipe and overrides), split and CPU family; each group
says its n and seeds, and a group of one keeps that run's intervals, never "± 0".
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rich.console import Console

from fmnist import formats
from fmnist.io import write_json, write_text
from fmnist.params import shown
from fmnist.runs import RECORD, Run, experiment_runs, read_record
from fmnist.stats import spread, spread_of
from fmnist.tools import views

NUMBERS = {"mlp_accuracy": lambda r: r.mlp.accuracy, "cnn_accuracy": lambda r: r.cnn.accuracy,
           "gap": lambda r: r.gap.accuracy if r.gap else None,
           "mlp_seconds": lambda r: r.mlp.seconds, "cnn_seconds": lambda r: r.cnn.seconds}  # fmt: skip


def groups(runs: list[Run]) -> dict[tuple, list[Run]]:
    """Runs that differ in their seed only, in the order they first appear: (label, settings
    digest, split, family) -> runs."""
    grouped: dict[tuple, list[Run]] = {}
    for run in runs:
        grouped.setdefault((run.label, run.digest, run.split, run.family), []).append(run)
    return grouped


def labelled(grouped: dict[tuple, list[Run]]) -> list[tuple[str, list[Run]]]:
    """Each group's label; a recipe's older settings say their digest, a validation run its split."""
    versions = {label: {k[1] for k in grouped if k[0] == label} for label, *_ in grouped}
    return [(label + (f" [{digest}]" if len(versions[label]) > 1 else "") + ("; val" if split == "val" else ""), m)
            for (label, digest, split, _), m in grouped.items()]  # fmt: skip


def describe(members: list[Run]) -> str:
    n = "one seed" if len(members) == 1 else f"{len(members)} seeds"
    return f"{n}: {formats.seeds([r.seed for r in members])}; {members[0].family or 'machine not recorded'}"


def steps(grouped: dict[tuple, list[Run]]) -> list[tuple[str, list[Run]]]:
    """An ablation: groups by how far they are from the first (fewest changes first), each
    labelled by what it adds to the one before."""
    changes = {key: {**m[0].settings, **m[0].overrides} for key, m in grouped.items()}
    first = next(iter(changes.values()))
    order = sorted(grouped, key=lambda k: len({*changes[k]} ^ {*first}))
    out, before = [], first
    for key in order:
        added = {k: v for k, v in changes[key].items() if k not in before or shown(before[k]) != shown(v)}
        out.append((", ".join(f"{k}={shown(v)}" for k, v in added.items()) or "baseline", grouped[key]))
        before = changes[key]
    return out


def as_json(label: str, members: list[Run]) -> dict:
    numbers = {name: spread(get(r) for r in members) for name, get in NUMBERS.items()}
    return {"group": label, "seeds": sorted(r.seed for r in members), "family": members[0].family,
            "split": members[0].split, **{k: None if s is None else vars(s) for k, s in numbers.items()},
            "runs": [r.name for r in members]}  # fmt: skip


def seed_plot(members: list[Run], path: Path) -> None:
    """Every run's test accuracy, each model's mean ± std, and the study's one figure."""
    from fmnist.plots import plt, save_figure
    from fmnist.study import STUDY_ACCURACY

    fig, ax = plt.subplots(figsize=(5.5, 4))
    for x, model in enumerate(("mlp", "cnn")):
        values = [100 * a for r in members if (a := getattr(r, model).accuracy) is not None]
        s = spread_of(values)
        ax.scatter([x - 0.1] * len(values), values, s=14, alpha=0.7)
        ax.errorbar(x + 0.1, s.mean, yerr=s.std or 0, fmt="o", capsize=4, color="black",
                    label="mean ± std" if x == 0 else None)  # fmt: skip
        study = STUDY_ACCURACY[model]
        ax.scatter(x + 0.25, study, marker="*", s=90, color="tab:red", label="study" if x == 0 else None)
    ax.set(xticks=[0, 1], xticklabels=["MLP", "CNN"], ylabel="test accuracy (%)",
           title=f"{len(members)} seeds, {members[0].family or 'one machine'}")  # fmt: skip
    ax.legend(loc="upper left")
    save_figure(fig, path)


def write_report(rows: list[tuple[str, list[Run]]], out: Path, missing: list[str] | None = None) -> None:
    """PATH.json (every group, and the named runs that were missing), PATH.md, and PATH.png for one group."""
    write_json(out.with_suffix(".json"), {"groups": [as_json(label, m) for label, m in rows], "missing": missing or []})
    write_text(
        out.with_suffix(".md"), views.markdown([views.group_row(m, label, describe(m)) for label, m in rows], "group")
    )
    if len(rows) == 1:
        seed_plot(rows[0][1], out.with_suffix(".png"))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="fmnist summary", description=__doc__.split("\n")[0])
    parser.add_argument("--repo", default=".", help="the DVC repository (default: here)")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--rev", nargs="+", help="baseline commits (default: HEAD)")
    source.add_argument("--record", action="store_true", help=f"the runs in {RECORD} instead of the experiments")
    parser.add_argument("--exp", nargs="*", help="run names (default: every experiment)")
    parser.add_argument("--allow-missing", action="store_true", help="summarise the named runs that are there")
    shown_as = parser.add_mutually_exclusive_group()
    shown_as.add_argument("--md", action="store_true", help="markdown instead of a table")
    shown_as.add_argument("--json", action="store_true", help="JSON instead of a table")
    parser.add_argument("--out", help="also write PATH.md and PATH.json (and PATH.png for one group)")
    parser.add_argument("--steps", action="store_true", help="order groups as an ablation: each adds to the last")
    parser.add_argument("--pool-all", action="store_true", help="average every run together (said in the title)")
    args = parser.parse_args(argv)
    repo = Path(args.repo)
    if args.record:
        runs = read_record(repo / RECORD)[0]
    else:
        runs = [r for r in experiment_runs(args.rev, repo) if r.name != "workspace"]
    missing: list[str] = []
    if args.exp is not None:
        missing = [n for n in args.exp if n not in {r.name for r in runs}]
        runs = [r for r in runs if r.name in args.exp]
        if missing:
            print(f"fmnist summary: missing or unfinished: {', '.join(missing)}", file=sys.stderr)
            if not args.allow_missing:
                raise SystemExit("fmnist summary: rerun those experiments, or pass --allow-missing")
    if not runs:
        raise SystemExit("fmnist summary: no finished runs matched")
    if args.pool_all:
        rows = [(f"all {len(runs)} runs, different params", runs)]
        title = f"{len(runs)} runs POOLED ACROSS DIFFERENT PARAMS (--pool-all): mean ± std"
    else:
        rows = steps(groups(runs)) if args.steps else labelled(groups(runs))
        title = f"{len(runs)} runs in {len(rows)} groups (the same params, split and CPU family): mean ± std"
    if args.out:
        write_report(rows, Path(args.out), missing)
    table = [views.group_row(members, label, describe(members)) for label, members in rows]
    if args.md:
        print(title + "\n\n" + views.markdown(table, "group"), end="")
    elif args.json:
        print(json.dumps({"title": title, "groups": [as_json(label, m) for label, m in rows]}, indent=2))
    else:
        console = Console()
        console.print(views.console_table(table, title, "group", console.width))


if __name__ == "__main__":
    main()
