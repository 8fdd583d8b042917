"""`fmnist pages`: every generated block, table and figure of the pages, rewritten from the
run record (reports/runs.jsonl), the committed run (metrics/, DVCLive's summaries) and the
benchmarks' own result files. No number on a page is typed: each block between two markers
is rewritten here, and a test fails when a page and its sources disagree.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from fmnist import formats, structure_study, targets
from fmnist.classes import CLASS_NAMES
from fmnist.io import write_csv, write_text
from fmnist.params import shown
from fmnist.recipes import RECIPES_DIR, Recipe, all_recipes
from fmnist.runs import RECORD, Comparison, Run, read_record
from fmnist.stats import spread
from fmnist.study import STUDY_ACCURACY, STUDY_GAP
from fmnist.tools import results, speedrun, structure, summary, views

BENCH = Path("benchmarks/results")


@dataclass(frozen=True)
class Sources:
    root: Path
    runs: list[Run]
    comparisons: list[Comparison]
    recipes: dict[str, Recipe]
    committed: Run  # the committed run, from metrics/
    details: dict
    robustness: dict

    def read(self, path: str) -> str:
        return (self.root / path).read_text().rstrip("\n")

    @property
    def timed(self) -> list[Recipe]:
        return targets.timed(self.recipes)


def load(root: Path = Path(".")) -> Sources:
    runs, comparisons = read_record(root / RECORD)
    committed, details = results.load(root)
    robustness = json.loads((root / "metrics/robustness.json").read_text())
    return Sources(root, runs, comparisons, all_recipes(root / RECIPES_DIR), committed, details, robustness)


# ----------------------------------------------------------------------------- blocks


def findings(src: Sources) -> str:
    """The README's opening: what was found, each line with what it pools."""
    run, seeds = src.committed, targets.seeds_of(src.recipes["study"], src.runs)
    assert run.gap is not None  # results.load refuses a run without one
    inside = all(m.low is not None and m.high is not None and m.low <= STUDY_ACCURACY[k] / 100 <= m.high
                 for k, m in (("mlp", run.mlp), ("cnn", run.cnn)))  # fmt: skip
    gap = spread(r.gap.accuracy for r in seeds if r.gap)
    where = seeds[0].family or "machines not recorded" if seeds else ""
    lines = [f"- **The study reproduces.** The committed run (seed {run.seed}, {run.family}) scores the MLP "
             f"{formats.percent(run.mlp.accuracy)} % and the CNN {formats.percent(run.cnn.accuracy)} % on the test set; "
             f"the study's {STUDY_ACCURACY['mlp']:.2f} % and {STUDY_ACCURACY['cnn']:.2f} % lie "
             f"{'inside' if inside else 'outside'} their [95 % intervals](#terms). The CNN's lead is real "
             f"([McNemar's test](#terms), "
             f"p = {formats.p_value(run.gap.p)}) and smaller than the study's single-run {STUDY_GAP:+.2f} points: "
             + (f"{formats.mean_std(gap, signed=True)} points over {gap.n} seeds ({where})." if gap and gap.n > 1
                else f"{formats.points(run.gap.accuracy)} points in this run.")]  # fmt: skip
    chosen = structure_study.by_name(src.runs)
    if len(chosen) == len(structure_study.names()):
        p = structure_study.permutation(chosen, src.comparisons)
        lines.append(f"- **The lead is the image's layout.** With the pixels in one fixed random order the CNN moves "
                     f"{formats.points(p['cnn'])} points and the MLP {formats.points(p['mlp'])} "
                     f"({len(structure_study.SEEDS)} seeds, {structure.machines(chosen)}): CNN − MLP goes from "
                     f"{formats.points(p['gap_before'])} to {formats.points(p['gap_after'])} "
                     "([why structure wins](#why-structure-wins)).")  # fmt: skip
    lines += equal_effort(src)
    table = [row for row in targets.rows(src.timed, src.runs) if row.recipe.target and row.model == "cnn"]
    if table:
        family = max({r.family for r in table}, key=lambda f: sum(r.family == f for r in table))
        here = [r for r in table if r.family == family]
        met = sum(r.verdict() == "met" for r in here)
        each = "; ".join(f"{r.recipe.name}, {len(r.runs)} seeds: {formats.mean_std(r.accuracy, scale=1)} % in "
                         f"{r.seconds.mean:.0f} s ({r.verdict()})" for r in here)  # fmt: skip
        fast = min(here, key=lambda r: r.seconds.mean)
        lines.append(f"- **Time to accuracy.** A small CPU-shaped network, trained in [bfloat16](#terms) behind a frozen "
                     f"[whitening](#terms) layer ({fast.recipe.name}), reaches {formats.mean_std(fast.accuracy, scale=1)} "
                     f"% in {fast.seconds.mean:.0f} s, where the study's CNN took {formats.seconds(run.cnn.seconds)} s "
                     f"for {formats.percent(run.cnn.accuracy)} %. On a 2-core {family}, {met} of {len(here)} recipes "
                     f"meet their targets as they are now: {each} ([time to accuracy](#time-to-accuracy)).")  # fmt: skip
    return "\n".join(lines)


