"""The speedrun table: per recipe its settings, FLOPs per image, seeds, accuracy and
training seconds, against its target; and accuracy against seconds for every run.

Built from experiments named ``<recipe>-seed<N>`` (``fmnist recipe run``), so every row
can be rerun by name. Seconds are the CNN's training seconds (DVCLive's summary). Its
FLOP/s are the training steps' arithmetic (forward and backward, counted by PyTorch) over
those seconds, set against the matmul peak that benchmarks/matmul_peak.py measured on the
machine the run trained on, in the precision it trained in, where that machine was measured.
"""

from __future__ import annotations

import csv
import json
import math
import re
from pathlib import Path

import matplotlib.pyplot as plt

from rich import box
from rich.console import Console
from rich.table import Table

from fmnist.io import atomic_path, write_json, write_text
from fmnist.params import Params
from fmnist.plots import save_figure
from fmnist.tools.expdata import (
    column,
    flatten,
    is_finished,
    name_of,
    same_value,
    shown,
    train_seconds,
)
from fmnist.tools.recipebook import Recipe, override, resolve
from fmnist.tools.summarize import mean_std


PEAKS = Path("benchmarks/results/matmul_peak.json")  # machine caption -> {"fp32": GFLOP/s, "bf16": ...}
FULL_TRAIN = 60_000


def flops_per_image(p: Params) -> int:
    """Forward FLOPs of one image through the recipe's CNN (PyTorch's FlopCounterMode)."""
    from fmnist.cnn_training import spec_of
    from fmnist.networks import build_cnn, forward_flops

    return forward_flops(build_cnn(spec_of(p.cnn), p.cnn.dropout))


def training_flops(model, batch: int = 64) -> float:
    """FLOPs of one image's training step, forward and backward (PyTorch's FlopCounterMode),
    averaged over a CPU batch of ``batch``; the optimiser's update is not counted."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        model(torch.rand(batch, 1, 28, 28)).sum().backward()
    model.zero_grad(set_to_none=True)
    return counter.get_total_flops() / batch


def training_flops_per_run(p: Params) -> float:
    """FLOPs of a recipe's whole CNN training: per image, times images per epoch, times epochs."""
    from fmnist.cnn_training import spec_of
    from fmnist.networks import build_cnn

    images = p.prepare.train_size or FULL_TRAIN
    images -= math.ceil(p.prepare.val_fraction * images)  # what the stratified hold-out leaves
    return training_flops(build_cnn(spec_of(p.cnn), p.cnn.dropout)) * images * p.cnn.epochs


def measured_peak(machine: str, precision: str) -> float | None:
    """The measured matmul peak of that machine in that precision; None where not measured."""
    measured = json.loads(PEAKS.read_text()) if PEAKS.is_file() else {}
    return measured.get(machine, {}).get(precision)


def runs_of(recipe: Recipe, expected: dict, rows: list[dict]) -> list[dict]:
    """Finished experiments named after the recipe, one per seed (the newest if repeated);
    one whose params are not the recipe's (``expected``, dotted keys) is an error, not a row."""
    pattern = re.compile(rf"^{re.escape(recipe.name)}-seed(\d+)$")
    by_seed = {}
    for row in rows:
        match = pattern.match(name_of(row))
        if match and is_finished(row):
            by_seed.setdefault(int(match.group(1)), row)
    for seed, row in by_seed.items():
        wrong = [f"{k}={shown(column(row, k))} (recipe: {shown(v)})" for k, v in expected.items()
                 if k != "seed" and not same_value(column(row, k), v)]  # fmt: skip
        if wrong or not same_value(column(row, "seed"), seed):
            raise SystemExit(f"fmnist recipe table: experiment {name_of(row)} did not run recipe "
                             f"{recipe.name} with seed {seed}: {', '.join(wrong) or 'seed differs'}; "
                             f"remove it (dvc exp remove {name_of(row)}) and run it again")  # fmt: skip
    return [by_seed[s] | {"seed": s} for s in sorted(by_seed)]


