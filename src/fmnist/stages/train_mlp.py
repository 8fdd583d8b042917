"""Stage `train_mlp`: the study's sklearn MLPClassifier on flattened images.

The input stays float32 (sklearn keeps that dtype; float64 would double the work), and so
do Adam's steps (see ``sklearn_mlp.Float32Adam``). The fitted arrays are saved as
safetensors; loss, and validation accuracy when a split is set, are logged with DVCLive
after every iteration, while the fit runs.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from rich.console import Console
from sklearn.neural_network import MLPClassifier

from fmnist.io import write_json
from fmnist.machine import record
from fmnist.mlp import save_mlp
from fmnist.params import Params
from fmnist.paths import MLP_LIVE, MLP_MACHINE, MLP_MODEL, PREPARED_DIR
from fmnist.prepared import Split, load_prepared
from fmnist.runner import run_stage
from fmnist.sklearn_mlp import fit_mlp, flatten, weights_of
from fmnist.tracking import live_logger


def iteration_logger(live, val: Split) -> Callable[[MLPClassifier], None]:
    """One DVCLive step per iteration: loss, accuracy on our validation split when there is
    one, and sklearn's own early-stopping score when that is on."""
    val_x = flatten(val.x) if len(val.y) else None

    def log(clf: MLPClassifier) -> None:
        live.log_metric("train/loss", float(clf.loss_curve_[-1]))
        if val_x is not None:
            live.log_metric("val/accuracy", float(np.mean(clf.predict(val_x) == val.y)))
        if clf.early_stopping:
            live.log_metric("early_stopping/accuracy", float(clf.validation_scores_[-1]))
        live.next_step()

    return log


def stage(params: Params) -> None:
    train = load_prepared(PREPARED_DIR, "train")
    val = load_prepared(PREPARED_DIR, "val")
    with live_logger(MLP_LIVE) as live:
        with Console().status(f"fitting MLP {params.mlp.hidden_layer_sizes} on {len(train.y)} images"):
            clf, seconds = fit_mlp(train.x, train.y, params.mlp, params.seed, iteration_logger(live, val))
        save_mlp(MLP_MODEL, weights_of(clf))
        live.summary["train_seconds"] = round(seconds, 3)
    write_json(MLP_MACHINE, record())  # the BLAS kernels, and so the bytes, follow the CPU
    converged = clf.n_iter_ < params.mlp.max_iter
    print(f"train_mlp: {clf.n_iter_} iterations in {seconds:.1f} s, final loss "
          f"{clf.loss_curve_[-1]:.4f}{'' if converged else ' (hit max_iter)'}")  # fmt: skip


def main() -> None:
    run_stage(stage)


if __name__ == "__main__":
    main()
