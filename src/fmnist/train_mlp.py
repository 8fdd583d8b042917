"""Stage `train_mlp`: the study's sklearn MLPClassifier on flattened images.

The input stays float32 (sklearn keeps that dtype; float64 would double the work), and so
do Adam's steps (see ``Float32Adam``). The fitted arrays are saved as safetensors; loss,
and validation accuracy when a split is set, are logged with DVCLive after every
iteration, while the fit runs.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
from rich.console import Console
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from sklearn.neural_network._stochastic_optimizers import AdamOptimizer

from fmnist.cli import run_stage
from fmnist.data import Split, load_prepared
from fmnist.models import MLPWeights
from fmnist.params import MLPParams, Params
from fmnist.prepare import PREPARED_DIR
from fmnist.tracking import live_logger
from fmnist.weights import save_mlp

MODEL_FILE = Path("models/mlp.safetensors")
LIVE_DIR = "dvclive/train_mlp"


class Float32Adam(AdamOptimizer):
    """sklearn's Adam with its step computed in the parameters' own dtype, in place.

    sklearn's bias-corrected learning rate is a NumPy float64 scalar, and under NumPy 2's
    promotion rules (NEP 50) it turns each step on float32 weights into a float64 array:
    the same formulas cost twice the memory traffic, plus fresh temporaries for every
    batch, about a third of the fit. Under NumPy 1 the step stayed float32, as it does
    here: same formulas and order, the rate rounded to float32 first (tested).
    """

    def __init__(self, params, *args, **kwargs):
        super().__init__(params, *args, **kwargs)
        self._steps = [np.empty_like(p) for p in params]
        self._scratch = [np.empty_like(p) for p in params]

    def update_params(self, params, grads):
        self.t += 1
        self.learning_rate = (self.learning_rate_init * np.sqrt(1 - self.beta_2**self.t)
                              / (1 - self.beta_1**self.t))  # fmt: skip
        for param, grad, m, v, step, scratch in zip(
            params, grads, self.ms, self.vs, self._steps, self._scratch, strict=True
        ):
            rate = param.dtype.type(-self.learning_rate)
            m *= self.beta_1
            m += np.multiply(grad, 1 - self.beta_1, out=scratch)
            v *= self.beta_2
            v += np.multiply(np.square(grad, out=scratch), 1 - self.beta_2, out=scratch)
            np.multiply(m, rate, out=step)
            step /= np.add(np.sqrt(v, out=scratch), self.epsilon, out=scratch)
            param += step


class ReportingMLPClassifier(MLPClassifier):
    """``MLPClassifier`` that calls ``on_iteration(self)`` after each pass over the data, and
    takes float32 Adam steps.

    sklearn offers no callback. Its stochastic solvers call ``_update_no_improvement_count``
    once per iteration, after recording the loss (and, with early stopping, its own
    validation score), so that is where the report goes. The hook only reads the
    estimator (tested). The solver assigns ``self._optimizer`` at the start of each fit;
    the property below swaps its Adam for ``Float32Adam`` there. Both rely on private
    names, so tests pin that the hook fires once per iteration and that the swap happens.
    """

    on_iteration: Callable[[MLPClassifier], None] | None = None

    @property
    def _optimizer(self):
        try:
            return self.__dict__["_optimizer"]
        except KeyError:
            raise AttributeError("_optimizer") from None  # sklearn asks with hasattr()

    @_optimizer.setter
    def _optimizer(self, optimizer):
        if type(optimizer) is AdamOptimizer:
            optimizer = Float32Adam(
                self.coefs_ + self.intercepts_, optimizer.learning_rate_init,
                optimizer.beta_1, optimizer.beta_2, optimizer.epsilon,
            )  # fmt: skip
        self.__dict__["_optimizer"] = optimizer

    def _update_no_improvement_count(self, *args, **kwargs):
        super()._update_no_improvement_count(*args, **kwargs)
        if self.on_iteration is not None:
            self.on_iteration(self)


def fit_mlp(x: np.ndarray, y: np.ndarray, p: MLPParams, seed: int,
            on_iteration: Callable[[MLPClassifier], None] | None = None) -> tuple[MLPClassifier, float]:  # fmt: skip
    """Fit on (N, 28, 28) images; returns the estimator and its fit seconds."""
    clf = ReportingMLPClassifier(
        hidden_layer_sizes=p.hidden_layer_sizes,
        activation=p.activation,
        solver=p.solver,
        alpha=p.alpha,
        learning_rate_init=p.learning_rate_init,
        learning_rate=p.learning_rate,
        max_iter=p.max_iter,
        batch_size=p.batch_size,
        tol=p.tol,
        n_iter_no_change=p.n_iter_no_change,
        early_stopping=p.early_stopping,
        validation_fraction=p.validation_fraction,
        random_state=seed,
    )
    clf.on_iteration = on_iteration
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # reported as `converged` instead
        start = time.perf_counter()
        clf.fit(flatten(x), y)
        seconds = time.perf_counter() - start
    return clf, seconds


def flatten(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x.reshape(len(x), -1), dtype=np.float32)


def weights_of(clf: MLPClassifier) -> MLPWeights:
    return MLPWeights(tuple(clf.coefs_), tuple(clf.intercepts_), clf.activation)


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
    with live_logger(LIVE_DIR) as live:
        with Console().status(
            f"fitting MLP {params.mlp.hidden_layer_sizes} on {len(train.y)} images"
        ):
            clf, seconds = fit_mlp(
                train.x, train.y, params.mlp, params.seed, iteration_logger(live, val)
            )
        save_mlp(MODEL_FILE, weights_of(clf))
        converged = clf.n_iter_ < params.mlp.max_iter
        live.summary["train_seconds"] = round(seconds, 3)
        live.summary["iterations"] = int(clf.n_iter_)
        live.summary["converged"] = bool(converged)
    print(f"train_mlp: {clf.n_iter_} iterations in {seconds:.1f} s, final loss "
          f"{clf.loss_curve_[-1]:.4f}{'' if converged else ' (hit max_iter)'}")  # fmt: skip


def main() -> None:
    run_stage(stage)


if __name__ == "__main__":
    main()
