"""The report's sentence follows the numbers: who wins, or that nobody does."""

from fmnist.report import significance_sentence


def pair(diff, p, cnn_only=30, mlp_only=10):
    return {"accuracy": diff, "accuracy_low": diff - 0.005, "accuracy_high": diff + 0.005, "mcnemar_p": p,
            "cnn_only_correct": cnn_only, "mlp_only_correct": mlp_only}  # fmt: skip


def test_a_significant_positive_difference_says_the_cnn_is_better():
    text = significance_sentence(pair(0.0227, 1.5e-9))
    assert text.startswith("The CNN is better than the MLP on this split")
    assert "p = 1.5e-09" in text and "+2.27 points [95 % CI +1.77, +2.77]" in text


def test_a_significant_negative_difference_says_the_mlp_is_better():
    assert significance_sentence(pair(-0.03, 0.001, 5, 40)).startswith("The MLP is better than the CNN")


def test_a_large_p_value_says_no_significant_difference():
    assert significance_sentence(pair(0.002, 0.4)).startswith("No significant difference")
