"""`fmnist-results`: this run against the study, in a few lines (the pipeline's last word).

    fmnist-results        # after `dvc repro` or `dvc exp run`, from the workspace's files
    fmnist-results --md   # the same as markdown (the README's results block)

Reads the declared metrics (``metrics/metrics.json``, the DVCLive summaries) and
``metrics/details.json``; every number is this run's, except the study's own figures.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

from rich import box
from rich.console import Console
from rich.table import Table

from fmnist.paths import CNN_LIVE, DATASET_STATS, DETAILS, METRICS, MLP_LIVE
from fmnist.report import significance_sentence
from fmnist.study import STUDY_ACCURACY, STUDY_GAP

MODELS = ("mlp", "cnn")


@dataclass(frozen=True)
class RunResults:
    headline: dict  # metrics/metrics.json
    details: dict  # metrics/details.json
    training: dict  # model -> its DVCLive summary (train_seconds, device, ...)
    dataset: dict  # metrics/dataset.json

    @property
    def pair(self) -> dict:
        return self.headline["cnn_minus_mlp"] | self.details["cnn_minus_mlp"]


def load_results(root: Path = Path(".")) -> RunResults:
    def read(path: Path) -> dict:
        try:
            return json.loads((root / path).read_text())
        except FileNotFoundError:
            raise SystemExit(f"fmnist-results: {root / path} not found; run `dvc repro` first") from None

    training = {"mlp": read(MLP_LIVE / "metrics.json"), "cnn": read(CNN_LIVE / "metrics.json")}
    return RunResults(read(METRICS), read(DETAILS), training, read(DATASET_STATS))


def model_rows(r: RunResults) -> list[list[str]]:
    """model, study, this run [95 % CI], difference from the study, macro F1, parameters, train s."""
    rows = []
    for model in MODELS:
        m, study = r.headline[model], STUDY_ACCURACY[model]
        ours = 100 * m["accuracy"]
        rows.append([
            model.upper(), f"{study:.2f} %",
            f"{ours:.2f} % [{100 * m['accuracy_low']:.2f}, {100 * m['accuracy_high']:.2f}]",
            f"{ours - study:+.2f}", f"{m['macro_f1']:.4f}", f"{r.details[model]['parameters']:,}",
            f"{r.training[model]['train_seconds']:.0f}",
        ])  # fmt: skip
    return rows


HEADER = ["model", "study", "this run [95 % CI]", "difference", "macro F1", "parameters", "train s"]


def gap_line(r: RunResults) -> str:
    pair = r.headline["cnn_minus_mlp"]
    p = pair["mcnemar_p"]
    return (f"CNN - MLP: {100 * pair['accuracy']:+.2f} points [{100 * pair['accuracy_low']:+.2f}, "
            f"{100 * pair['accuracy_high']:+.2f}], McNemar p = {'< 1e-300' if p == 0 else f'{p:.2g}'}; "
            f"the study's: {STUDY_GAP:+.2f}.")  # fmt: skip


def where_line(r: RunResults, code: str = "`") -> str:
    split, images = r.details["split"], r.details["images"]
    return (f"Trained on {r.dataset['sizes']['train']:,} images, scored on the {images:,} images of "
            f"the {split} split; CNN on {code}{r.training['cnn']['device']}{code}.")  # fmt: skip


def markdown(r: RunResults) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|---|" + "---:|" * (len(HEADER) - 1)]
    lines += ["| " + " | ".join(row) + " |" for row in model_rows(r)]
    lines += ["", f"{significance_sentence(r.pair)} The study's gap: {STUDY_GAP:+.2f} points.", "",
              where_line(r) + " Full report: [metrics/report.md](metrics/report.md)."]  # fmt: skip
    return "\n".join(lines)


def show(r: RunResults, console: Console) -> None:
    """The table in under 80 columns: the interval in a column of its own, no parameter count."""
    table = Table(title=f"Fashion-MNIST, {r.details['split']} split: this run against the study",
                  title_justify="left", box=box.SIMPLE_HEAD)  # fmt: skip
    for i, name in enumerate(("model", "study", "this run", "95 % CI", "difference", "macro F1", "train s")):
        table.add_column(name, justify="left" if i == 0 else "right")
    for model, study, ours, difference, f1, _, seconds in model_rows(r):
        accuracy, interval = ours.split(" [")
        table.add_row(model, study, accuracy, interval.rstrip("]").replace(", ", "-"), difference, f1, seconds)
    console.print(table)
    console.print(gap_line(r))
    console.print(where_line(r, code=""))
    console.print("Next: metrics/report.md (per class, frequent mistakes), dvc plots show;\n"
                  "      dvc exp run -S cnn.epochs=20, then fmnist-exps to compare.", style="dim")  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="fmnist-results", description=__doc__.split("\n")[0])
    parser.add_argument("--md", action="store_true", help="print markdown instead of a table")
    args = parser.parse_args(argv)
    results = load_results()
    if args.md:
        print(markdown(results))
    else:
        show(results, Console())


if __name__ == "__main__":
    main()