def equal_effort(src: Sources) -> list[str]:
    """The study's question, with both families given one trainer: the controlled pair, and
    each budget's best of both, from the record."""
    pair = structure_study.alone(src.recipes, src.runs)
    same = pair.get(structure_study.ALONE[0])
    budgets = targets.budgets(targets.rows(src.timed, src.runs))
    if not same or not budgets:
        return []
    alone, gain = targets.paired_gap(same), spread(structure_study.shift_gain(pair))
    each = ", ".join(
        f"{b.gap.mean:+.2f} points in {b.mlp.recipe.target.seconds:g} s" for b in budgets if b.mlp.recipe.target
    )
    seeds = "/".join(sorted({str(len(b.mlp.runs)) for b in budgets}))
    below = sum(b.gap.mean < alone.mean for b in budgets)
    grows = len(budgets) > 1 and all(a.gap.mean < b.gap.mean for a, b in zip(budgets, budgets[1:], strict=False))
    flat = max(budgets, key=lambda b: b.mlp.accuracy.mean) is budgets[0]  # the MLP's best is its quickest
    trend = f"below what structure alone buys at {below} of {len(budgets)} budgets" + (
        ", and growing with the budget: the CNN turns more seconds into accuracy, the MLP does not" if grows and flat
        else "")  # fmt: skip
    shift = f"; translations in training move that MLP {formats.mean_std(gain, signed=True)} points" if gain else ""
    return [f"- **At equal effort.** With one training loop, one recipe (the MLP's) and about as many weights, the "
            f"study's LeNet with BatchNorm leads a PyTorch MLP by {structure.gap_cell(same)} points ({len(same)} seeds, {same[0].family}, 95 % interval)"
            f"{shift}. Each family tuned for the same training time, the best CNN leads the best MLP by {each} "
            f"({seeds} seeds, {budgets[0].mlp.family}): {trend} "
            "([structure alone](reports/structure.md), "
            "[both at each budget](#time-to-accuracy))."]  # fmt: skip


def speedrun_block(src: Sources, full: bool = False) -> str:
    table = targets.rows(src.timed, src.runs)
    lines = [targets.RULE + " Wall s: a seed's whole `fmnist recipe run`, DVC included, the mean over seeds: the "
             "stages up to `evaluate`, what the table reads (less than its training where DVC restored that from its "
             "run cache). Test reads: how many settings of the recipe "
             "the record shows scored on the test set.", "",
             speedrun.markdown(table, targets.read_peaks(src.root / targets.PEAKS))]  # fmt: skip
    if budgets := targets.budgets(table):
        lines += ["Both families at each budget: each seed of an MLP recipe also trains the CNN recipe it extends and "
                  "scores both on the same test images. CNN − MLP: the mean of the seeds' paired differences, with "
                  "Student's t interval over seeds; largest p: McNemar's, of the least sure seed.", "",
                  speedrun.budget_markdown(budgets)]  # fmt: skip
    if full:
        lines += ["Settings (on top of params.yaml; `fmnist recipe show NAME`):", ""]
        lines += [f"- **{r.name}**: " + (", ".join(f"`{k}={shown(v)}`" for k, v in r.params.items()) or "the defaults")
                  for r in src.timed]  # fmt: skip
    return "\n".join(lines).rstrip("\n")


def seeds_block(src: Sources) -> str:
    seeds = targets.seeds_of(src.recipes["study"], src.runs)
    if not seeds:
        return "No seeds of the study's recipe in the record yet: `fmnist recipe run study --seeds 0 1 2 3 4`."
    row = views.group_row(seeds, "study", f"seeds {formats.seeds([r.seed for r in seeds])}")
    return (
        f"{len(seeds)} runs of the study's recipe, one per seed, on {seeds[0].family or 'machines not recorded'}"
        " (the record's); mean ± sample standard deviation.\n\n" + views.markdown([views.study_row(), row], "runs")
    )


