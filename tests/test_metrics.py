"""Metric functions, checked against values worked out by hand."""

import numpy as np

from fmnist.data import CLASS_NAMES
from fmnist.metrics import (
    confusion,
    confusion_difference,
    favours_cnn,
    model_metrics,
    per_class_accuracy,
)


def test_confusion_rows_are_true_classes_and_columns_predictions():
    cm = confusion(np.array([0, 0, 1]), np.array([0, 1, 1]))
    assert cm[0, 0] == 1 and cm[0, 1] == 1 and cm[1, 1] == 1 and cm.sum() == 3
    assert cm.shape == (10, 10)


def test_model_metrics_by_hand():
    y = np.array([0, 0, 1, 1])
    pred = np.array([0, 1, 1, 1])
    m = model_metrics(y, pred)
    assert m["accuracy"] == 0.75 and m["errors"] == 1
    # class 0: P=1, R=0.5, F1=2/3; class 1: P=2/3, R=1, F1=0.8; absent classes score 0 in the
    # macro average over all ten labels.
    assert m["macro_f1"] == round((2 / 3 + 0.8) / 10, 6)
    assert m["per_class_accuracy"] == {CLASS_NAMES[0]: 0.5, CLASS_NAMES[1]: 1.0}


def test_per_class_accuracy_is_nan_for_a_class_with_no_images():
    cm = np.zeros((10, 10), dtype=int)
    cm[2, 2] = 3
    acc = per_class_accuracy(cm)
    assert acc[2] == 1.0 and np.isnan(acc[0])


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
