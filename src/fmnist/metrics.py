"""Pure functions from labels and predictions to numbers; no files, no models."""

from __future__ import annotations

import numpy as np
from scipy.stats import binomtest
from sklearn.metrics import confusion_matrix, f1_score, log_loss, precision_recall_fscore_support

from fmnist.classes import CLASS_NAMES, NUM_CLASSES


def confusion(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """10x10 counts, rows = true class, columns = predicted class."""
    return confusion_matrix(y_true, y_pred, labels=np.arange(NUM_CLASSES))


def model_headline(y_true: np.ndarray, y_pred: np.ndarray, proba: np.ndarray) -> dict:
    """One model's headline numbers, rounded for a readable, diffable JSON: what a person
    compares between runs (its interval is a detail: it follows from accuracy and count)."""
    macro_f1 = f1_score(y_true, y_pred, average="macro", labels=np.arange(NUM_CLASSES), zero_division=0)
    return {
        "accuracy": round(float(np.mean(y_true == y_pred)), 6),
        "macro_f1": round(float(macro_f1), 6),
        "nll": round(negative_log_likelihood(y_true, proba), 6),
        "ece": round(expected_calibration_error(y_true, proba), 6),
    }


def model_details(y_true: np.ndarray, y_pred: np.ndarray) -> dict:
    """What stays out of the headline: the accuracy's 95 % Wilson interval, error count,
    macro precision and recall, per class.

    Per class, ``recall`` is the per-class accuracy (the share of that class found).
    """
    macro_p, macro_r, _, _ = precision_recall_fscore_support(
        y_true, y_pred, labels=np.arange(NUM_CLASSES), average="macro", zero_division=0
    )
    low, high = wilson_interval(int(np.sum(y_true == y_pred)), len(y_true))
    return {
        "accuracy_low": round(low, 6),
        "accuracy_high": round(high, 6),
        "errors": int(np.sum(y_true != y_pred)),
        "macro_precision": round(float(macro_p), 6),
        "macro_recall": round(float(macro_r), 6),
        "per_class": per_class_scores(y_true, y_pred),
    }


def pair_headline(y_true: np.ndarray, pred_mlp: np.ndarray, pred_cnn: np.ndarray, *,
                  bootstrap_samples: int, seed: int) -> dict:  # fmt: skip
    """CNN minus MLP on the same images: the difference, its 95 % paired-bootstrap interval
    and McNemar's exact p-value."""
    right_mlp, right_cnn = pred_mlp == y_true, pred_cnn == y_true
    low, high = paired_bootstrap_interval(right_mlp, right_cnn, samples=bootstrap_samples, seed=seed)
    return {
        "accuracy": round(float(right_cnn.mean() - right_mlp.mean()), 6),
        "accuracy_low": round(low, 6),
        "accuracy_high": round(high, 6),
        "mcnemar_p": float(f"{mcnemar_exact(right_mlp, right_cnn)['p_value']:.6g}"),
    }


def pair_details(y_true: np.ndarray, pred_mlp: np.ndarray, pred_cnn: np.ndarray) -> dict:
    """McNemar's discordant counts and the per-class F1 difference, CNN minus MLP."""
    test = mcnemar_exact(pred_mlp == y_true, pred_cnn == y_true)
    f1_mlp, f1_cnn = per_class_scores(y_true, pred_mlp), per_class_scores(y_true, pred_cnn)
    return {
        "mlp_only_correct": test["only_a"],
        "cnn_only_correct": test["only_b"],
        "per_class_f1": {name: round(f1_cnn[name]["f1"] - f1_mlp[name]["f1"], 6)
                         for name in f1_mlp if name in f1_cnn},
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


# ----------------------------------------------------------------------------- uncertainty


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion (scipy's implementation)."""
    ci = binomtest(int(successes), int(n)).proportion_ci(confidence_level=confidence, method="wilson")
    return float(ci.low), float(ci.high)


def mcnemar_exact(correct_a: np.ndarray, correct_b: np.ndarray) -> dict:
    """McNemar's exact test on paired right/wrong outcomes: a two-sided binomial test of the
    discordant pairs. ``only_a`` counts items only model A gets right; ``only_b`` the reverse."""
    only_a = int(np.sum(correct_a & ~correct_b))
    only_b = int(np.sum(~correct_a & correct_b))
    p = 1.0 if only_a + only_b == 0 else binomtest(only_a, only_a + only_b, 0.5).pvalue
    return {"only_a": only_a, "only_b": only_b, "p_value": float(p)}


def paired_bootstrap_interval(correct_a: np.ndarray, correct_b: np.ndarray, *, samples: int,
                              seed: int, confidence: float = 0.95) -> tuple[float, float]:  # fmt: skip
    """Percentile interval of accuracy(B) - accuracy(A), resampling test items in pairs."""
    diff = correct_b.astype(np.int8) - correct_a.astype(np.int8)
    rng = np.random.default_rng(seed)
    n = len(diff)
    means = np.concatenate([
        diff[rng.integers(0, n, size=(min(256, samples - start), n))].mean(axis=1)
        for start in range(0, samples, 256)
    ])  # fmt: skip
    tail = 100 * (1 - confidence) / 2
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(low), float(high)


# ----------------------------------------------------------------------------- probabilities


def negative_log_likelihood(y_true: np.ndarray, proba: np.ndarray) -> float:
    """Mean cross-entropy of the true class (sklearn's log_loss)."""
    return float(log_loss(y_true, proba, labels=np.arange(proba.shape[1])))


def calibration_bins(y_true: np.ndarray, proba: np.ndarray, n_bins: int = 15) -> list[dict]:
    """Top-class confidence in equal-width bins: per bin count, mean confidence, accuracy."""
    confidence = proba.max(axis=1)
    correct = proba.argmax(axis=1) == y_true
    index = np.clip(np.ceil(confidence * n_bins).astype(int) - 1, 0, n_bins - 1)  # (lo, hi]
    bins = []
    for b in range(n_bins):
        mask = index == b
        if mask.any():
            bins.append({"upper": (b + 1) / n_bins, "count": int(mask.sum()),
                         "confidence": float(confidence[mask].mean()),
                         "accuracy": float(correct[mask].mean())})  # fmt: skip
    return bins


def expected_calibration_error(y_true: np.ndarray, proba: np.ndarray, n_bins: int = 15) -> float:
    """ECE: the count-weighted mean |accuracy - confidence| over equal-width bins."""
    bins = calibration_bins(y_true, proba, n_bins)
    return float(sum(b["count"] * abs(b["accuracy"] - b["confidence"]) for b in bins) / len(y_true))


def per_class_scores(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, dict[str, float]]:
    """Precision, recall (= per-class accuracy), F1 and image count of each class, by name."""
    p, r, f, support = precision_recall_fscore_support(y_true, y_pred, labels=np.arange(NUM_CLASSES), zero_division=0)
    return {
        name: {
            "precision": round(float(p[i]), 6),
            "recall": round(float(r[i]), 6),
            "f1": round(float(f[i]), 6),
            "support": int(support[i]),
        }  # fmt: skip
        for i, name in enumerate(CLASS_NAMES)
        if support[i]
    }


def top_confusions(y_true: np.ndarray, pred: np.ndarray, other: np.ndarray, k: int = 3) -> list[dict]:
    """The k most frequent mistakes of ``pred``, each with how many of those images ``other`` gets right."""
    cm = confusion(y_true, pred)
    np.fill_diagonal(cm, 0)
    order = np.argsort(cm, axis=None, kind="stable")[::-1][:k]
    out = []
    for flat in order:
        t, p = np.unravel_index(flat, cm.shape)
        if cm[t, p] == 0:
            break
        mask = (y_true == t) & (pred == p)
        out.append({"true": CLASS_NAMES[t], "predicted": CLASS_NAMES[p], "count": int(cm[t, p]),
                    "other_model_right": int(np.sum(other[mask] == t))})  # fmt: skip
    return out
