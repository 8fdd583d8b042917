"""`fmnist structure`: why the CNN wins (reports/structure.md), from the run record.

    fmnist recipe run permuted --seeds 0 1 2 --queue
    fmnist recipe run study --seeds 0 1 2 -S prepare.train_size=1000,3000,10000,30000,60000 --queue
    fmnist recipe run study --seeds 0 1 2 -S prepare.train_size=1000 -S cnn.epochs=900 --queue
    dvc queue start -j 1                      # then, when the queue is done:
    fmnist structure collect                  # record the runs, and each permuted run against its original
    fmnist pages                              # reports/structure.md, its CSVs and figures

`collect` appends the experiments to reports/runs.jsonl and, per seed, the paired test of
the permuted run against the same seed on the original pixels (image by image, from both
runs' predictions). The page is a query over the record and the committed robustness stage.
"""

from __future__ import annotations

import argparse
import csv
import io
from pathlib import Path

from fmnist import formats
from fmnist import structure_study as study
from fmnist.io import write_csv
from fmnist.runs import Comparison, Run, append, paired, record_experiments
from fmnist.stats import mean_interval, spread, spread_of
from fmnist.targets import paired_gap


def collect() -> None:
    runs = {r.name: r for r in record_experiments(study.names(), "fmnist structure collect")}
    if missing := [n for n in study.names() if n not in runs]:
        raise SystemExit(f"fmnist structure: not finished here: {', '.join(missing)} (run or `dvc exp pull` them)")
    pairs = [paired(runs[study.original(study.SIZES[-1], s)], runs[study.permuted(s)]) for s in study.SEEDS]
    print(f"fmnist structure: {append([*runs.values(), *pairs])} entries added to the record; now `fmnist pages`")


# ----------------------------------------------------------------------------- the page


def acc(runs: list[Run], model: str) -> str:
    s = spread_of(study.accuracy(r, model) for r in runs)
    return formats.mean_std(s) + (" (one seed)" if s.n == 1 else "")


def significant(ps: list[float | None]) -> str:
    hits = sum(p is not None and p < 0.05 for p in ps)
    return (
        f"{hits} of {len(ps)} seeds' changes are significant at 5 %"
        if hits
        else "no seed's change is significant at 5 %"
    )


def permutation_section(p: dict) -> list[str]:
    lines = ["| model | original pixels % | permuted pixels % | change per seed, points [95 % CI] | McNemar p per seed |",
             "|---|---:|---:|---|---|"]  # fmt: skip
    for m in study.MODELS:
        gaps = [getattr(c, m) for c in p["pairs"]]
        changes = "; ".join(
            f"{formats.points(g.accuracy)} {formats.interval(g.low, g.high, signed=True)}" for g in gaps
        )
        ps = "; ".join(formats.p_value(g.p) for g in gaps)
        lines.append(f"| {m.upper()} | {acc(p['before'], m)} | {acc(p['after'], m)} | {changes} | {ps} |")
    mlp_ps, cnn_ps = ([getattr(c, m).p for c in p["pairs"]] for m in study.MODELS)
    verdict = ("without the layout the CNN's lead is gone, and the MLP is ahead" if p["gap_after"] <= 0 else
               f"taking the layout away takes away {1 - p['gap_after'] / p['gap_before']:.0%} of the CNN's lead")  # fmt: skip
    return lines + ["", f"Shuffling the pixels in one fixed order changes the MLP by {formats.points(p['mlp'])} points "
                    f"on average ({significant(mlp_ps)}): a fully connected layer sees the same numbers in another "
                    f"order, and its fit differs only through its starting point (tested). It changes the CNN by "
                    f"{formats.points(p['cnn'])} points ({significant(cnn_ps)}): its 5x5 filters now read pixels that "
                    f"were never neighbours. CNN − MLP goes from {formats.points(p['gap_before'])} points on the original "
                    f"images to {formats.points(p['gap_after'])} on permuted ones: {verdict}."]  # fmt: skip