def machine_of(row: dict) -> str:
    """The machine a run trained on, as train_cnn recorded it in DVCLive's summary."""
    return column(row, "train_cnn/metrics.json:machine") or "not recorded"


def by_machine(runs: list[dict]) -> list[list[dict]]:
    """The runs in one group per machine (in order of first appearance); seconds and bytes
    follow the CPU, so runs of two machines are never averaged together."""
    groups: dict[str, list[dict]] = {}
    for run in runs:
        groups.setdefault(machine_of(run), []).append(run)
    return list(groups.values()) or [[]]


def tabulate(recipes: list[Recipe], base: dict, rows: list[dict], before: list[dict] = ()) -> list[dict]:
    """One entry per recipe and machine; ``base`` is the committed params.yaml the recipes apply to.
    ``before`` is the table as written last time: experiments stay in the clone that ran them,
    so its rows for a (recipe, machine) without runs here are kept, not blanked."""
    table = []
    for recipe in recipes:
        p = resolve(recipe, base)
        runs = runs_of(recipe, flatten(override(base, recipe.params)), rows)
        fresh = [entry_of(recipe, p, group) for group in by_machine(runs)]
        ran_here = {e["machine"] for e in fresh if e["seeds"]}
        kept = [rejudged(with_rate(e, base), recipe) for e in before if e["recipe"] == recipe.name
                and e.get("seeds") and e.get("machine", "not recorded") not in ran_here]  # fmt: skip
        with_runs = [e for e in fresh if e["seeds"]] + kept
        table += with_runs or fresh  # no runs anywhere yet: the recipe's 'none yet' row
    return table


def rejudged(entry: dict, recipe: Recipe) -> dict:
    """A kept row under the recipe as it is now: judged on today's target if it ran today's
    settings; otherwise not judged, and ``ran_instead`` holds the settings it ran that
    differ (None: a key it did not set), while ``settings`` become the recipe's."""
    ran = entry.get("ran_instead", {})
    ran = {k: v for k, v in {**entry["settings"], **ran}.items() if v is not None}
    differing = {k: ran.get(k) for k in sorted(ran.keys() | recipe.params.keys()) if ran.get(k) != recipe.params.get(k)}
    entry = {k: v for k, v in entry.items() if k not in ("met", "ran_instead")}
    entry |= {"settings": recipe.params, "target": recipe.target}
    if differing:
        return entry | {"ran_instead": differing}
    return entry | verdict(entry, recipe.target)


def verdict(entry: dict, target: dict | None) -> dict:
    """Met when the mean accuracy reaches the target and the slowest seed stays within its time."""
    if not target:
        return {}
    return {"met": entry["accuracy_mean"] >= target["accuracy"] and entry["seconds_max"] <= target["seconds"]}


def with_rate(entry: dict, base: dict) -> dict:
    """A kept row, with its FLOP/s worked out from the settings it ran (if written before they were)."""
    if "train_gflops" in entry:
        return entry
    p = resolve(Recipe(entry["recipe"], entry["description"], entry["settings"], entry["target"]), base)
    precision = "" if p.cnn.precision == "auto" else p.cnn.precision
    entry = {"machine": "not recorded"} | entry
    return entry | rate(entry, training_flops_per_run(p), precision)


def precision_of(row: dict, p: Params) -> str:
    """The precision a run trained in: as train_cnn recorded it, else its params' if not auto."""
    recorded = column(row, "train_cnn/metrics.json:precision")
    return recorded or ("" if p.cnn.precision == "auto" else p.cnn.precision)


def rate(entry: dict, flops: float, precision: str) -> dict:
    """Training GFLOP/s over the mean seconds, and its share of the machine's peak if known."""
    gflops = flops / entry["seconds_mean"] / 1e9
    peak = measured_peak(entry["machine"], precision) if precision else None
    return {"precision": precision or "not recorded", "train_gflops": gflops, "peak_gflops": peak,
            "share_of_peak": gflops / peak if peak else None}  # fmt: skip


