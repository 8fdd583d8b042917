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


def test_after_a_recipe_was_applied_both_sides_train_the_studys_model(tmp_path, real_raw):
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
    for folder in ("src", "benchmarks"):  # this checkout's code, committed or not
        shutil.copytree(REPO / folder, clone / folder, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "results"))  # fmt: skip
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