def trials_block(src: Sources) -> str:
    trials = [r for r in src.runs if r.source.startswith("benchmarks/val_trials.py")]
    lines = ["| model | trial (params over params.yaml) | seed | CPU | val % | + flip TTA | + shift TTA | + both |",
             "|---|---|---:|---|---:|---:|---:|---:|"]  # fmt: skip
    for r in trials:
        model = "mlp" if r.mlp.accuracy is not None else "cnn"
        scored, views_ = getattr(r, model), [formats.percent(r.views.get(k)) for k in ("flip", "shift", "flip+shift")]
        lines.append(f"| {model.upper()} | `{r.label}` | {r.seed} | {r.family or 'not recorded'} | "
                     f"{formats.percent(scored.accuracy)} | " + " | ".join(views_) + " |")  # fmt: skip
    count = {m: sum((r.mlp.accuracy is not None) == (m == "MLP") for r in trials) for m in ("CNN", "MLP")}
    return (
        f"{len(trials)} trials ({count['CNN']} of the CNN, {count['MLP']} of the MLP), oldest first.\n\n"
        + "\n".join(lines)
    )


def structure_block(src: Sources, page: bool) -> str:
    chosen = structure_study.by_name(src.runs)
    if page:
        images = yaml.safe_load((src.root / "params.yaml").read_text())["robustness"]["images"] or 10_000
        pair = structure_study.alone(src.recipes, src.runs)
        return structure.body(src.runs, src.comparisons, src.root, src.robustness, images, pair)
    return "\n".join([*structure.headline(chosen, src.comparisons, src.robustness), "",
                      "![Accuracy against training size](reports/structure_sizes.png)", "",
                      "How, and how sure: [reports/structure.md](reports/structure.md)."])  # fmt: skip


def model_index(src: Sources) -> str:
    lines = ["model-index:"]
    for name, m in (("fmnist-cnn", src.committed.cnn), ("fmnist-mlp", src.committed.mlp)):
        lines += [f"- name: {name}", "  results:", "  - task: {type: image-classification, name: Image classification}",
                  f"    dataset: {{type: fashion_mnist, name: Fashion-MNIST, split: {src.committed.split}}}",
                  "    metrics:", f"    - {{type: accuracy, value: {formats.percent(m.accuracy)}, name: accuracy (%)}}",
                  f"    - {{type: f1, value: {m.macro_f1:.4f}, name: macro F1}}"]  # fmt: skip
    return "\n".join(lines)


def card_results(src: Sources) -> str:
    metrics = json.loads((src.root / "metrics/metrics.json").read_text())
    lines = ["| model | accuracy % [95 % CI] | macro F1 | NLL | ECE | study % | train s |", "|---|" + "---:|" * 6]
    for model, m in (("cnn", src.committed.cnn), ("mlp", src.committed.mlp)):
        h = metrics[model]
        lines.append(f"| fmnist-{model} | {formats.percent(m.accuracy)} {formats.interval(m.low, m.high)} | {m.macro_f1:.4f} "
                     f"| {h['nll']:.3f} | {h['ece']:.3f} | {STUDY_ACCURACY[model]:.2f} | {formats.seconds(m.seconds)} |")  # fmt: skip
    recall = {m: {c: src.details[m]["per_class"][c]["recall"] for c in CLASS_NAMES} for m in ("cnn", "mlp")}
    lines += ["", results.pooled(src.committed, src.details) + " Per-class accuracy (recall), weakest first:", "",
              "| class | fmnist-cnn % | fmnist-mlp % |", "|---|---:|---:|"]  # fmt: skip
    lines += [f"| {c} | {100 * recall['cnn'][c]:.1f} | {100 * recall['mlp'][c]:.1f} |"
              for c in sorted(CLASS_NAMES, key=lambda c: recall["cnn"][c])]  # fmt: skip
    return "\n".join(lines)


def export_check(src: Sources) -> str:
    check = json.loads(src.read("metrics/export.json"))
    rows = ["| model | test images | same class | largest logit difference | ONNX file MB |", "|---|" + "---:|" * 4]
    rows += [f"| {m.upper()} | {check[m]['images']:,} | {check[m]['same_class']:,} | "
             f"{check[m]['max_abs_logit_difference']:.2g} | {check[m]['onnx_bytes'] / 1e6:.2f} |" for m in ("cnn", "mlp")]  # fmt: skip
    return "\n".join(rows + ["", f"The committed run (`metrics/export.json`): ONNX Runtime {check['onnxruntime']}, "
                             f"torch {check['torch']}, opset {check['opset']}."])  # fmt: skip


