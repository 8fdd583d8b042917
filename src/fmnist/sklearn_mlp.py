"""sklearn's MLPClassifier, patched in two places: float32 Adam steps and a per-iteration hook.

Both patches lean on private sklearn names (``_optimizer``, ``_update_no_improvement_count``,
``AdamOptimizer``), so they are allowed only on the sklearn versions the tests ran with:
another version stops the fit with an error instead of silently training differently.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from collections.abc import Callable

import numpy as np
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from sklearn.neural_network._stochastic_optimizers import AdamOptimizer

from fmnist.errors import FmnistError
from fmnist.mlp import MLPWeights
from fmnist.params import MLPParams

TESTED_SKLEARN = ("1.9",)  # major.minor versions whose private names the patches were tested on


def check_sklearn_version(version: str | None = None) -> None:
    version = version or sklearn.__version__
    if ".".join(version.split(".")[:2]) not in TESTED_SKLEARN:
        raise FmnistError(
            f"scikit-learn {version} is untested with this project's MLP patches (float32 Adam, "
            f"the per-iteration hook; tested on {', '.join(TESTED_SKLEARN)}): install the "
            "version in requirements.lock, or test the patches on yours and add it to "
            "TESTED_SKLEARN in src/fmnist/sklearn_mlp.py"
        )


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
    the property below swaps its Adam for ``Float32Adam`` there.
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


def flatten(x: np.ndarray) -> np.ndarray:
    """(N, 28, 28) images as the (N, 784) float32 rows sklearn fits on, without a float64 copy."""
    return np.ascontiguousarray(x.reshape(len(x), -1), dtype=np.float32)


def sklearn_kwargs(p: MLPParams) -> dict:
    """The mlp params that are MLPClassifier's own keyword arguments: all but the switch and mlp.torch."""
    return {k: v for k, v in dataclasses.asdict(p).items() if k not in ("impl", "torch")}


def fit_mlp(x: np.ndarray, y: np.ndarray, p: MLPParams, seed: int,
            on_iteration: Callable[[MLPClassifier], None] | None = None) -> tuple[MLPClassifier, float]:  # fmt: skip
    """Fit on (N, 28, 28) images; returns the estimator and its fit seconds."""
    check_sklearn_version()
    clf = ReportingMLPClassifier(**sklearn_kwargs(p), random_state=seed)
    clf.on_iteration = on_iteration
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # reported as `converged` instead
        start = time.perf_counter()
        clf.fit(flatten(x), y)
        seconds = time.perf_counter() - start
    return clf, seconds


def weights_of(clf: MLPClassifier) -> MLPWeights:
    return MLPWeights(tuple(clf.coefs_), tuple(clf.intercepts_), clf.activation)
