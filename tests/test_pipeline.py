"""The pipeline under DVC itself: a copy of this repository, a small slice, real commands."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from dvcrepo import STAGES, copy_repo, kill_when, make_repo, run, stages_run
from pages import commands

from conftest import REPO

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def reproduced(tmp_path_factory, reproduced_template) -> tuple[Path, str]:
    template, output = reproduced_template
    return copy_repo(template, tmp_path_factory.mktemp("e2e") / "repo"), output


def declared_outputs(repo: Path) -> dict[str, list[str]]:
    """Each stage's outs, metrics and plots, as dvc.yaml names them."""
    declared = yaml.safe_load((repo / "dvc.yaml").read_text())["stages"]
    return {name: [o if isinstance(o, str) else next(iter(o))
                   for kind in ("outs", "metrics", "plots") for o in stage.get(kind, [])]
            for name, stage in declared.items()}  # fmt: skip


def test_repro_runs_every_stage_and_writes_every_declared_output(reproduced):
    repo, output = reproduced
    assert stages_run(output) == set(STAGES)
    for name, paths in declared_outputs(repo).items():
        for path in paths:
            assert (repo / path).exists(), f"{name} did not write {path}"


def flat_values(tree) -> list:
    if isinstance(tree, dict):
        return [v for value in tree.values() for v in flat_values(value)]
    return [tree]


def test_dvc_metrics_show_lists_the_headline_only(reproduced):
    repo, _ = reproduced
    shown = json.loads(run(repo, "dvc", "metrics", "show", "--json").stdout)[""]["data"]
    assert set(shown) == {"metrics/metrics.json", "metrics/robustness.json", "dvclive/train_mlp/metrics.json",
                          "dvclive/train_cnn/metrics.json"}  # fmt: skip
    values = [v for file in shown.values() for v in flat_values(file["data"])]
    assert len(values) <= 26, values  # with a validation split, the most there are (docs/pipeline.md)
    assert all(isinstance(v, int | float) for v in values), values  # numbers only: the machine is beside them
    for model in ("mlp", "cnn"):
        assert 0.3 < shown["metrics/metrics.json"]["data"][model]["accuracy"] <= 1.0


def test_a_second_repro_has_nothing_to_do(reproduced):
    repo, _ = reproduced
    assert stages_run(run(repo, "dvc", "repro").stdout) == set()
    assert "up to date" in run(repo, "dvc", "status").stdout


def test_plots_show_renders_every_declared_plot(reproduced):
    repo, _ = reproduced
    run(repo, "dvc", "plots", "show", "-o", "dvc_plots")
    html = (repo / "dvc_plots" / "index.html").read_text()
    titles = ("train/loss.tsv", "val/accuracy.tsv", "Confusion matrix, MLP", "Confusion matrix, CNN",
              "Per-class accuracy (recall), MLP vs CNN")  # fmt: skip
    for title in titles:
        assert title in html, title
    assert "confusion_difference.png" in html


def test_an_experiment_reruns_only_the_stages_that_read_the_param(reproduced):
    repo, _ = reproduced
    result = run(repo, "dvc", "exp", "run", "-S", "cnn.epochs=2")
    assert stages_run(result.stdout) == {"check", "train_cnn", "evaluate", "robustness", "export"}


def test_one_switch_trains_the_pytorch_mlp_and_fmnist_exps_shows_it_against_the_cnn(reproduced):
    """An mlp param reruns train_mlp and what follows it only; this one swaps the MLP."""
    repo, _ = reproduced
    typed = "dvc exp run -S mlp.impl=torch"  # as the README's "Compare runs" says it
    assert typed in (REPO / "README.md").read_text()
    result = run(repo, "bash", "-c", typed)
    assert stages_run(result.stdout) == {"check", "train_mlp", "evaluate", "robustness", "export"}
    assert "train_mlp: PyTorch MLP (256, 128), 15 epochs" in result.stdout
    assert json.loads((repo / "dvclive/train_mlp/machine.json").read_text())["precision"] == "fp32"
    export = json.loads((repo / "metrics/export.json").read_text())["mlp"]
    assert export["same_class"] == export["images"]  # ONNX Runtime agrees with NumPy on every image
    lines = run(repo, sys.executable, "-m", "fmnist.tools.cli", "exps", COLUMNS="120").stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if line.lstrip().startswith("mlp.impl=torch"))
    mlp, cnn = lines[at - 1].split()[1:3]  # the experiment's row: both models, then its change under it
    assert re.fullmatch(r"\d+\.\d\d", mlp) and re.fullmatch(r"\d+\.\d\d", cnn)


