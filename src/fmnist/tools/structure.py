"""`fmnist structure`: the page that asks why the CNN wins (reports/structure.md).

    fmnist recipe run permuted --seeds 0 1 2 --queue
    fmnist recipe run study --seeds 0 1 2 -S prepare.train_size=1000,3000,10000,30000,60000 --queue
    dvc queue start -j 1                      # then, when the queue is done:
    fmnist structure collect                  # the experiments -> reports/structure.json
    fmnist structure render                   # reports/structure.md, its CSVs and plots

`collect` reads the experiments by name (run or pulled here) and keeps every number the
page needs, per run, in reports/structure.json; `render` writes the page from that file
and from the committed robustness stage (metrics/robustness.json, plots/robustness.csv),
so any clone can regenerate it and a test checks that the committed page is what they say.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import statistics
import subprocess
from pathlib import Path

import numpy as np

from fmnist.classes import CLASS_NAMES
from fmnist.io import atomic_path, write_json, write_text
from fmnist.machine import caption, describe
from fmnist.metrics import pair_headline
from fmnist.params import PARAMS_FILE, read_yaml
from fmnist.tools.expdata import column, is_finished, name_of

REPORT = Path("reports/structure")  # .json, .md, _sizes.csv, _permuted.csv, _sizes.png, _permuted.png
SEEDS = (0, 1, 2)
SIZES = (1000, 3000, 10000, 30000, 60000)
MODELS = ("mlp", "cnn")
BOOTSTRAP = 2000


def original(size: int, seed: int) -> str:
    return f"study-train_size{size}-seed{seed}"


def permuted(seed: int) -> str:
    return f"permuted-seed{seed}"


# ----------------------------------------------------------------------------- collect


def predictions(rev: str) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(labels, model -> predicted labels) from an experiment's plots/predictions.csv."""
    shown = subprocess.run(["git", "show", f"{rev}:plots/predictions.csv"], capture_output=True, text=True, check=True)
    rows = list(csv.DictReader(io.StringIO(shown.stdout)))
    index = {name: i for i, name in enumerate(CLASS_NAMES)}
    as_array = lambda key: np.array([index[r[key]] for r in rows])  # noqa: E731
    return as_array("actual"), {m: as_array(m) for m in MODELS}


def run_record(row: dict) -> dict:
    record = {"experiment": name_of(row), "commit": row["rev"]}
    for m in MODELS:
        record[m] = {k: column(row, f"{m}.{k}") for k in ("accuracy", "accuracy_low", "accuracy_high")}
        record[m]["train_seconds"] = column(row, f"train_{m}/metrics.json:train_seconds")
    record["cnn_minus_mlp"] = {k: column(row, f"cnn_minus_mlp.{k}") for k in ("accuracy", "mcnemar_p")}
    return record


def permutation_change(before: dict, after: dict, seed: int) -> dict:
    """Per model: permuted minus original on the same test images, with its paired
    bootstrap interval and McNemar's p."""
    y, was = predictions(before["commit"])
    y_after, now = predictions(after["commit"])
    assert np.array_equal(y, y_after), "the two runs scored different test images"
    return {m: pair_headline(y, was[m], now[m], bootstrap_samples=BOOTSTRAP, seed=seed) for m in MODELS}


def collect(rows: list[dict]) -> dict:
    """Every number of the page, per run, from exp_show rows; refuses to go on without one."""
    runs = {name_of(r): run_record(r) for r in rows if is_finished(r) and r.get("rev") != "workspace"}
    wanted = [original(n, s) for n in SIZES for s in SEEDS] + [permuted(s) for s in SEEDS]
    missing = [n for n in wanted if n not in runs]
    if missing:
        raise SystemExit(f"fmnist structure: not finished here: {', '.join(missing)} (run or `dvc exp pull` them)")
    pixels = []
    for seed in SEEDS:
        before, after = runs[original(SIZES[-1], seed)], runs[permuted(seed)]
        pixels.append({"seed": seed, "original": before, "permuted": after,
                       "change": permutation_change(before, after, seed)})  # fmt: skip
    sizes = [{"train_images": n, "seed": s, **runs[original(n, s)]} for n in SIZES for s in SEEDS]
    return {"machine": caption(describe()), "permuted": pixels, "sizes": sizes}


