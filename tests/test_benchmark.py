"""The benchmark measures what it names: after `dvc exp run` left a recipe's params in the
workspace, both sides still train the study's LeNet, and the report says what each trained."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
import yaml

from fmnist.params import override
from fmnist.recipes import load_recipe

from conftest import REPO

pytestmark = pytest.mark.slow


def clone_of_this_checkout(tmp_path):
    """A clone of the repository with this checkout's code, recipes and benchmarks, committed or not."""
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
    for folder in ("src", "benchmarks", "recipes"):
        shutil.copytree(REPO / folder, clone / folder, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "results"))  # fmt: skip
    return clone


def test_after_a_recipe_was_applied_both_sides_train_the_studys_model(tmp_path, real_raw):
    clone = clone_of_this_checkout(tmp_path)
    applied = override(
        yaml.safe_load((clone / "params.yaml").read_text()), load_recipe("speed92", REPO / "recipes").params
    )
    applied["data"]["sources"] = [str(real_raw)]
    (clone / "params.yaml").write_text(yaml.safe_dump(applied, sort_keys=False))  # as `dvc exp apply` leaves it

    out = tmp_path / "results"
    result = subprocess.run([sys.executable, "benchmarks/run.py", "--train-size", "1000", "--max-iter", "2",
                             "--epochs", "1", "--out", str(out)], cwd=clone, capture_output=True, text=True,
                            env={"PATH": str(REPO / ".venv" / "bin") + ":/usr/bin:/bin", "PYTHONPATH": str(clone / "src")})  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    report = json.loads((out / "capped.json").read_text())
    study, ours = report["cnn_trained"]["study"], report["cnn_trained"]["ours"]
    assert (ours["arch"], ours["precision"], ours["batch_size"], ours["epochs"]) == ("lenet", "fp32", 64, 1)
    assert (study["arch"], study["batch_size"]) == ("lenet", 64)
    mflop = report["training_mflop_per_image"]
    assert mflop["study"] == pytest.approx(mflop["ours"]) and 30 < mflop["ours"] < 40  # the LeNet's 35.9
    markdown = (out / "capped.md").read_text()
    assert "CNN trained: study lenet (fp32, batch 64, 1 epochs), ours lenet (fp32, batch 64, 1 epochs)." in markdown
    assert "Machine: " in markdown and "different models" not in markdown


def test_the_onednn_report_names_each_convolutions_kernel_and_counts_activation_reorders(tmp_path):
    """`python benchmarks/onednn_kernels.py speed92`, as benchmarks/README.md has it for speed94."""
    clone = clone_of_this_checkout(tmp_path)
    env = {"PATH": str(REPO / ".venv" / "bin") + ":/usr/bin:/bin", "PYTHONPATH": str(clone / "src")}
    run = lambda *args: subprocess.run([sys.executable, "benchmarks/onednn_kernels.py", *args], cwd=clone,  # noqa: E731
                                       capture_output=True, text=True, env=env)  # fmt: skip
    result = run("speed92")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    report = (clone / "benchmarks" / "results" / "onednn_speed92.md").read_text()
    rows = [line for line in report.splitlines() if line.startswith("| mb256_")]
    passes = {row.split(" | ")[1] for row in rows}
    assert {"forward", "backward_data", "backward_weights"} <= passes and all("`" in row for row in rows)
    assert "Reorders of activations in the step: " in report and "torch " in report.splitlines()[0]
    refused = run("speed9")
    assert refused.returncode != 0 and "recipes/speed9.yaml: no such recipe" in refused.stderr