def test_exp_show_lists_both_accuracies_and_the_params(reproduced):
    repo, _ = reproduced
    rows = run(repo, "dvc", "exp", "show", "--csv").stdout.splitlines()
    header = rows[0].split(",")
    for column in ("mlp.accuracy", "cnn.accuracy", "cnn.epochs", "mlp.alpha"):
        assert any(c.endswith(column) for c in header), (column, header)


@pytest.mark.parametrize("change", ["cnn.epochs=0", "cnn.arch=vgq"])
def test_a_wrong_value_stops_at_check_with_every_output_in_place_and_one_command_puts_params_back(reproduced, change):
    repo, _ = reproduced
    run(repo, "git", "reset", "-q", "--hard")
    run(repo, "dvc", "checkout", "-q", "--force")
    before = {p: (repo / p).read_bytes() for p in ("models/cnn.safetensors", "dvclive/train_cnn/metrics.json")}
    result = run(repo, "dvc", "exp", "run", "-S", change, check=False)
    assert result.returncode != 0 and stages_run(result.stdout) == {"check"}
    said = (result.stdout + result.stderr).splitlines()
    assert any(change.split("=")[0] in line for line in said), said
    assert "`fmnist restore`" in [line for line in said if line.strip()][-2]  # just above DVC's own last line
    assert {p: (repo / p).read_bytes() for p in before} == before  # nothing was deleted
    assert change.replace("=", ": ").split(".")[1] in (repo / "params.yaml").read_text()  # -S wrote it there
    run(repo, sys.executable, "-m", "fmnist.tools.cli", "restore")
    assert run(repo, "git", "status", "--porcelain", "-uno").stdout == ""
    assert run(repo, "git", "diff", "--stat", "HEAD").stdout == "" and (repo / "params.yaml").read_bytes() == run(
        repo, "git", "show", "HEAD:params.yaml").stdout.encode()  # fmt: skip


def test_a_failed_stage_after_check_is_restored_with_the_outputs_dvc_deleted(reproduced):
    repo, _ = reproduced
    run(repo, "git", "reset", "-q", "--hard")
    run(repo, "dvc", "checkout", "-q", "--force")
    result = run(repo, "dvc", "exp", "run", "-S", "evaluate.split=val", "-S", "prepare.val_fraction=0", check=False)
    assert result.returncode != 0 and "DVC removed evaluate's outputs" in result.stderr + result.stdout
    run(repo, sys.executable, "-m", "fmnist.tools.cli", "restore")
    assert (
        run(repo, "git", "status", "--porcelain", "-uno").stdout == "" and (repo / "metrics" / "metrics.json").is_file()
    )
    assert run(repo, "dvc", "status").stdout.strip().endswith("up to date.")


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
    kill_when(repo, ["dvc", "repro"], "epoch   1/3")
    assert not (repo / "models/cnn.safetensors").exists()

    result = run(repo, "dvc", "repro")
    assert "train_cnn" in stages_run(result.stdout)
    assert "resuming after epoch 1" in result.stdout
    assert "up to date" in run(repo, "dvc", "status").stdout


