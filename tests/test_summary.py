"""fmnist summary: mean ± std across experiments, from rows as dvc.api.exp_show gives them."""

from __future__ import annotations

import json
import sys
import time

import pytest

from dvcrepo import copy_repo, run
from fmnist.tools.expdata import param_keys
from fmnist.tools.summarize import (
    by_recipe,
    collect,
    mean_std,
    recipe_markdown,
    summarise,
    to_markdown,
)


def row(name, seed, mlp, cnn):
    return {"Experiment": name, "rev": name, "seed": seed,
            "metrics/metrics.json:mlp.accuracy": mlp, "metrics/metrics.json:cnn.accuracy": cnn,
            "metrics/metrics.json:cnn_minus_mlp.accuracy": cnn - mlp}  # fmt: skip


def test_mean_and_sample_standard_deviation():
    assert mean_std([0.88, 0.90, 0.92]) == (pytest.approx(0.90), pytest.approx(0.02))
    assert mean_std([0.9]) == (0.9, 0.0)


def test_collect_skips_the_workspace_and_unfinished_runs():
    rows = [row("workspace", 0, 0.89, 0.92) | {"rev": "workspace"}, row("a", 1, 0.88, 0.91),
            {"Experiment": "queued", "rev": "q", "seed": 2},
            row("running", 3, 0.89, 0.92) | {"State": "Running"}]  # fmt: skip
    picked, missing = collect(rows, None)
    assert [r["Experiment"] for r in picked] == ["a"] and missing == []


def test_named_experiments_that_are_absent_or_unfinished_are_reported_missing():
    rows = [row("a", 1, 0.88, 0.91), row("running", 3, 0.89, 0.92) | {"State": "Running"}]
    picked, missing = collect(rows, ["a", "running", "never-pushed"])
    assert [r["Experiment"] for r in picked] == ["a"]
    assert missing == ["running", "never-pushed"]
    assert "Missing, not averaged: running, never-pushed." in to_markdown(summarise(picked, missing))


def test_param_keys_name_every_leaf_of_params_yaml():
    keys = param_keys()
    assert {"seed", "cnn.arch", "cnn.epochs", "mlp.hidden_layer_sizes", "evaluate.tta_flip"} <= set(keys)
    assert "cnn" not in keys


def test_an_ablation_groups_seeds_and_labels_each_step_by_what_it_adds():
    def run_(seed, arch, epochs, acc):
        return {
            "seed": float(seed),
            "cnn.arch": arch,
            "cnn.epochs": float(epochs),
            "cnn.device": "auto",
            "metrics/metrics.json:cnn.accuracy": acc,
            "dvclive/train_cnn/metrics.json:train_seconds": 60.0,
        }

    rows = [
        run_(0, "lenet", 15, 0.91),
        run_(1, "lenet", 15, 0.93),  # the commit row comes first
        run_(0, "lenet_bn", 30, 0.94),
        run_(0, "lenet_bn", 15, 0.92),
        run_(1, "lenet_bn", 15, 0.94),
    ]
    table = by_recipe(rows, ["seed", "cnn.arch", "cnn.epochs", "cnn.device"])
    assert [(t["change"], t["runs"], t["seeds"]) for t in table] == [
        ("baseline", 2, ["0", "1"]),
        ("cnn.arch=lenet_bn", 2, ["0", "1"]),
        ("cnn.epochs=30", 1, ["0"]),
    ]
    assert table[1]["cnn.accuracy"]["mean"] == pytest.approx(0.93)
    assert "| 1 | cnn.arch=lenet_bn | 0, 1 | 93.00 ± 1.41 | 60 ± 0 |" in recipe_markdown(table)


def test_summary_table_has_means_stds_and_the_study():
    summary = summarise([row("a", 0, 0.88, 0.91), row("b", 1, 0.90, 0.93)])
    assert summary["seeds"] == [0, 1] and summary["runs"] == 2
    assert summary["models"]["cnn"]["accuracy"]["mean"] == pytest.approx(0.92)
    table = to_markdown(summary)
    assert "| accuracy (%) | 89.000 ± 1.414 | 92.000 ± 1.414 | 89.04 | 92.01 |" in table
    assert "CNN minus MLP accuracy: +3.00 ± 0.00 points" in table


@pytest.mark.slow
def test_summary_of_a_queued_seed_sweep(tmp_path, reproduced_template):
    repo = copy_repo(reproduced_template[0], tmp_path / "repo")
    run(repo, "dvc", "exp", "run", "--queue", "-S", "seed=1")
    run(repo, "dvc", "queue", "start", "-j", "1")
    deadline = time.monotonic() + 400
    while time.monotonic() < deadline:
        status = run(repo, "dvc", "queue", "status").stdout
        if "Queued" not in status and "Running" not in status:
            break
        time.sleep(3)
    assert status.count("Success") == 1, status
    out = tmp_path / "summary"
    run(repo, sys.executable, "-m", "fmnist.tools.summarize", "--repo", str(repo), "--out", str(out))
    summary = json.loads(out.with_suffix(".json").read_text())
    assert summary["runs"] == 2 and summary["seeds"] == [0, 1]
    assert len(summary["models"]["cnn"]["accuracy"]["values"]) == 2
    assert out.with_suffix(".png").read_bytes()[:4] == b"\x89PNG"

    run(repo, "git", "commit", "-q", "--allow-empty", "-m", "a later commit")
    run(repo, sys.executable, "-m", "fmnist.tools.summarize", "--repo", str(repo), "--out", str(out),
        "--rev", "HEAD~1", "HEAD")  # fmt: skip
    assert json.loads(out.with_suffix(".json").read_text())["runs"] == 3  # two baselines, one experiment