# ----------------------------------------------------------------------------- render


def pct(x: float) -> str:
    return f"{100 * x:.2f}"


def points(x: float) -> str:
    return f"{100 * x:+.2f}"


def p_value(p: float) -> str:
    return f"{p:.1e}" if p < 1e-3 else f"{p:.3f}"


def spread(values: list[float]) -> str:
    """Mean ± sample standard deviation, in %."""
    return f"{100 * statistics.fmean(values):.2f} ± {100 * statistics.stdev(values):.2f}"


def permutation_table(runs: list[dict]) -> list[str]:
    lines = ["| model | original pixels (%) | permuted pixels (%) | change per seed (points) [95 % CI] | McNemar p per seed |",
             "|---|---:|---:|---|---|"]  # fmt: skip
    for m in MODELS:
        before = [r["original"][m]["accuracy"] for r in runs]
        after = [r["permuted"][m]["accuracy"] for r in runs]
        changes = "; ".join(f"{points(r['change'][m]['accuracy'])} [{points(r['change'][m]['accuracy_low'])}, "
                            f"{points(r['change'][m]['accuracy_high'])}]" for r in runs)  # fmt: skip
        ps = "; ".join(p_value(r["change"][m]["mcnemar_p"]) for r in runs)
        lines.append(f"| {m.upper()} | {spread(before)} | {spread(after)} | {changes} | {ps} |")
    return lines


def permutation_text(runs: list[dict]) -> str:
    drop = {m: statistics.fmean(r["change"][m]["accuracy"] for r in runs) for m in MODELS}
    gap = {k: statistics.fmean(r[k]["cnn"]["accuracy"] - r[k]["mlp"]["accuracy"] for r in runs)
           for k in ("original", "permuted")}  # fmt: skip
    mlp_ps = [r["change"]["mlp"]["mcnemar_p"] for r in runs]
    cnn_ps = [r["change"]["cnn"]["mcnemar_p"] for r in runs]
    mlp_word = "no seed's change is significant at 5 %" if min(mlp_ps) >= 0.05 else \
        f"{sum(p < 0.05 for p in mlp_ps)} of {len(runs)} seeds change significantly at 5 %"
    verdict = "the CNN's lead is gone" if gap["permuted"] <= 0 else "the CNN keeps part of its lead"
    return (f"Shuffling the pixels in one fixed order changes the MLP by {points(drop['mlp'])} points on average "
            f"({mlp_word}; McNemar p {', '.join(map(p_value, mlp_ps))}): a fully connected layer sees the same "
            f"numbers in another order, and the fit differs only through its starting point. The CNN loses "
            f"{points(-drop['cnn'])[1:]} points (p {', '.join(map(p_value, cnn_ps))}): its 5x5 filters now read "
            f"unrelated pixels. Permuted, CNN minus MLP is {points(gap['permuted'])} points, against "
            f"{points(gap['original'])} on the original images: {verdict}. Spatial structure is what the CNN's "
            f"advantage is made of.")  # fmt: skip


def size_rows(runs: list[dict]) -> list[dict]:
    rows = []
    for n in sorted({r["train_images"] for r in runs}):
        at = [r for r in runs if r["train_images"] == n]
        gaps = [r["cnn"]["accuracy"] - r["mlp"]["accuracy"] for r in at]
        rows.append({"train_images": n, "mlp": [r["mlp"]["accuracy"] for r in at],
                     "cnn": [r["cnn"]["accuracy"] for r in at], "gap": gaps,
                     "p": [r["cnn_minus_mlp"]["mcnemar_p"] for r in at]})  # fmt: skip
    return rows


def sizes_table(runs: list[dict]) -> list[str]:
    lines = ["| training images | MLP (%) | CNN (%) | CNN − MLP (points) [seeds' range] | McNemar p per seed |",
             "|---:|---:|---:|---|---|"]  # fmt: skip
    for row in size_rows(runs):
        gap = f"{points(statistics.fmean(row['gap']))} [{points(min(row['gap']))}, {points(max(row['gap']))}]"
        lines.append(f"| {row['train_images']:,} | {spread(row['mlp'])} | {spread(row['cnn'])} | {gap} | "
                     f"{'; '.join(map(p_value, row['p']))} |")  # fmt: skip
    return lines