def render_in_chromium(html: Path) -> str:
    """The page's DOM after its scripts ran, from headless Chromium with the network off."""
    chromium = next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)
    if chromium is None:  # Debian's package here; GitHub's Ubuntu runners ship Google Chrome
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
    status = run(repo, "dvc", "status", "--json").stdout  # why each stage would rerun
    assert stages_run(run(repo, "dvc", "repro").stdout) == {"check", "evaluate"}, status
    run(repo, "git", "commit", "-qam", "fewer bootstrap samples")

    out = tmp_path / "compare.md"
    run(repo, sys.executable, "-m", "fmnist.tools.compare", "--base", "HEAD~1", "--head", "HEAD", "--out", str(out))
    report = out.read_text()
    assert "| evaluate.bootstrap_samples" in report and "2000" in report and "500" in report
    headline = report.split("<details>")[0]
    for rev in ("HEAD~1", "HEAD"):  # percent with intervals, McNemar's p in scientific notation
        assert re.search(rf"^\| {re.escape(rev)} \| \d+\.\d\d \[.*\] \| .* \| \d\.\de-\d\d \| [\d.]+ \| [\d.]+ \|$",
                         headline, re.M), headline  # fmt: skip
    assert "cnn_minus_mlp.accuracy_low" in report.split("<details>")[1]  # DVC's own diff, kept below
    same = run(repo, sys.executable, "-m", "fmnist.tools.compare", "--base", "HEAD", "--head", "HEAD",
               "--out", str(tmp_path / "same.md")).stdout  # fmt: skip
    assert "Both name the same commit" in same and "|" not in same
    images = re.findall(r"!\[[^]]*\]\(([^)]+)\)", report)
    assert all((out.parent / image).is_file() for image in images), images  # links resolve beside the report
    assert "train_cnn-train-loss" in report and "confusion_difference" in report

    shutil.copytree(REPO / "scripts", repo / "scripts", dirs_exist_ok=True)  # the workflow's step
    run(repo, "bash", "scripts/pr-report.sh", "HEAD~1", "pr")
    comment = (repo / "pr" / "comment.md").read_text()
    assert "| evaluate.bootstrap_samples" in comment and "cnn_minus_mlp.accuracy_low" in comment
    assert "![" not in comment and "![" in (repo / "pr" / "report.md").read_text()


# ----------------------------------------------------------------------------- a clone


@pytest.fixture(scope="module")
def clone_with_an_experiment(reproduced, tmp_path_factory) -> Path:
    """A fresh clone of the committed run, with no DVC cache at all, after one experiment."""
    repo, _ = reproduced
    clone = tmp_path_factory.mktemp("clone") / "repo"
    run(repo.parent, "git", "clone", "-q", str(repo), str(clone))
    run(clone, "dvc", "exp", "run", "-n", "shorter", "-S", "cnn.epochs=2")
    return clone


def test_a_clone_without_the_cache_diffs_metrics_against_the_committed_run(clone_with_an_experiment):
    result = run(clone_with_an_experiment, "dvc", "metrics", "diff", "HEAD", "--json")
    assert "failed to load" not in result.stderr + result.stdout
    diff = json.loads(result.stdout)
    rows = [(path, key) for path, metrics in diff.items() for key in metrics]
    assert 0 < len(rows) <= 25, rows
    assert ("metrics/metrics.json", "cnn.accuracy") in rows
    assert all(d["old"] is not None for metrics in diff.values() for d in metrics.values()), diff


def test_a_clone_without_the_cache_draws_both_revisions_curves(clone_with_an_experiment):
    result = run(clone_with_an_experiment, "dvc", "plots", "diff", "HEAD", "workspace", "--json")
    assert "failed to load" not in result.stderr.lower()
    plots = json.loads(result.stdout)
    assert not plots.get("errors"), plots.get("errors")
    [loss] = plots["data"]["dvclive/train_cnn/plots/metrics/train/loss.tsv"]
    revs = {point["rev"] for point in loss["content"]["data"]["values"]}
    assert revs == {"HEAD", "workspace"}


def test_exp_show_has_both_accuracies_and_the_changed_param(clone_with_an_experiment):
    rows = run(clone_with_an_experiment, "dvc", "exp", "show", "--csv").stdout.splitlines()
    header = rows[0].split(",")
    for column in ("mlp.accuracy", "cnn.accuracy", "cnn.epochs"):
        assert any(c.endswith(column) for c in header), (column, header)
    assert any(line.startswith("shorter,") for line in rows)


def test_dvc_metrics_diff_reads_at_120_columns_with_numbers_only(clone_with_an_experiment):
    lines = run(clone_with_an_experiment, "dvc", "metrics", "diff", "HEAD", COLUMNS="120").stdout.splitlines()
    assert 1 < len(lines) <= 26 and max(map(len, lines)) <= 120, "\n".join(lines)