def size_section(runs: dict[str, Run]) -> list[str]:
    rows = study.sizes(runs)
    lines = ["| training images | MLP % | CNN % | CNN − MLP, points [seeds' range] | McNemar p per seed |",
             "|---:|---:|---:|---|---|"]  # fmt: skip
    for n, at in rows:
        g, ps = list(map(study.gap, at)), "; ".join(formats.p_value(r.gap.p if r.gap else None) for r in at)
        lines.append(f"| {n:,} | {acc(at, 'mlp')} | {acc(at, 'cnn')} | {formats.points(study.mean(g))} "
                     f"[{formats.points(min(g))}, {formats.points(max(g))}] | {ps} |")  # fmt: skip
    (small, at_small), full = rows[0], rows[-1][0]
    lead = {n: study.mean(map(study.gap, at)) for n, at in (rows[0], rows[-1])}
    steps = {n: -(-n // 64) * (at[0].cnn.epochs or 0) for n, at in (rows[0], rows[-1])}  # the study's batch of 64
    iterations = [r.mlp.epochs or 0 for r in at_small]
    text = (f"CNN − MLP is {formats.points(lead[small])} points with {small:,} training images and "
            f"{formats.points(lead[full])} with all {full:,}: "
            + ("the lead grows as data shrinks." if lead[small] > lead[full] else "the lead does not grow as data shrinks.")
            + " Each size is the first N training images, the same for every seed; seeds vary initialisation and batch "
            f"order only. One thing besides the data changes with size: the CNN trains for a fixed number of epochs, so "
            f"{small:,} images give it {steps[small]:,} steps against {steps[full]:,} on all {full:,}, while the MLP's "
            f"adam runs until its loss stops falling ({min(iterations)}-{max(iterations)} iterations at {small:,}).")  # fmt: skip
    if equal := [runs[study.equal_steps(s)] for s in study.SEEDS if study.equal_steps(s) in runs]:
        text += (f" Given as many steps as the full run (`-S cnn.epochs={study.EQUAL_STEPS[1]}`, {len(equal)} seeds), "
                 f"the CNN reaches {acc(equal, 'cnn')} % on {small:,} images and the MLP {acc(equal, 'mlp')} %: "
                 f"CNN − MLP {formats.points(study.mean(map(study.gap, equal)))} points.")  # fmt: skip
    return [*lines, "", text]


def robustness_section(root: Path, images: int) -> list[str]:
    rows: list[dict] = [{**r, "severity": int(r["severity"]), "accuracy": float(r["accuracy"])}
                        for r in csv.DictReader(io.StringIO((root / "plots/robustness.csv").read_text()))]  # fmt: skip
    clean = {m: next(r["accuracy"] for r in rows if r["model"] == m and r["severity"] == 0) for m in study.MODELS}
    lines = ["| transformation | severities (unit) | MLP % | CNN % | CNN − MLP | MLP change | CNN change |",
             "|---|---|---:|---:|---:|---:|---:|",
             f"| none (clean) | | {clean['mlp']:.2f} | {clean['cnn']:.2f} | {clean['cnn'] - clean['mlp']:+.2f} | | |"]  # fmt: skip
    lead = {}
    for name in dict.fromkeys(r["transform"] for r in rows):
        hit = [r for r in rows if r["transform"] == name and r["severity"] > 0]
        m = {k: study.mean(r["accuracy"] for r in hit if r["model"] == k) for k in study.MODELS}
        lead[name] = m["cnn"] - m["mlp"]
        amounts = ", ".join(dict.fromkeys(f"{float(r['amount']):g}" for r in hit))
        lines.append(f"| {name.replace('_', ' ')} | {amounts} ({hit[0]['unit']}) | {m['mlp']:.2f} | {m['cnn']:.2f} | "
                     f"{lead[name]:+.2f} | {m['mlp'] - clean['mlp']:+.2f} | {m['cnn'] - clean['cnn']:+.2f} |")  # fmt: skip
    best, worst = (f(lead, key=lambda k: lead[k]) for f in (max, min))
    return lines + ["", f"The committed models on {len(lead)} kinds of corrupted test images (the first {images:,}): "
                    f"CNN − MLP is largest under {best.replace('_', ' ')} ({lead[best]:+.2f} points) and smallest under "
                    f"{worst.replace('_', ' ')} ({lead[worst]:+.2f}). Neither model saw a moved or corrupted image in "
                    "training: these are the inductive biases alone, on fixed, seeded corruptions."]  # fmt: skip


def gap_cell(runs: list[Run]) -> str:
    """CNN − MLP over seeds: the mean, and the t interval of the per-seed paired differences."""
    gaps = paired_gap(runs)
    interval = mean_interval(gaps)
    return f"{gaps.mean:+.2f}" + (f" [{interval[0]:+.2f}, {interval[1]:+.2f}]" if interval else "")


def alone_section(pair: dict[str, list[Run]]) -> list[str]:
    """The controlled pair: same loop, recipe and budget in epochs, about as many weights."""
    if not any(pair.values()):
        return [f"Not in the record yet: `fmnist recipe run {study.ALONE[0]} --seeds 0 1 2`."]
    lines = ["| recipe | seeds | CPU | weights CNN, MLP | CNN test % | MLP test % | CNN − MLP, points [95 % interval] "
             "| largest p | train s CNN, MLP |", "|---|---:|---|---|---:|---:|---:|---:|---|"]  # fmt: skip
    for name, runs in pair.items():
        if not runs:
            continue
        weights = ", ".join(f"{getattr(runs[0], m).parameters or 0:,}" for m in ("cnn", "mlp"))
        largest = max((r.gap.p for r in runs if r.gap and r.gap.p is not None), default=None)
        seconds = ", ".join(f"{spread_of(getattr(r, m).seconds for r in runs).mean:.0f}" for m in ("cnn", "mlp"))
        lines.append(f"| {name} | {len(runs)} | {runs[0].family} | {weights} | {acc(runs, 'cnn')} | {acc(runs, 'mlp')} "
                     f"| {gap_cell(runs)} | {formats.p_value(largest)} | {seconds} |")  # fmt: skip
    gain = spread(study.shift_gain(pair))
    if gain:
        lines += ["", f"Translation augmentation (up to 2 pixels) moves the MLP {formats.mean_std(gain, signed=True)} "
                      f"points, seed for seed ({gain.n} seeds)."]  # fmt: skip
    return lines


def machines(runs: dict[str, Run]) -> str:
    return ", ".join(sorted({r.family or "not recorded" for r in runs.values()}))


def headline(runs: dict[str, Run], comparisons: list[Comparison], robustness: dict) -> list[str]:
    """The front page's three lines."""
    p, ((small, at_small), (full, at_full)) = (
        study.permutation(runs, comparisons),
        (study.sizes(runs)[0], study.sizes(runs)[-1]),
    )
    moved = {m: robustness[m]["translated_accuracy"] for m in study.MODELS}
    return [f"- **Permuted pixels** ({len(study.SEEDS)} seeds, {machines(runs)}): the MLP moves {formats.points(p['mlp'])} "
            f"points, the CNN {formats.points(p['cnn'])}; CNN − MLP goes from {formats.points(p['gap_before'])} to "
            f"{formats.points(p['gap_after'])}.",
            f"- **Less data** ({len(study.SEEDS)} seeds a size, {machines(runs)}): at the study's fixed epochs CNN − MLP is "
            f"{formats.points(study.mean(map(study.gap, at_small)))} points with {small:,} training images and "
            f"{formats.points(study.mean(map(study.gap, at_full)))} with {full:,}.",
            f"- **Moved garments** (the committed models): shifted by 1-4 pixels, CNN − MLP is "
            f"{formats.points(moved['cnn'] - moved['mlp'])} points (CNN {formats.percent(moved['cnn'])} %, "
            f"MLP {formats.percent(moved['mlp'])} %)."]  # fmt: skip


def body(runs: list[Run], comparisons: list[Comparison], root: Path, robustness: dict, images: int,
         pair: dict[str, list[Run]] | None = None) -> str:  # fmt: skip
    chosen = study.by_name(runs)
    return "\n".join([
        "The study says the MLP loses because flattening throws away the image's 2-D layout. Three experiments "
        "test that claim with the study's two recipes, and a fourth trains both models with one loop and one recipe; "
        "the test set is read once per setting.", "",
        *headline(chosen, comparisons, robustness), "", f"Trained on: {machines(chosen)} (as each run recorded it).", "",
        "## 1. Permuted pixels: remove the layout, keep the information", "",
        "`prepare.permute_pixels: true` moves the 784 pixels of every image, train and test alike, to one fixed "
        "order drawn from the seed; each seed is compared with the same seed on the original pixels, image by image.",
        "", *permutation_section(study.permutation(chosen, comparisons)), "", "![Permuted pixels](structure_permuted.png)", "",
        "## 2. Sample efficiency: does the CNN's lead grow as data shrinks?", "",
        *size_section(chosen), "", "![Accuracy against training size](structure_sizes.png)", "",
        "## 3. Robustness: corrupted and moved test images", "",
        "The `robustness` stage of `dvc repro` scores the committed models under seeded transformations "
        "(`src/fmnist/corruptions.py`); each row averages its severities.", "", *robustness_section(root, images), "",
        "![Robustness curves](../plots/robustness.png)", "",
        "## 4. Structure alone: the same trainer, recipe and weight count", "",
        "The study trained its two models with different code and recipes. Here both are PyTorch networks trained by "
        "one loop (`src/fmnist/training.py`) with one recipe, with about as many weights, so only the architecture "
        "differs (`fmnist recipe show structure-alone`). Each seed trains both and scores them on the same test "
        "images; the interval is Student's t over the seeds' paired differences, p is McNemar's for the least sure "
        "seed.", "", *alone_section(pair or {}), "",
        "How sure: every seed's interval or p-value is given, not a pooled one; three seeds show the spread of a "
        "setting, not a tight estimate of it. Rerun: the commands in [docs/experiments.md](../docs/experiments.md).",
    ])  # fmt: skip


def figures(runs: list[Run], out: Path) -> None:
    """The page's two figures, and their data as CSVs for `dvc plots show` (dvc.yaml)."""
    from fmnist.plots import plt, save_figure

    chosen = study.by_name(runs)
    rows, pct = study.sizes(chosen), lambda r, m: 100 * study.accuracy(r, m)  # noqa: E731
    fig, (ax, lead_ax) = plt.subplots(1, 2, figsize=(10, 4))
    for m, colour in (("mlp", "tab:orange"), ("cnn", "tab:blue")):
        ax.plot(study.SIZES, [study.mean(pct(r, m) for r in at) for _, at in rows], "o-", color=colour, label=m.upper())
        for n, at in rows:
            ax.scatter([n] * len(at), [pct(r, m) for r in at], color=colour, s=8, alpha=0.5)
    gaps = [[100 * study.gap(r) for r in at] for _, at in rows]
    lead_ax.plot(study.SIZES, [study.mean(g) for g in gaps], "o-", color="tab:green")
    lead_ax.vlines(study.SIZES, [min(g) for g in gaps], [max(g) for g in gaps], color="tab:green")
    lead_ax.axhline(0, color="grey", lw=0.8)
    ax.set(xscale="log", xlabel="training images (log scale)", ylabel="test accuracy (%)",
           title=f"Accuracy against training size ({len(study.SEEDS)} seeds each)")  # fmt: skip
    lead_ax.set(xscale="log", xlabel="training images (log scale)", ylabel="CNN − MLP (points)",
                title="The CNN's lead (mean, seeds' range)")  # fmt: skip
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, Path(f"{out}_sizes.png"))
    fig, ax = plt.subplots(figsize=(6, 4))
    for i, m in enumerate(study.MODELS):
        for j, name in enumerate((lambda s: study.original(study.SIZES[-1], s), study.permuted)):
            values, x = [pct(chosen[name(s)], m) for s in study.SEEDS], i + (j - 0.5) * 0.38
            label = ("original pixels", "permuted pixels")[j] if i == 0 else None
            ax.bar_label(
                ax.bar(x, study.mean(values), width=0.36, color=("tab:grey", "tab:red")[j], label=label), fmt="%.2f"
            )
            ax.scatter([x] * len(values), values, color="black", s=10, zorder=3)
    ax.set(xticks=range(len(study.MODELS)), xticklabels=[m.upper() for m in study.MODELS], ylim=(80, 95),
           ylabel=f"test accuracy (%), study.mean of {len(study.SEEDS)} seeds (dots: each)", title="Pixels in one fixed random order")  # fmt: skip
    ax.legend(loc="lower right")
    fig.tight_layout()
    save_figure(fig, Path(f"{out}_permuted.png"))
    write_csv(Path(f"{out}_sizes.csv"), [["train_images", "seed", "mlp", "cnn"],
                                         *([n, r.seed, f"{pct(r, 'mlp'):.2f}", f"{pct(r, 'cnn'):.2f}"] for n, at in rows for r in at)])  # fmt: skip
    pairs = [(study.original(study.SIZES[-1], s), study.permuted(s)) for s in study.SEEDS]
    write_csv(Path(f"{out}_permuted.csv"), [["seed", "mlp_original", "mlp_permuted", "cnn_original", "cnn_permuted"],
                                            *([f"seed {s}", *(f"{pct(chosen[n], m):.2f}" for m in study.MODELS for n in pair)]
                                              for s, pair in zip(study.SEEDS, pairs, strict=True))])  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="fmnist structure", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=("collect",), help="record the structure experiments and their pairs")
    parser.parse_args(argv)
    collect()


if __name__ == "__main__":
    main()
