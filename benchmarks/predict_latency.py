"""How long fmnist predict takes per image, with each runtime, on this CPU.

    python benchmarks/predict_latency.py      # after `dvc repro`; writes results/predict_latency.md

In the process: one image at a time (batch of 1), median and 95th percentile of 300 calls
after 20 warm-up calls, per model and runtime; and images per second at batch 1,000. As a
command: the wall time of `fmnist predict one.png` from process start to exit (imports,
model loading, one image), median of 5.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from fmnist.machine import caption, describe
from fmnist.paths import CNN_MODEL, CNN_ONNX, MLP_MODEL, MLP_ONNX, PREPARED_DIR
from fmnist.prepared import load_prepared
from fmnist.serving import load_classifier

OUT = Path(__file__).resolve().parent / "results" / "predict_latency.md"
MODELS = {("CNN", "torch"): ("cnn", CNN_MODEL), ("CNN", "onnx"): ("cnn", CNN_ONNX),
          ("MLP", "numpy"): ("mlp", MLP_MODEL), ("MLP", "onnx"): ("mlp", MLP_ONNX)}  # fmt: skip


def per_image(classifier, x: np.ndarray, calls: int = 300, warmup: int = 20) -> tuple[float, float]:
    seconds = []
    for i in range(warmup + calls):
        start = time.perf_counter()
        classifier.probabilities(x[i % len(x)][None])
        seconds.append(time.perf_counter() - start)
    ms = sorted(1000 * s for s in seconds[warmup:])
    return statistics.median(ms), ms[int(0.95 * len(ms))]


def throughput(classifier, x: np.ndarray) -> float:
    classifier.probabilities(x[:1000])
    start = time.perf_counter()
    classifier.probabilities(x[:1000])
    return 1000 / (time.perf_counter() - start)


def command_seconds(png: Path, model: str, path: Path, repeats: int = 5) -> float:
    command = [
        sys.executable,
        "-m",
        "fmnist.tools.predict",
        str(png),
        "--model",
        model,
        f"--{model}",
        str(path),
        "--json",
    ]
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds)


def main() -> None:
    x = np.asarray(load_prepared(PREPARED_DIR, "test").x)
    with tempfile.TemporaryDirectory() as tmp:
        png = Path(tmp) / "one.png"
        Image.fromarray(np.rint(x[0] * 255).astype(np.uint8)).save(png)
        rows = []
        for (name, runtime), (model, path) in MODELS.items():
            classifier = load_classifier(model, path)
            median, p95 = per_image(classifier, x)
            rows.append(f"| {name} | {runtime} | {median:.2f} | {p95:.2f} | {throughput(classifier, x):,.0f} | "
                        f"{command_seconds(png, model, path):.2f} |")  # fmt: skip
            print(rows[-1], flush=True)
    lines = [f"`python benchmarks/predict_latency.py` on {caption(describe())}: the committed models.", "",
             "| model | runtime | ms per image (median) | ms per image (95th pct) | images/s at batch 1,000 | "
             "`fmnist predict one.png`, s |", "|---|---|---:|---:|---:|---:|", *rows]  # fmt: skip
    OUT.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
