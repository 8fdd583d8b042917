"""Pure functions from labels and predictions to numbers; no files, no models."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import confusion_matrix, f1_score

from fmnist.data import CLASS_NAMES, NUM_CLASSES


def confusion(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """10x10 counts, rows = true class, columns = predicted class."""
    return confusion_matrix(y_true, y_pred, labels=np.arange(NUM_CLASSES))


def per_class_accuracy(cm: np.ndarray) -> np.ndarray:
    """Fraction of each true class predicted correctly (recall); NaN for an absent class."""
    totals = cm.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.diag(cm) / totals


def model_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict:
    """Accuracy, macro F1 and per-class accuracy, rounded for a readable, diffable JSON."""
    cm = confusion(y_true, y_pred)
    per_class = per_class_accuracy(cm)
    return {
        "accuracy": round(float(np.mean(y_true == y_pred)), 6),
        "macro_f1": round(float(f1_score(y_true, y_pred, average="macro",
                                         labels=np.arange(NUM_CLASSES), zero_division=0)), 6),
        "per_class_accuracy": {
            name: round(float(a), 6) for name, a in zip(CLASS_NAMES, per_class, strict=True) if np.isfinite(a)
        },
        "errors": int(np.sum(y_true != y_pred)),
    }  # fmt: skip


def confusion_difference(cm_cnn: np.ndarray, cm_mlp: np.ndarray) -> np.ndarray:
    """CNN minus MLP counts, the study's difference matrix."""
    return cm_cnn.astype(np.int64) - cm_mlp.astype(np.int64)


def favours_cnn(diff: np.ndarray) -> np.ndarray:
    """Signed credit per cell: > 0 where the CNN does better, < 0 where the MLP does.

    On the diagonal more correct predictions are better (+diff); off it, fewer mistakes are
    better (-diff). The study read this backwards; this function is the reading rule.
    """
    credit = -diff.astype(np.int64)
    np.fill_diagonal(credit, np.diag(diff))
    return credit