def sizes_text(runs: list[dict]) -> str:
    rows = size_rows(runs)
    small, full = rows[0], rows[-1]
    gap = {r["train_images"]: statistics.fmean(r["gap"]) for r in rows}
    largest = max(gap, key=gap.get)
    trend = "grows as data shrinks" if gap[small["train_images"]] > gap[full["train_images"]] else \
        "does not grow as data shrinks"
    return (f"With {small['train_images']:,} training images the CNN leads by {points(gap[small['train_images']])} "
            f"points, with all {full['train_images']:,} by {points(gap[full['train_images']])}; the lead is "
            f"largest at {largest:,} images ({points(gap[largest])}). So the lead {trend}: the convolution's prior "
            f"(nearby pixels belong together, the same pattern anywhere) is worth most when there are few "
            f"examples to learn it from. Each size is the first N training images, the same for every seed; the "
            f"seeds vary initialisation and batch order only.")  # fmt: skip


def robustness_rows(csv_path: Path) -> list[dict]:
    with open(csv_path, newline="") as fh:
        return [{**r, "severity": int(r["severity"]), "accuracy": float(r["accuracy"])} for r in csv.DictReader(fh)]


def robustness_table(rows: list[dict]) -> list[str]:
    lines = ["| transformation | severities | MLP (%) | CNN (%) | CNN − MLP (points) | MLP lost | CNN lost |",
             "|---|---|---:|---:|---:|---:|---:|"]  # fmt: skip
    clean = {m: next(r["accuracy"] for r in rows if r["model"] == m and r["severity"] == 0) for m in MODELS}
    lines.append(f"| none (clean) | | {clean['mlp']:.2f} | {clean['cnn']:.2f} | {clean['cnn'] - clean['mlp']:+.2f} | | |")
    for name in dict.fromkeys(r["transform"] for r in rows):
        hit = [r for r in rows if r["transform"] == name and r["severity"] > 0]
        mean = {m: statistics.fmean(r["accuracy"] for r in hit if r["model"] == m) for m in MODELS}
        amounts = ", ".join(dict.fromkeys(f"{float(r['amount']):g}" for r in hit))
        lines.append(f"| {name.replace('_', ' ')} | {amounts} {hit[0]['unit']} | {mean['mlp']:.2f} | {mean['cnn']:.2f} | "
                     f"{mean['cnn'] - mean['mlp']:+.2f} | {mean['mlp'] - clean['mlp']:.2f} | {mean['cnn'] - clean['cnn']:.2f} |")  # fmt: skip
    return lines


def robustness_text(summary: dict, rows: list[dict]) -> str:
    images = len({r["transform"] for r in rows})
    shift = summary["cnn"]["translated_accuracy"] - summary["mlp"]["translated_accuracy"]
    every = summary["cnn"]["corrupted_accuracy"] - summary["mlp"]["corrupted_accuracy"]
    by_name = {}
    for name in dict.fromkeys(r["transform"] for r in rows):
        hit = [r for r in rows if r["transform"] == name and r["severity"] > 0]
        by_name[name] = statistics.fmean(r["accuracy"] for r in hit if r["model"] == "cnn") - \
            statistics.fmean(r["accuracy"] for r in hit if r["model"] == "mlp")
    best, worst = max(by_name, key=by_name.get), min(by_name, key=by_name.get)
    return (f"The committed models on {images} kinds of corrupted test images: averaged over the translations by "
            f"1-4 pixels the CNN leads by {points(shift)} points, over every corrupted setting by {points(every)}. "
            f"Its lead is largest under {best.replace('_', ' ')} ({by_name[best]:+.2f}) and smallest under "
            f"{worst.replace('_', ' ')} ({by_name[worst]:+.2f}). Neither model saw a moved or corrupted image in "
            f"training; these are the inductive biases alone, measured once on fixed, seeded corruptions.")  # fmt: skip


