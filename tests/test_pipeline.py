"""The pipeline under DVC itself: a copy of this repository, a small slice, real commands."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from dvcrepo import STAGES, dvc_env, make_repo, run, stages_run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def reproduced(tmp_path_factory, real_raw) -> tuple[Path, str]:
    repo = make_repo(tmp_path_factory.mktemp("e2e"), real_raw)
    result = run(repo, "dvc", "repro")
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-qm", "repro")
    return repo, result.stdout


def test_repro_runs_every_stage_and_writes_every_declared_output(reproduced):
    repo, output = reproduced
    assert stages_run(output) == set(STAGES)
    declared = yaml.safe_load((repo / "dvc.yaml").read_text())["stages"]
    for name, stage in declared.items():
        for out in stage["outs"]:
            path = out if isinstance(out, str) else next(iter(out))
            assert (repo / path).exists(), f"{name} did not write {path}"


def test_repro_metrics_are_sane_and_shown_by_dvc(reproduced):
    repo, _ = reproduced
    shown = json.loads(run(repo, "dvc", "metrics", "show", "--json").stdout)
    metrics = shown[""]["data"]["metrics/metrics.json"]["data"]
    for model in ("mlp", "cnn"):
        assert 0.3 < metrics[model]["accuracy"] <= 1.0
    assert "metrics/timing.json" in shown[""]["data"]


def test_a_second_repro_has_nothing_to_do(reproduced):
    repo, _ = reproduced
    assert stages_run(run(repo, "dvc", "repro").stdout) == set()
    assert "up to date" in run(repo, "dvc", "status").stdout


def test_plots_show_renders_every_declared_plot(reproduced):
    repo, _ = reproduced
    run(repo, "dvc", "plots", "show", "-o", "dvc_plots")
    html = (repo / "dvc_plots" / "index.html").read_text()
    titles = ("Training loss", "Validation accuracy", "Confusion matrix, MLP", "Confusion matrix, CNN",
              "Per-class accuracy (recall), MLP vs CNN")  # fmt: skip
    for title in titles:
        assert title in html, title
    assert "confusion_difference.png" in html


@pytest.mark.parametrize(
    "change, expected",
    [("cnn.epochs=2", {"train_cnn", "evaluate"}), ("mlp.alpha=0.001", {"train_mlp", "evaluate"})],
)
def test_an_experiment_reruns_only_the_stages_that_read_the_param(reproduced, change, expected):
    repo, _ = reproduced
    result = run(repo, "dvc", "exp", "run", "-S", change)
    assert stages_run(result.stdout) == expected


def test_exp_show_lists_both_accuracies_and_the_params(reproduced):
    repo, _ = reproduced
    rows = run(repo, "dvc", "exp", "show", "--csv").stdout.splitlines()
    header = rows[0].split(",")
    for column in ("mlp.accuracy", "cnn.accuracy", "cnn.epochs", "mlp.alpha"):
        assert any(c.endswith(column) for c in header), (column, header)


def test_setting_a_param_that_does_not_exist_is_refused(reproduced):
    repo, _ = reproduced
    result = run(repo, "dvc", "exp", "run", "-S", "cnn.epochz=2", check=False)
    assert result.returncode != 0
    assert "cnn.epochz" in result.stdout + result.stderr


def test_repro_recovers_after_being_killed_mid_training(tmp_path, real_raw):
    repo = make_repo(tmp_path, real_raw)
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["prepare"]["train_size"] = 3000
    params["cnn"].update(epochs=3, batch_size=64)
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    proc = subprocess.Popen(["dvc", "repro"], cwd=repo, env=dvc_env(repo, PYTHONUNBUFFERED="1"), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)  # fmt: skip
    for line in proc.stdout:
        if "epoch   1/3" in line:
            break
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (repo / "models/cnn.safetensors").exists()

    result = run(repo, "dvc", "repro")
    assert "train_cnn" in stages_run(result.stdout)
    assert "resuming after epoch 1" in result.stdout
    assert "up to date" in run(repo, "dvc", "status").stdout


def render_in_chromium(html: Path) -> str:
    """The page's DOM after its scripts ran, from headless Chromium with the network off."""
    chromium = shutil.which("chromium")
    if chromium is None:
        if os.environ.get("CI"):
            pytest.fail("chromium missing: scripts/setup.sh --test installs Debian's package")
        pytest.skip("chromium not installed")
    profile = html.parent / "chromium-profile"
    result = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", "--virtual-time-budget=15000", "--dump-dom",
         html.as_uri()],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    return result.stdout


@pytest.mark.parametrize("command", [("plots", "show"), ("plots", "diff", "HEAD")])
def test_plots_render_offline_with_every_chart(reproduced, command):
    repo, _ = reproduced
    run(repo, sys.executable, "-m", "fmnist.offline_plots")
    out = repo / f"offline_{command[1]}"
    run(repo, "dvc", *command, "-o", str(out))
    html = (out / "index.html").read_text()
    assert not re.search(r"""src\s*=\s*["']https?://""", html), "a script still loads from the network"
    charts = html.count("vegaEmbed('#")
    assert charts >= 6
    dom = render_in_chromium(out / "index.html")
    assert dom.count('class="marks"') == charts, "not every Vega chart rendered"


def test_compare_reports_params_and_metric_deltas_between_two_commits(reproduced, tmp_path):
    repo, _ = reproduced
    run(repo, "git", "reset", "-q", "--hard")  # drop what earlier experiments left in the workspace
    run(repo, "dvc", "checkout", "-q", "--force")
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["evaluate"]["bootstrap_samples"] = 500
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    assert stages_run(run(repo, "dvc", "repro").stdout) == {"evaluate"}
    run(repo, "git", "commit", "-qam", "fewer bootstrap samples")

    out = tmp_path / "compare.md"
    run(repo, sys.executable, "-m", "fmnist.compare", "--base", "HEAD~1", "--head", "HEAD", "--out", str(out))
    report = out.read_text()
    assert "| evaluate.bootstrap_samples" in report and "2000" in report and "500" in report
    headline = report.split("<details>")[0]
    assert "cnn.accuracy" in headline and "cnn_minus_mlp.accuracy_ci95.low" in headline
    assert "![confusion_difference](plots/confusion_difference.png)" in report
