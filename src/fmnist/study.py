"""The study this repository reproduces: its published figures, for comparison only."""

# Test accuracy (%) the study reported for its single runs; drawn beside ours, never a result.
STUDY_ACCURACY = {"mlp": 89.04, "cnn": 92.01}
STUDY_GAP = round(STUDY_ACCURACY["cnn"] - STUDY_ACCURACY["mlp"], 2)

# Figures from elsewhere that a page may quote in prose, each (value, unit) with its source.
PUBLISHED = {
    (83.5, "%"): "human accuracy on Fashion-MNIST (Xiao, Rasul and Vollgraf 2017)",
}