def headline(data: dict, summary: dict) -> list[str]:
    """Three lines for the front page."""
    runs, rows = data["permuted"], size_rows(data["sizes"])
    gap = {k: statistics.fmean(r[k]["cnn"]["accuracy"] - r[k]["mlp"]["accuracy"] for r in runs)
           for k in ("original", "permuted")}  # fmt: skip
    drop = {m: statistics.fmean(r["change"][m]["accuracy"] for r in runs) for m in MODELS}
    small, full = rows[0], rows[-1]
    shift = summary["cnn"]["translated_accuracy"] - summary["mlp"]["translated_accuracy"]
    return [
        f"- **Permuted pixels** (3 seeds): the MLP moves {points(drop['mlp'])} points, the CNN {points(drop['cnn'])}; "
        f"CNN − MLP goes from {points(gap['original'])} to {points(gap['permuted'])}.",
        f"- **Less data**: CNN − MLP is {points(statistics.fmean(small['gap']))} points with "
        f"{small['train_images']:,} training images, {points(statistics.fmean(full['gap']))} with {full['train_images']:,}.",
        f"- **Moved garments**: shifted by 1-4 pixels, the CNN leads by {points(shift)} points "
        f"({pct(summary['cnn']['translated_accuracy'])} % against {pct(summary['mlp']['translated_accuracy'])} %).",
    ]  # fmt: skip


def page(data: dict, summary: dict, rows: list[dict], images: int) -> str:
    out = ["# Why structure wins", "",
           "<!-- Generated by `fmnist structure render` from reports/structure.json, metrics/robustness.json "
           "and plots/robustness.csv; edit those, not this. -->", "",
           "The study says the MLP loses because flattening throws away the image's 2-D layout, and the CNN wins "
           "because it keeps it. Three experiments test that claim instead of assuming it. Both models are the "
           "study's recipe throughout; the test set is read once per setting.", "",
           *headline(data, summary), "",
           f"Trainings: {data['machine']}.", "",
           "## 1. Permuted pixels: remove the layout, keep the information", "",
           "`prepare.permute_pixels: true` moves the 784 pixels of every image (train and test alike) to one "
           "fixed order drawn from the seed. Each seed is a different permutation and a different initialisation; "
           "each is compared with the same seed on the original pixels, image by image.", "",
           *permutation_table(data["permuted"]), "",
           permutation_text(data["permuted"]), "",
           "![Permuted pixels](structure_permuted.png)", "",
           "Rerun: `fmnist recipe run permuted --seeds 0 1 2` (and the originals below).", "",
           "## 2. Sample efficiency: the prior is worth most when data is scarce", "",
           *sizes_table(data["sizes"]), "",
           sizes_text(data["sizes"]), "",
           "![Accuracy against training size](structure_sizes.png)", "",
           "Rerun: `fmnist recipe run study --seeds 0 1 2 -S prepare.train_size=1000,3000,10000,30000,60000`.", "",
           "## 3. Robustness: corrupted and moved test images", "",
           "The `robustness` stage of `dvc repro` (on by default) scores the committed models on the first "
           f"{images:,} test images under seeded transformations (`src/fmnist/corruptions.py`); "
           "each row averages its severities.", "",
           *robustness_table(rows), "",
           robustness_text(summary, rows), "",
           "![Robustness curves](../plots/robustness.png)", "",
           "How sure: the permutation and size tables give every seed's interval or p-value, not a pooled one; "
           "three seeds show the spread of a setting, not a tight estimate of it. The robustness numbers are "
           "one model pair (the committed run) on fixed corruptions: they measure these two models, not every "
           "MLP and CNN."]  # fmt: skip
    return "\n".join(out) + "\n"


# ----------------------------------------------------------------------------- plots and files


def write_csvs(data: dict, out: Path) -> None:
    with atomic_path(Path(f"{out}_sizes.csv")) as tmp, open(tmp, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["train_images", "seed", "mlp", "cnn"])
        for r in data["sizes"]:
            writer.writerow([r["train_images"], r["seed"], pct(r["mlp"]["accuracy"]), pct(r["cnn"]["accuracy"])])
    with atomic_path(Path(f"{out}_permuted.csv")) as tmp, open(tmp, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["seed", "mlp_original", "mlp_permuted", "cnn_original", "cnn_permuted"])
        for r in data["permuted"]:
            writer.writerow([f"seed {r['seed']}", *(pct(r[k][m]["accuracy"]) for m in MODELS for k in ("original", "permuted"))])


