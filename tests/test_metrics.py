"""Metric functions, checked against values worked out by hand."""

import numpy as np
import pytest

from fmnist.classes import CLASS_NAMES
from fmnist.metrics import (
    calibration_bins,
    confusion,
    confusion_difference,
    expected_calibration_error,
    favours_cnn,
    mcnemar_exact,
    model_details,
    model_headline,
    negative_log_likelihood,
    pair_details,
    pair_headline,
    paired_bootstrap_interval,
    per_class_scores,
    top_confusions,
    wilson_interval,
)


def test_confusion_rows_are_true_classes_and_columns_predictions():
    cm = confusion(np.array([0, 0, 1]), np.array([0, 1, 1]))
    assert cm[0, 0] == 1 and cm[0, 1] == 1 and cm[1, 1] == 1 and cm.sum() == 3
    assert cm.shape == (10, 10)


def test_model_metrics_by_hand():
    y = np.array([0, 0, 1, 1])
    pred = np.array([0, 1, 1, 1])
    proba = np.full((4, 10), 0.1)
    m = model_headline(y, pred, proba) | model_details(y, pred)
    assert m["accuracy"] == 0.75 and m["errors"] == 1
    # class 0: P=1, R=0.5, F1=2/3; class 1: P=2/3, R=1, F1=0.8; absent classes score 0 in the
    # macro average over all ten labels.
    assert m["macro_f1"] == round((2 / 3 + 0.8) / 10, 6)
    assert m["macro_precision"] == round((1 + 2 / 3) / 10, 6)
    assert m["macro_recall"] == round((0.5 + 1) / 10, 6)
    assert m["per_class"][CLASS_NAMES[0]]["recall"] == 0.5
    low, high = wilson_interval(3, 4)
    assert (m["accuracy_low"], m["accuracy_high"]) == (round(low, 6), round(high, 6))
    assert m["nll"] == round(np.log(10), 6)


def test_pair_metrics_name_which_model_is_right_alone():
    y = np.array([0, 1, 2, 3, 4])
    mlp = np.array([0, 1, 9, 9, 9])
    cnn = np.array([0, 9, 2, 3, 9])
    pair = pair_headline(y, mlp, cnn, bootstrap_samples=200, seed=0) | pair_details(y, mlp, cnn)
    assert pair["accuracy"] == 0.2 and 0 < pair["mcnemar_p"] <= 1
    assert pair["mlp_only_correct"] == 1 and pair["cnn_only_correct"] == 2
    assert pair["per_class_f1"]["Trouser"] == -1.0 and pair["per_class_f1"]["Pullover"] == 1.0


def test_difference_is_cnn_minus_mlp():
    y = np.array([4, 4, 4])
    diff = confusion_difference(confusion(y, np.array([4, 4, 2])), confusion(y, np.array([2, 2, 4])))
    assert diff[4, 4] == 1 and diff[4, 2] == -1


def test_a_negative_off_diagonal_cell_favours_the_cnn():
    # The study's misreading: -45 at (Pullover, Coat) means the CNN made 45 fewer of that mistake.
    diff = np.zeros((10, 10), dtype=int)
    diff[2, 4] = -45
    diff[2, 2] = 45
    diff[6, 0] = 7  # the CNN calls shirts T-shirts 7 times more: favours the MLP
    credit = favours_cnn(diff)
    assert credit[2, 4] == 45 and credit[2, 2] == 45 and credit[6, 0] == -7


# ----------------------------------------------------------------------------- statistics


def test_wilson_interval_matches_newcombe_1998():
    # Newcombe (1998), Statistics in Medicine 17:857, example 81/263: Wilson 0.2553 to 0.3662.
    low, high = wilson_interval(81, 263)
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)


def test_wilson_interval_stays_inside_0_1_at_the_edges():
    low, high = wilson_interval(10, 10)
    assert high == pytest.approx(1.0) and 0.69 < low < 0.73  # 10/10: (0.7225, 1)


def test_mcnemar_exact_by_hand():
    # 2 items only A gets right, 8 only B: two-sided p = 2 * P(X <= 2 | n=10, 1/2) = 112/1024.
    a = np.array([True] * 2 + [False] * 8 + [True] * 5)
    b = np.array([False] * 2 + [True] * 8 + [True] * 5)
    assert mcnemar_exact(a, b) == {"only_a": 2, "only_b": 8, "p_value": pytest.approx(112 / 1024)}


def test_mcnemar_with_no_discordant_pairs_is_p_1():
    same = np.array([True, False, True])
    assert mcnemar_exact(same, same)["p_value"] == 1.0


def test_paired_bootstrap_is_seeded_and_matches_the_normal_approximation():
    rng = np.random.default_rng(0)
    a = rng.random(4000) < 0.88
    b = a.copy()
    flip = rng.random(4000) < 0.08
    b[flip] = rng.random(flip.sum()) < 0.7
    first = paired_bootstrap_interval(a, b, samples=2000, seed=3)
    assert first == paired_bootstrap_interval(a, b, samples=2000, seed=3)
    d = b.astype(float) - a
    half = 1.96 * d.std() / np.sqrt(len(d))
    assert first[0] == pytest.approx(d.mean() - half, abs=0.25 * half)
    assert first[1] == pytest.approx(d.mean() + half, abs=0.25 * half)


def test_nll_of_uniform_probabilities_is_log_10():
    proba = np.full((4, 10), 0.1)
    assert negative_log_likelihood(np.array([0, 3, 5, 9]), proba) == pytest.approx(np.log(10))


def test_ece_of_a_confident_underconfident_model():
    # Every prediction at confidence 0.9 and right: |1.0 - 0.9| = 0.1 in the only bin used.
    proba = np.full((10, 10), 0.1 / 9)
    proba[:, 3] = 0.9
    assert expected_calibration_error(np.full(10, 3), proba) == pytest.approx(0.1)


def test_ece_weights_bins_by_count():
    proba = np.full((4, 10), 0.0)
    proba[:2, 0] = 1.0  # two at confidence 1.0, one right: gap 0.5, weight 2/4
    proba[2:, 1], proba[2:, 2] = 0.6, 0.4  # two at 0.6, both right: gap 0.4, weight 2/4
    y = np.array([0, 5, 1, 1])
    assert expected_calibration_error(y, proba) == pytest.approx(0.5 * 0.5 + 0.5 * 0.4)
    assert [b["count"] for b in calibration_bins(y, proba)] == [2, 2]


def test_per_class_scores_by_hand():
    scores = per_class_scores(np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1]))
    assert scores[CLASS_NAMES[0]] == {"precision": 1.0, "recall": 0.5, "f1": round(2 / 3, 6), "support": 2}
    assert scores[CLASS_NAMES[1]] == {"precision": round(2 / 3, 6), "recall": 1.0, "f1": 0.8, "support": 2}
    assert set(scores) == {CLASS_NAMES[0], CLASS_NAMES[1]}  # absent classes are left out


def test_top_confusions_count_what_the_other_model_gets_right():
    y = np.array([2, 2, 2, 6, 6])
    pred = np.array([4, 4, 2, 0, 6])
    other = np.array([2, 4, 2, 6, 6])
    top = top_confusions(y, pred, other, k=2)
    assert top[0] == {"true": "Pullover", "predicted": "Coat", "count": 2, "other_model_right": 1}
    assert top[1] == {"true": "Shirt", "predicted": "T-shirt/top", "count": 1, "other_model_right": 1}