def peaks(src: Sources) -> str:
    rows = ["| machine | fp32 GFLOP/s | bf16 GFLOP/s | measured |", "|---|---:|---:|---|"]
    for machine, p in targets.read_peaks(src.root / targets.PEAKS).items():
        rows.append(f"| {machine} | {p['fp32']:.0f} | {p['bf16']:.0f} | {p['measured']} |")
    return "\n".join(rows)


def bench(name: str) -> Callable[[Sources], str]:
    """A benchmark's own result file, its title left out."""
    return lambda src: re.sub(r"\A# .*\n+", "", src.read(f"{BENCH}/{name}"))


# page -> block -> (comment style, what fills it)
PAGES: dict[str, dict[str, tuple[str, Callable[[Sources], str]]]] = {
    "README.md": {
        "findings": ("html", findings),
        "results": ("html", lambda src: results.markdown(src.committed, src.details)),
        "structure": ("html", lambda src: structure_block(src, page=False)),
        "speedrun": ("html", speedrun_block),
    },
    "reports/README.md": {
        "speedrun": ("html", lambda src: speedrun_block(src, full=True)),
        "history": ("html", lambda src: speedrun.history(src.timed, src.runs).rstrip("\n")),
        "seeds": ("html", seeds_block),
    },
    "reports/trials.md": {"trials": ("html", trials_block)},
    "reports/structure.md": {"structure": ("html", lambda src: structure_block(src, page=True))},
    "MODEL_CARD.md": {"model-index": ("yaml", model_index), "card-results": ("html", card_results)},
    "docs/models.md": {"export": ("html", export_check), "latency": ("html", bench("predict_latency.md"))},
    "benchmarks/README.md": {
        "full": ("html", bench("full.md")),
        "capped": ("html", bench("capped.md")),
        "cnn-options": ("html", bench("cnn_options.md")),
        "cnn-options-speed94": ("html", bench("cnn_options_speed94.md")),
        "onednn-speed94": ("html", bench("onednn_speed94.md")),
        "peaks": ("html", peaks),
    },
}


def markers(block: str, comment: str = "html") -> tuple[str, str]:
    if comment == "yaml":
        return f"# {block}:start", f"# {block}:end"
    return f"<!-- {block}:start -->", f"<!-- {block}:end -->"


def render(text: str, content: str, block: str, comment: str = "html", where: str = "README.md") -> str:
    start, end = markers(block, comment)
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    if not pattern.search(text):
        raise SystemExit(f"{where}: markers {start} ... {end} not found")
    return pattern.sub(lambda _: f"{start}\n{content}\n{end}", text)


def render_page(page: str, text: str, src: Sources) -> str:
    for block, (comment, fill) in PAGES[page].items():
        text = render(text, fill(src), block, comment, page)
    return text


def write_figures(src: Sources) -> None:
    """The pages' figures and the CSVs `dvc plots show` draws them from (dvc.yaml)."""
    reports = src.root / "reports"
    table = targets.rows(src.timed, src.runs)
    speedrun.plot(table, reports / "speedrun.png")
    write_csv(reports / "speedrun.csv", [["recipe", "model", "cpu", "seed", "train_seconds", "accuracy"], *(
        [row.recipe.name, row.model, row.family, r.seed, row.scored(r).seconds, formats.percent(row.scored(r).accuracy)]
        for row in table for r in row.runs)])  # fmt: skip
    if len(seeds := targets.seeds_of(src.recipes["study"], src.runs)) > 1:
        summary.seed_plot(seeds, reports / "seed_sweep.png")
    if len(structure_study.by_name(src.runs)) == len(structure_study.names()):
        structure.figures(src.runs, reports / "structure")


def main(argv: list[str] | None = None) -> None:
    argparse.ArgumentParser(prog="fmnist pages", description=__doc__.split("\n")[0]).parse_args(argv)
    src = load()
    for page in PAGES:
        write_text(page, render_page(page, Path(page).read_text(), src))
        print(f"{page}: generated blocks rewritten")
    write_figures(src)
    print("reports/: figures and their CSVs rewritten")


if __name__ == "__main__":
    main()