def plot_sizes(data: dict, path: Path) -> None:
    from fmnist.plots import plt, save_figure

    rows = size_rows(data["sizes"])
    n = [r["train_images"] for r in rows]
    fig, (ax, gap_ax) = plt.subplots(1, 2, figsize=(10, 4))
    for m, colour in (("mlp", "tab:orange"), ("cnn", "tab:blue")):
        mean = [100 * statistics.fmean(r[m]) for r in rows]
        ax.plot(n, mean, "o-", color=colour, label=m.upper())
        for r in rows:
            ax.scatter([r["train_images"]] * len(r[m]), [100 * v for v in r[m]], color=colour, s=8, alpha=0.5)
    ax.set(xscale="log", xlabel="training images (log scale)", ylabel="test accuracy (%)",
           title="Accuracy against training size (3 seeds each)")  # fmt: skip
    ax.legend()
    gaps = [100 * statistics.fmean(r["gap"]) for r in rows]
    gap_ax.plot(n, gaps, "o-", color="tab:green")
    gap_ax.vlines(n, [100 * min(r["gap"]) for r in rows], [100 * max(r["gap"]) for r in rows], color="tab:green")
    gap_ax.axhline(0, color="grey", lw=0.8)
    gap_ax.set(xscale="log", xlabel="training images (log scale)", ylabel="CNN − MLP (points)",
               title="The CNN's lead (mean, seeds' range)")  # fmt: skip
    for a in (ax, gap_ax):
        a.grid(alpha=0.3)
    fig.tight_layout()
    save_figure(fig, path)


def plot_permuted(data: dict, path: Path) -> None:
    from fmnist.plots import plt, save_figure

    fig, ax = plt.subplots(figsize=(6, 4))
    for i, m in enumerate(MODELS):
        for j, (k, colour) in enumerate((("original", "tab:grey"), ("permuted", "tab:red"))):
            values = [100 * r[k][m]["accuracy"] for r in data["permuted"]]
            x = i + (j - 0.5) * 0.38
            bar = ax.bar(x, statistics.fmean(values), width=0.36, color=colour, label=f"{k} pixels" if i == 0 else None)
            ax.scatter([x] * len(values), values, color="black", s=10, zorder=3)
            ax.bar_label(bar, fmt="%.2f", fontsize=9)
    ax.set_xticks(range(len(MODELS)), [m.upper() for m in MODELS])
    low = min(100 * r[k][m]["accuracy"] for r in data["permuted"] for k in ("original", "permuted") for m in MODELS)
    ax.set_ylim(low - 4, 95)
    ax.set_ylabel("test accuracy (%), mean of 3 seeds (dots: each)")
    ax.set_title("Pixels in one fixed random order")
    ax.legend(loc="lower right")
    fig.tight_layout()
    save_figure(fig, path)


def render(out: Path = REPORT, root: Path = Path(".")) -> str:
    data = json.loads((root / f"{out}.json").read_text())
    summary = json.loads((root / "metrics/robustness.json").read_text())
    rows = robustness_rows(root / "plots/robustness.csv")
    images = read_yaml(root / PARAMS_FILE)["robustness"]["images"] or 10_000  # the run's own params
    return page(data, summary, rows, images)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="fmnist structure", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=("collect", "render"))
    args = parser.parse_args(argv)
    if args.command == "collect":
        from dvc.api import exp_show

        write_json(Path(f"{REPORT}.json"), collect(exp_show(force=True)))
        print(f"fmnist structure: wrote {REPORT}.json; now `fmnist structure render`")
        return
    data = json.loads(Path(f"{REPORT}.json").read_text())
    write_text(Path(f"{REPORT}.md"), render())
    write_csvs(data, REPORT)
    plot_sizes(data, Path(f"{REPORT}_sizes.png"))
    plot_permuted(data, Path(f"{REPORT}_permuted.png"))
    print(f"fmnist structure: wrote {REPORT}.md, its CSVs and plots")


if __name__ == "__main__":
    main()
