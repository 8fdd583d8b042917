"""Stage `train_mlp`: the study's sklearn MLPClassifier on flattened images.

The input stays float32 (sklearn keeps that dtype; float64 would double the work). The
fitted arrays are saved as safetensors and the per-iteration loss is logged with DVCLive.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import numpy as np
from rich.console import Console
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from fmnist.cli import run_stage
from fmnist.data import load_prepared
from fmnist.models import MLPWeights
from fmnist.params import MLPParams, Params
from fmnist.prepare import PREPARED_DIR
from fmnist.tracking import live_logger
from fmnist.weights import save_mlp

MODEL_FILE = Path("models/mlp.safetensors")
LIVE_DIR = "dvclive/train_mlp"


def fit_mlp(x: np.ndarray, y: np.ndarray, p: MLPParams, seed: int) -> tuple[MLPClassifier, float]:
    """Fit on (N, 28, 28) images; returns the estimator and its fit seconds."""
    clf = MLPClassifier(
        hidden_layer_sizes=p.hidden_layer_sizes,
        activation=p.activation,
        solver=p.solver,
        alpha=p.alpha,
        learning_rate_init=p.learning_rate_init,
        max_iter=p.max_iter,
        batch_size=p.batch_size,
        tol=p.tol,
        n_iter_no_change=p.n_iter_no_change,
        random_state=seed,
    )
    flat = np.ascontiguousarray(x.reshape(len(x), -1), dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # reported as `converged` instead
        start = time.perf_counter()
        clf.fit(flat, y)
        seconds = time.perf_counter() - start
    return clf, seconds


def weights_of(clf: MLPClassifier) -> MLPWeights:
    return MLPWeights(tuple(clf.coefs_), tuple(clf.intercepts_), clf.activation)


def stage(params: Params) -> None:
    train = load_prepared(PREPARED_DIR, "train")
    with Console().status(f"fitting MLP {params.mlp.hidden_layer_sizes} on {len(train.y)} images"):
        clf, seconds = fit_mlp(train.x, train.y, params.mlp, params.seed)
    save_mlp(MODEL_FILE, weights_of(clf))

    converged = clf.n_iter_ < params.mlp.max_iter
    with live_logger(LIVE_DIR) as live:
        for loss in clf.loss_curve_:
            live.log_metric("train/loss", float(loss))
            live.next_step()
        live.summary["train_seconds"] = round(seconds, 3)
        live.summary["iterations"] = int(clf.n_iter_)
        live.summary["converged"] = bool(converged)
    print(f"train_mlp: {clf.n_iter_} iterations in {seconds:.1f} s, final loss "
          f"{clf.loss_curve_[-1]:.4f}{'' if converged else ' (hit max_iter)'}")  # fmt: skip


def main() -> None:
    run_stage(stage)


if __name__ == "__main__":
    main()
