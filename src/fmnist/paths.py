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
MACHINE_FILE = "machine.json"  # beside DVCLive's summary, undeclared: where and how a model trained, in words

METRICS = Path("metrics/metrics.json")  # the declared headline
DETAILS = Path("metrics/details.json")  # per-class scores, counts, sizes, inference speed
REPORT = Path("metrics/report.md")
ROBUSTNESS = Path("metrics/robustness.json")  # the declared headline of the robustness stage
EXPORT_CHECK = Path("metrics/export.json")  # ONNX against PyTorch on the test set
PLOTS_DIR = Path("plots")

CHECKPOINT_DIR = Path(".cache/checkpoints")  # train_cnn's resume state, outside DVC's outputs
