"""`fmnist results`: this run against the study, in a few lines (the pipeline's last word).

    fmnist results        # after `dvc repro` or `dvc exp run`, from the workspace's files
    fmnist results --md   # the same as markdown (the README's results block)
    fmnist results --json

Every number is this run's (one seed, one machine, named), except the study's own figures.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.console import Console

from fmnist import formats
from fmnist.repo import params_at, reader
from fmnist.report import significance_sentence
from fmnist.runs import Gap, Run, read_run
from fmnist.study import STUDY_ACCURACY, STUDY_GAP
from fmnist.tools import views


def load(root: Path = Path(".")) -> tuple[Run, dict]:
    """The workspace's run, and metrics/details.json (counts the run's views need)."""
    read = reader(None, root)
    run = read_run(read, "this run", base=params_at("HEAD", root))  # an applied experiment says what it changed
    details = json.loads(read("metrics/details.json") or "{}")
    if run is None or run.gap is None or not details:
        raise SystemExit(f"fmnist results: no metrics in {root / 'metrics'}; run `dvc repro` first")
    return run, details


def pooled(run: Run, details: dict) -> str:
    """What the numbers pool: one run, its seed, split, images and machine."""
    machine, changed = (
        run.family or run.machine or "a machine it did not record",
        f"; {run.label}" * bool(run.overrides),
    )
    return (f"One run (seed {run.seed}{changed}) scored on the {details['images']:,} images of the {run.split} split, "
            f"trained on {machine}; the CNN in {run.precision or 'fp32'} on {run.device or 'cpu'}.")  # fmt: skip


def markdown(run: Run, details: dict) -> str:
    lines = ["| model | study % | this run % [95 % CI] | this run − study (points) | macro F1 | parameters | train s |",
             "|---|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for name, m in (("mlp", run.mlp), ("cnn", run.cnn)):
        study = STUDY_ACCURACY[name]
        lines.append(f"| {name.upper()} | {study:.2f} | {formats.percent(m.accuracy)} {formats.interval(m.low, m.high)} | "
                     f"{formats.points((m.accuracy or 0) - study / 100)} | {m.macro_f1:.4f} | {m.parameters:,} | "
                     f"{formats.seconds(m.seconds)} |")  # fmt: skip
    g = run.gap or Gap(float("nan"))
    pair = details["cnn_minus_mlp"] | {"accuracy": g.accuracy, "accuracy_low": g.low, "accuracy_high": g.high,
                                       "mcnemar_p": g.p}  # fmt: skip
    return "\n".join(lines + ["", f"{significance_sentence(pair)} The study's CNN − MLP: "
                              f"{STUDY_GAP:+.2f} points.", "", pooled(run, details)
                              + " Per class and the frequent mistakes: [metrics/report.md](metrics/report.md)."])  # fmt: skip


def show(run: Run, details: dict, console: Console) -> None:
    title = f"Fashion-MNIST, {run.split} split: this run against the study (95 % intervals)"
    rows = [views.study_row(), views.run_row(run, "this run", f"seed {run.seed}")]
    console.print(views.console_table(rows, title, "run", console.width))
    console.print(pooled(run, details))
    console.print("Next: metrics/report.md (per class, frequent mistakes), dvc plots show;\n"
                  "      dvc exp run -S cnn.epochs=20, then fmnist exps to compare.", style="dim")  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="fmnist results", description=__doc__.split("\n")[0])
    shown_as = parser.add_mutually_exclusive_group()
    shown_as.add_argument("--md", action="store_true", help="markdown: the README's results block")
    shown_as.add_argument("--json", action="store_true", help="JSON: the study's row and this run's")
    args = parser.parse_args(argv)
    run, details = load()
    if args.md:
        print(markdown(run, details))
    elif args.json:
        print(json.dumps([views.as_json(views.study_row()), views.as_json(views.run_row(run, "this run"))], indent=2))
    else:
        show(run, details, Console())


if __name__ == "__main__":
    main()
