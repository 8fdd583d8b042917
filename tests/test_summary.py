"""fmnist-summary: mean ± std across experiments, from rows as dvc.api.exp_show gives them."""

from __future__ import annotations

import json
import sys
import time

import pytest

from dvcrepo import make_repo, run
from fmnist.summarize import collect, mean_std, summarise, to_markdown


def row(name, seed, mlp, cnn):
    return {"Experiment": name, "rev": name, "seed": seed,
            "metrics/metrics.json:mlp.accuracy": mlp, "metrics/metrics.json:cnn.accuracy": cnn,
            "metrics/metrics.json:cnn_minus_mlp.accuracy": cnn - mlp}  # fmt: skip


def test_mean_and_sample_standard_deviation():
    assert mean_std([0.88, 0.90, 0.92]) == (pytest.approx(0.90), pytest.approx(0.02))
    assert mean_std([0.9]) == (0.9, 0.0)


def test_collect_skips_the_workspace_and_unfinished_runs():
    rows = [row("workspace", 0, 0.89, 0.92) | {"rev": "workspace"}, row("a", 1, 0.88, 0.91),
            {"Experiment": "queued", "rev": "q", "seed": 2}]  # fmt: skip
    assert [r["Experiment"] for r in collect(rows, None)] == ["a"]
    assert collect(rows, ["zzz"]) == []


def test_summary_table_has_means_stds_and_the_study():
    summary = summarise([row("a", 0, 0.88, 0.91), row("b", 1, 0.90, 0.93)])
    assert summary["seeds"] == [0, 1] and summary["runs"] == 2
    assert summary["models"]["cnn"]["accuracy"]["mean"] == pytest.approx(0.92)
    table = to_markdown(summary)
    assert "| accuracy (%) | 89.000 ± 1.414 | 92.000 ± 1.414 | 89.04 | 92.01 |" in table
    assert "CNN minus MLP accuracy: +3.00 ± 0.00 points" in table


@pytest.mark.slow
def test_summary_of_a_queued_seed_sweep(tmp_path, real_raw):
    repo = make_repo(tmp_path, real_raw)
    run(repo, "dvc", "repro")
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-qm", "baseline")
    run(repo, "dvc", "exp", "run", "--queue", "-S", "seed=1,2")
    run(repo, "dvc", "queue", "start", "-j", "1")
    deadline = time.monotonic() + 400
    while time.monotonic() < deadline:
        status = run(repo, "dvc", "queue", "status").stdout
        if "Queued" not in status and "Running" not in status:
            break
        time.sleep(3)
    assert status.count("Success") == 2, status
    out = tmp_path / "summary"
    run(repo, sys.executable, "-m", "fmnist.summarize", "--repo", str(repo), "--out", str(out))
    summary = json.loads(out.with_suffix(".json").read_text())
    assert summary["runs"] == 3 and summary["seeds"] == [0, 1, 2]
    assert len(summary["models"]["cnn"]["accuracy"]["values"]) == 3
    assert out.with_suffix(".png").read_bytes()[:4] == b"\x89PNG"