def entry_of(recipe: Recipe, p: Params, runs: list[dict]) -> dict:
    """A recipe's row for the runs of one machine."""
    accuracy = [100 * column(r, "cnn.accuracy") for r in runs]
    seconds = [train_seconds(r, "cnn") for r in runs]
    entry = {"recipe": recipe.name, "description": recipe.description, "settings": recipe.params,
             "target": recipe.target, "forward_mflop_per_image": round(flops_per_image(p) / 1e6, 2),
             "machine": machine_of(runs[0]) if runs else "", "seeds": [r["seed"] for r in runs],
             "accuracy": accuracy, "train_seconds": seconds}  # fmt: skip
    if runs:
        entry["accuracy_mean"], entry["accuracy_std"] = mean_std(accuracy)
        entry["seconds_mean"], entry["seconds_max"] = mean_std(seconds)[0], max(seconds)
        entry |= rate(entry, training_flops_per_run(p), precision_of(runs[0], p))
        entry |= verdict(entry, recipe.target)
    return entry


def throughput(e: dict) -> str:
    """'41 (25% of bf16's 164)'; the share only where the machine's peak was measured."""
    if "train_gflops" not in e:
        return ""
    if e["share_of_peak"] is None:
        return f"{e['train_gflops']:.0f} ({e['precision']}; peak not measured)"
    return f"{e['train_gflops']:.0f} ({e['share_of_peak']:.0%} of {e['precision']}'s {e['peak_gflops']:.0f})"


def judgement(e: dict) -> str:
    """'yes', 'no: ...' saying by how much each missed part misses, 'not judged', or ''."""
    if "ran_instead" in e:
        return "not judged"
    if "met" not in e:
        return ""
    if e["met"]:
        return "yes"
    t, misses = e["target"], []
    if e["accuracy_mean"] < t["accuracy"]:
        misses.append(f"{t['accuracy'] - e['accuracy_mean']:.2f} points short")
    if e["seconds_max"] > t["seconds"]:
        misses.append(f"{e['seconds_max'] - t['seconds']:.1f} s over")
    return "no: " + ", ".join(misses)


def machine_label(caption: str) -> str:
    """The CPU's name and whether it has AMX, from a machine caption: what a terminal row has room for."""
    name = re.split(r" \(|,", caption, maxsplit=1)[0]
    if "no AMX" in caption and "AMX" not in name:
        return f"{name}, no AMX"
    return name


def console_table(table: list[dict]) -> Table:
    """The table for a terminal: recipe, machine, accuracy, seconds, verdict; the rest is in the files."""
    out = Table(box=box.SIMPLE_HEAD, padding=(0, 1), show_edge=False)
    for name, justify in [("recipe", "left"), ("machine", "left"), ("target", "left"),
                          ("test acc %", "right"), ("train s\nmean, max", "right"), ("met", "left")]:  # fmt: skip
        out.add_column(name, justify=justify, no_wrap=name != "met")
    for e in table:
        t = e["target"]
        target = f"≥ {t['accuracy']:.1f} %\n≤ {t['seconds']} s" if t else ""
        if not e["seeds"]:
            out.add_row(e["recipe"], "none yet", target, "", "", "")
            continue
        spread = f"\n± {e['accuracy_std']:.2f}" if len(e["seeds"]) > 1 else "\n(one seed)"
        out.add_row(e["recipe"], machine_label(e.get("machine", "not recorded")), target,
                    f"{e['accuracy_mean']:.2f}{spread}", f"{e['seconds_mean']:.0f}, {e['seconds_max']:.0f}",
                    judgement(e).replace(", ", ",\n"))  # fmt: skip
    return out


