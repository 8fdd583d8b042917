"""`fmnist predict`: classify your own images with the CNN, the MLP, or both side by side.

    fmnist predict shirt.png                    # both models, top 3 classes each
    fmnist predict photos/ --model cnn -k 1     # every image in a folder
    fmnist predict t10k-images-idx3-ubyte.gz    # an IDX file, Fashion-MNIST's own format
    fmnist predict shirt.png --runtime onnx     # ONNX Runtime: neither torch nor sklearn
    fmnist predict shirt.png --cnn cnn.safetensors   # a file `dvc artifacts get` fetched
    fmnist predict shirt.png --json             # for machines

Models are read from safetensors or ONNX files only, never from pickles. The preprocessing
is written out in ``fmnist.images``. A file that cannot be classified is reported on its
own line; the others are still classified, and the exit status is then 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from fmnist.classes import CLASS_NAMES
from fmnist.errors import FmnistError
from fmnist.images import Example, ImageError, collect, is_idx, load_example, load_idx
from fmnist.paths import CNN_MODEL, CNN_ONNX, MLP_MODEL, MLP_ONNX
from fmnist.serving import Classifier, load_classifier

DEFAULTS = {("cnn", "safetensors"): CNN_MODEL, ("mlp", "safetensors"): MLP_MODEL,
            ("cnn", "onnx"): CNN_ONNX, ("mlp", "onnx"): MLP_ONNX}  # fmt: skip


def default_format(runtime: str) -> str:
    """auto: the safetensors files where PyTorch is installed, else the ONNX ones."""
    if runtime == "auto":
        try:
            import torch  # noqa: F401
        except ImportError:
            return "onnx"
        return "safetensors"
    return "onnx" if runtime == "onnx" else "safetensors"


def load_examples(paths: list[Path]) -> tuple[list[Example], list[str]]:
    """Every image found, and one error line for each file that could not be read."""
    examples, errors = [], []
    for path in collect(paths):
        try:
            examples += load_idx(path) if is_idx(path) else [load_example(path)]
        except ImageError as exc:
            errors.append(str(exc))
    return examples, errors


def top_k(probabilities: np.ndarray, k: int) -> list[list[tuple[str, float]]]:
    order = np.argsort(-probabilities, axis=1, kind="stable")[:, :k]
    return [[(CLASS_NAMES[c], float(row[c])) for c in top] for row, top in zip(probabilities, order, strict=True)]


def predict(classifiers: list[Classifier], examples: list[Example], k: int) -> list[dict]:
    x = np.stack([e.pixels for e in examples]) if examples else np.zeros((0, 28, 28), np.float32)
    ranked = {c.model: top_k(c.probabilities(x), k) if len(x) else [] for c in classifiers}
    return [{"image": e.name, "notes": e.notes,
             **{model: [{"class": name, "probability": round(p, 6)} for name, p in ranked[model][i]]
                for model in ranked}}
            for i, e in enumerate(examples)]  # fmt: skip


def show(results: list[dict], classifiers: list[Classifier], console: Console) -> None:
    table = Table(title_justify="left", title="Fashion-MNIST classes, most probable first")
    table.add_column("image", overflow="fold")
    for c in classifiers:
        table.add_column(f"{c.model.upper()} ({c.runtime})")
    for r in results:
        cells = ["\n".join(f"{p['class']} {100 * p['probability']:.1f} %" for p in r[c.model]) for c in classifiers]
        table.add_row(r["image"] + "".join(f"\n[dim]{note}[/dim]" for note in r["notes"]), *cells)
    console.print(table)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="fmnist predict", description=__doc__.split("\n")[0])
    parser.add_argument("inputs", nargs="+", type=Path, help="image files, folders of them, or IDX files")
    parser.add_argument("--model", choices=("both", "cnn", "mlp"), default="both")
    parser.add_argument(
        "--runtime",
        choices=("auto", "torch", "onnx"),
        default="auto",
        help="default model files: .safetensors (PyTorch and NumPy) or .onnx (ONNX Runtime)",
    )
    parser.add_argument("--cnn", type=Path, help="the CNN's file (.safetensors or .onnx)")
    parser.add_argument("--mlp", type=Path, help="the MLP's file (.safetensors or .onnx)")
    parser.add_argument("-k", "--top-k", type=int, default=3, choices=range(1, 11), metavar="K")
    parser.add_argument("--tta-flip", action="store_true", help="CNN: also average each image's mirror")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)

    fmt = default_format(args.runtime)
    models = ("cnn", "mlp") if args.model == "both" else (args.model,)
    try:
        classifiers = [load_classifier(m, getattr(args, m) or DEFAULTS[m, fmt], args.tta_flip and m == "cnn")
                       for m in models]  # fmt: skip
        examples, errors = load_examples(args.inputs)
        results = predict(classifiers, examples, args.top_k)
    except FmnistError as exc:
        print(f"fmnist predict: error: {exc}", file=sys.stderr)
        sys.exit(2)
    for line in errors:
        print(f"fmnist predict: error: {line}", file=sys.stderr)
    if args.json:
        print(json.dumps({"results": results, "errors": errors}, indent=2))
    elif results:
        show(results, classifiers, Console())
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
