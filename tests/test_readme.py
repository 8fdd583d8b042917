"""Generated pages: README.md, reports/README.md and MODEL_CARD.md say what metrics/ and
reports/ hold, never typed numbers; and the README stays a front page."""

import io
import json
import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from fmnist.tools.readme import PAGES, render, render_page

from conftest import REPO


def committed_tree(repo: Path, dest: Path) -> Path:
    """The files of ``repo``'s HEAD, exported to ``dest``: what a clone gets, whatever a run
    has since rewritten in the workspace (``dvc repro`` rewrites metrics/ and the seconds)."""
    archive = subprocess.run(["git", "archive", "HEAD"], cwd=repo, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(dest, filter="data")
    return dest


@pytest.fixture(scope="module")
def committed(tmp_path_factory) -> Path:
    if not (REPO / ".git").exists():
        return REPO  # a source tarball: the files are the release's
    return committed_tree(REPO, tmp_path_factory.mktemp("head"))


@pytest.mark.parametrize("page", sorted(PAGES))
def test_each_generated_page_matches_the_committed_metrics_and_reports(page, committed):
    text = (committed / page).read_text()
    assert render_page(page, text, committed) == text, f"run `fmnist pages` and commit {page}"


@pytest.mark.slow
def test_the_page_checks_pass_after_a_run_rewrote_the_workspace_metrics_and_seconds(tmp_path):
    """The quick start's two commands in a row: `dvc repro` leaves new metrics and seconds in
    the workspace, and the test command after it must still pass."""
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
    headline = clone / "metrics" / "metrics.json"
    metrics = json.loads(headline.read_text())
    metrics["cnn"]["accuracy"] -= 0.0017
    headline.write_text(json.dumps(metrics))
    for model in ("mlp", "cnn"):
        summary = clone / "dvclive" / f"train_{model}" / "metrics.json"
        summary.write_text(json.dumps(json.loads(summary.read_text()) | {"train_seconds": 1.5}))
    export = clone / "metrics" / "export.json"
    check = json.loads(export.read_text())
    check["cnn"]["max_abs_logit_difference"] = 9e-5
    export.write_text(json.dumps(check))
    assert render_page("README.md", (clone / "README.md").read_text(), clone) != (clone / "README.md").read_text()
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             "tests/test_readme.py", "-m", "not slow"],
                            cwd=clone, capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(clone / "src")})  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:]


def test_render_replaces_only_the_marked_block():
    text = "intro\n<!-- results:start -->\nold\n<!-- results:end -->\noutro\n"
    assert render(text, "new", "results") == "intro\n<!-- results:start -->\nnew\n<!-- results:end -->\noutro\n"


def test_the_readme_is_a_front_page_a_clone_can_resolve():
    text = (REPO / "README.md").read_text()
    assert len(text.splitlines()) <= 220
    assert not re.search(r"\bissue \d+|#\d{1,3}\b", text), "issue numbers mean nothing to a reader"
    for link in re.findall(r"\]\(([^)#:]+)\)", text):
        assert (REPO / link).exists(), f"README links to {link}, which a clone does not have"