def markdown(table: list[dict]) -> str:
    lines = ["| recipe | machine | target | forward MFLOP / image | seeds | test accuracy % (mean ± std) | "
             "train s (mean, max) | training GFLOP/s (share of peak) | met |",
             "|---|---|---|---:|---|---:|---:|---:|---|"]  # fmt: skip
    for e in table:
        target = f"≥ {e['target']['accuracy']:.1f} % in ≤ {e['target']['seconds']} s" if e["target"] else ""
        if not e["seeds"]:
            lines.append(f"| {e['recipe']} | | {target} | {e['forward_mflop_per_image']:.1f} | none yet | | | | |")
            continue
        met = judgement(e).replace("no:", "**no**:")
        if "ran_instead" in e:
            met += ": ran " + ", ".join(f"`{k}={'unset' if v is None else shown(v)}`"
                                        for k, v in e["ran_instead"].items())  # fmt: skip
        spread = f" ± {e['accuracy_std']:.2f}" if len(e["seeds"]) > 1 else " (one seed)"
        lines.append(f"| {e['recipe']} | {e.get('machine', 'not recorded')} | {target} | {e['forward_mflop_per_image']:.1f} | "
                     f"{', '.join(map(str, e['seeds']))} | {e['accuracy_mean']:.2f}{spread} | "
                     f"{e['seconds_mean']:.0f}, {e['seconds_max']:.0f} | {throughput(e)} | {met} |")  # fmt: skip
    lines += ["", "Training GFLOP/s: forward and backward FLOPs per image (PyTorch's count) times images "
              "times epochs, over the mean training seconds; the share is of the matmul peak "
              "`python benchmarks/matmul_peak.py` measured on that machine in that precision.",
              "", "Settings (on top of params.yaml; `fmnist recipe show NAME`):", ""]  # fmt: skip
    for e in {e["recipe"]: e for e in table}.values():
        settings = ", ".join(f"`{k}={shown(v)}`" for k, v in e["settings"].items()) or "the defaults"
        lines.append(f"- **{e['recipe']}**: {settings}")
    return "\n".join(lines) + "\n"


def plot(table: list[dict], path: Path) -> None:
    """Test accuracy against training seconds, every run, each recipe's target as a corner."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for e in table:
        dots = ax.scatter(e["train_seconds"], e["accuracy"], s=18, label=e["recipe"],
                          marker="*" if e["recipe"] == "study" else "o")  # fmt: skip
        if e["target"]:
            t = e["target"]
            ax.plot([0, t["seconds"], t["seconds"]], [t["accuracy"]] * 2 + [100], linestyle=":",
                    color=dots.get_facecolor()[0], linewidth=1)  # fmt: skip
    ax.set_xscale("log")
    ax.set_xlabel("CNN training seconds (2 CPU cores, log scale)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_ylim(90, 96)
    ax.set_title("Time to accuracy: every run; dotted, each recipe's target")
    ax.legend(loc="lower right", fontsize=8)
    save_figure(fig, path)


def written(out: str) -> list[dict]:
    """The table as ``out``.json holds it from last time; none if there is no such file."""
    path = Path(out).with_suffix(".json")
    return json.loads(path.read_text()) if path.is_file() else []


def write(table: list[dict], out: str) -> None:
    out = Path(out)
    write_json(out.with_suffix(".json"), table)
    write_text(out.with_suffix(".md"), markdown(table))
    with atomic_path(out.with_suffix(".csv")) as tmp, open(tmp, "w", newline="") as fh:
        writer = csv.writer(fh)  # one row per run: `dvc plots show` draws it (dvc.yaml)
        writer.writerow(["recipe", "seed", "train_seconds", "accuracy"])
        for e in table:
            for seed, s, a in zip(e["seeds"], e["train_seconds"], e["accuracy"], strict=True):
                writer.writerow([e["recipe"], seed, round(s, 1), round(a, 2)])
    plot(table, out.with_suffix(".png"))
    console = Console()  # the terminal's width; 80 columns (or $COLUMNS) when piped
    console.print(console_table(table))
    console.print(f"Settings, FLOP/s and why a row is not judged: {out.with_suffix('.md')}")
