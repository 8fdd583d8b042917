"""`fmnist results`: this run against the study, in a few lines (the pipeline's last word).

    fmnist results        # after `dvc repro` or `dvc exp run`, from the workspace's files
    fmnist results --md   # the same as markdown (the README's results block)

Reads the declared metrics (``metrics/metrics.json``, the DVCLive summaries) and
``metrics/details.json``; every number is this run's, except the study's own figures.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from fmnist.paths import CNN_LIVE, DATASET_STATS, DETAILS, METRICS, MLP_LIVE
from fmnist.report import significance_sentence
from fmnist.study import STUDY_ACCURACY, STUDY_GAP
from fmnist.tools import pairview

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
            raise SystemExit(f"fmnist results: {root / path} not found; run `dvc repro` first") from None

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


def pair_rows(r: RunResults) -> list[pairview.PairRow]:
    """The study's published figures, then this run, as every view prints them."""
    study = pairview.PairRow("the study", "published", pairview.Figure(STUDY_ACCURACY["mlp"]),
                             pairview.Figure(STUDY_ACCURACY["cnn"]), pairview.Figure(STUDY_GAP))  # fmt: skip
    seconds = {model: r.training[model]["train_seconds"] for model in MODELS}
    return [study, pairview.from_metrics("this run", r.headline, seconds, f"{r.details['split']} split")]


def show(r: RunResults, console: Console) -> None:
    """This run against the study, in 80 columns: each line says what went into it."""
    title = f"Fashion-MNIST, {r.details['split']} split: this run against the study (95 % intervals)"
    console.print(pairview.console_table(pair_rows(r), title, "run", console.width))
    console.print(where_line(r, code=""))
    console.print("Next: metrics/report.md (per class, frequent mistakes), dvc plots show;\n"
                  "      dvc exp run -S cnn.epochs=20, then fmnist exps to compare.", style="dim")  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="fmnist results", description=__doc__.split("\n")[0])
    shown_as = parser.add_mutually_exclusive_group()
    shown_as.add_argument("--md", action="store_true", help="markdown: the README's results block")
    shown_as.add_argument("--json", action="store_true", help="JSON: the study's row and this run's")
    args = parser.parse_args(argv)
    results = load_results()
    if args.md:
        print(markdown(results))
    elif args.json:
        print(json.dumps([pairview.as_json(p) for p in pair_rows(results)], indent=2))
    else:
        show(results, Console())


if __name__ == "__main__":
    main()
