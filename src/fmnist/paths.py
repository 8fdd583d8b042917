"""Every file the pipeline reads or writes, named once; dvc.yaml declares the same paths.

Relative to the repository root, where DVC runs the stages.
"""

from pathlib import Path

RAW_DIR = Path("data/raw")
PREPARED_DIR = Path("data/prepared")
DATASET_STATS = Path("metrics/dataset.json")

MLP_MODEL = Path("models/mlp.safetensors")
CNN_MODEL = Path("models/cnn.safetensors")
MLP_ONNX = Path("models/mlp.onnx")
CNN_ONNX = Path("models/cnn.onnx")

MLP_LIVE = Path("dvclive/train_mlp")  # DVCLive: metrics.json (last step) and plots/metrics/*.tsv
CNN_LIVE = Path("dvclive/train_cnn")
# Where and how each model trained, in words (family, CPU, device, precision): beside the
# declared summary, not in it; in the DVC cache, so the training stages keep their run cache.
MLP_MACHINE = MLP_LIVE / "machine.json"
CNN_MACHINE = CNN_LIVE / "machine.json"

METRICS = Path("metrics/metrics.json")  # the declared headline
DETAILS = Path("metrics/details.json")  # per-class scores, counts, sizes, inference speed
REPORT = Path("metrics/report.md")
ROBUSTNESS = Path("metrics/robustness.json")  # the declared headline of the robustness stage
EXPORT_CHECK = Path("metrics/export.json")  # ONNX against PyTorch on the test set
PLOTS_DIR = Path("plots")

CHECKPOINT_DIR = Path(".cache/checkpoints")  # train_cnn's resume state, outside DVC's outputs