def test_the_readmes_exp_show_line_reads_at_120_columns(clone_with_an_experiment):
    [line] = [c for c in commands(REPO / "README.md", "## Compare runs") if c.startswith("dvc exp show")]
    shown = run(clone_with_an_experiment, "bash", "-c", line, COLUMNS="120").stdout
    lines = [line for line in shown.splitlines() if line.strip()]
    assert max(map(len, lines)) <= 120 and "…" not in shown, shown
    header = lines[1]
    for column in ("Experiment", "mlp.accuracy", "cnn.accuracy", "cnn_minus_mlp.accuracy", "cnn.epochs"):
        assert column in header, (column, shown)
    assert any("shorter" in line for line in lines)


def test_the_readmes_compare_commands_run_as_typed_and_a_recipe_leaves_the_workspace_alone(reproduced):
    """Every line of the README's "Compare runs" block, in order; the recipe in the middle runs
    outside the workspace, so the `dvc exp run -S cnn.epochs=20` typed before and after it
    means the committed params plus 20 epochs: the study's LeNet."""
    repo, _ = reproduced
    run(repo, "git", "reset", "-q", "--hard")
    run(repo, "dvc", "checkout", "-q", "--force")
    run(repo, "git", "branch", "-M", "main")  # the README compares against main
    typed = [c for c in commands(REPO / "README.md", "## Compare runs") if not c.startswith("source ")]
    recipe_at = next(i for i, c in enumerate(typed) if c.startswith("fmnist recipe run"))
    for line in typed[:recipe_at]:
        run(repo, "bash", "-c", line, COLUMNS="120")
    status, params = run(repo, "git", "status", "--porcelain", "-uno").stdout, (repo / "params.yaml").read_text()
    said = run(repo, "bash", "-c", typed[recipe_at]).stdout
    assert "robustness and export are skipped" in said and "Running stage 'robustness'" not in said
    assert (repo / "params.yaml").read_text() == params  # as it was, and so is everything but the record:
    assert run(repo, "git", "status", "--porcelain", "-uno").stdout.replace(" M reports/runs.jsonl\n", "") == status
    entries = [json.loads(line) for line in (repo / "reports" / "runs.jsonl").read_text().splitlines()[-2:]]
    assert [(e["name"], e["recipe"], e["source"]) for e in entries] == [
        ("speed93-seed0", "speed93", "fmnist recipe run"), ("speed93-seed1", "speed93", "fmnist recipe run")]  # fmt: skip
    assert all(e["wall_seconds"] >= e["cnn"]["seconds"] > 0 and e["family"] and e["commit"] for e in entries)
    run(repo, "bash", "-c", typed[0])  # `dvc exp run -S cnn.epochs=20` again, after the recipe
    ran = yaml.safe_load((repo / "params.yaml").read_text())  # a plain `dvc exp run` applies its result
    assert (ran["cnn"]["arch"], ran["cnn"]["epochs"], ran["seed"]) == ("lenet", 20, 0)
    for line in typed[recipe_at + 1 :]:  # the summary, then `fmnist restore`: HEAD's params and outputs back
        out = run(repo, "bash", "-c", line, COLUMNS="120").stdout
        assert max(map(len, out.splitlines()), default=0) <= 120, out
    assert run(repo, "git", "status", "--porcelain", "-uno").stdout == " M reports/runs.jsonl\n"


def test_fmnist_exps_shows_the_experiment_both_models_and_the_change_in_80_columns(clone_with_an_experiment):
    result = run(clone_with_an_experiment, sys.executable, "-m", "fmnist.tools.cli", "exps", COLUMNS="80")
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    at = next(i for i, line in enumerate(lines) if line.lstrip().startswith("shorter"))
    mlp, cnn, gap, p, mlp_s, cnn_s = lines[at].split()[1:]
    assert re.fullmatch(r"\d+\.\d\d", mlp) and re.fullmatch(r"\d+\.\d\d", cnn) and re.fullmatch(r"[+-]\d+\.\d\d", gap)
    assert re.fullmatch(r"\d\.\de[-+]\d\d", p) and all(re.fullmatch(r"\d+(\.\d)?", s) for s in (mlp_s, cnn_s))
    assert lines[at + 1].split()[0] == "cnn.epochs=2"  # what it changed, under its name
