"""Stage `train_mlp`: the MLP on flattened images, by ``mlp.impl``.

``sklearn`` (the study's): an MLPClassifier. The input stays float32 (sklearn keeps that
dtype; float64 would double the work), and so do Adam's steps (see
``sklearn_mlp.Float32Adam``); loss, and validation accuracy when a split is set, are logged
after every iteration. ``torch``: the PyTorch MLP, trained by the CNN's loop with
``mlp.torch``'s recipe and logged per epoch. Either is saved as the same plain arrays.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import numpy as np
from rich.console import Console
from sklearn.neural_network import MLPClassifier

from fmnist.checkpoint import checkpoint_path
from fmnist.inference import pick_device, resolve_precision
from fmnist.io import write_json
from fmnist.machine import record
from fmnist.mlp import save_mlp
from fmnist.params import Params
from fmnist.paths import MLP_LIVE, MLP_MACHINE, MLP_MODEL, PREPARED_DIR
from fmnist.prepared import Split, load_prepared
from fmnist.runner import run_stage
from fmnist.sklearn_mlp import fit_mlp, flatten, weights_of
from fmnist.torch_mlp import TorchMLP, mlp_weights
from fmnist.tracking import epoch_logger, live_logger
from fmnist.training import mlp_network, train_network


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


def fit_sklearn(params: Params, train: Split, val: Split) -> None:
    with live_logger(MLP_LIVE) as live:
        with Console().status(f"fitting MLP {params.mlp.hidden_layer_sizes} on {len(train.y)} images"):
            clf, seconds = fit_mlp(train.x, train.y, params.mlp, params.seed, iteration_logger(live, val))
        save_mlp(MLP_MODEL, weights_of(clf))
        live.summary["train_seconds"] = round(seconds, 3)
    write_json(MLP_MACHINE, record())  # the BLAS kernels, and so the bytes, follow the CPU
    converged = clf.n_iter_ < params.mlp.max_iter
    print(f"train_mlp: {clf.n_iter_} iterations in {seconds:.1f} s, final loss "
          f"{clf.loss_curve_[-1]:.4f}{'' if converged else ' (hit max_iter)'}")  # fmt: skip


def fit_torch(params: Params, train: Split, val: Split) -> None:
    p = params.mlp.torch
    device = pick_device(p.device, "mlp.torch.device")
    checkpoint = checkpoint_path(params.mlp, params.seed, PREPARED_DIR / "train_x.npy", "train_mlp")
    with live_logger(MLP_LIVE) as live:
        model, seconds = train_network(train, val, p, params.seed, device, epoch_logger(live), checkpoint,
                                       mlp_network(params.mlp))  # fmt: skip
        save_mlp(MLP_MODEL, mlp_weights(cast(TorchMLP, model).cpu()))  # the EMA's copy, when on, is one too
        live.summary["train_seconds"] = round(seconds, 3)
    precision = resolve_precision(device, p.precision)
    write_json(MLP_MACHINE, {"device": str(device), "precision": precision, **record(str(device))})
    checkpoint.unlink(missing_ok=True)
    print(f"train_mlp: PyTorch MLP {params.mlp.hidden_layer_sizes}, {p.epochs} epochs on {device} "
          f"({precision}) in {seconds:.1f} s")  # fmt: skip


def stage(params: Params) -> None:
    train = load_prepared(PREPARED_DIR, "train")
    val = load_prepared(PREPARED_DIR, "val")
    (fit_torch if params.mlp.impl == "torch" else fit_sklearn)(params, train, val)


def main() -> None:
    run_stage(stage)


if __name__ == "__main__":
    main()
