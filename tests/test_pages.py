"""The pages say what was measured: every generated block is what the run record and the
committed run say, and no number with a unit is typed into a page's prose by hand."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from fmnist.recipes import all_recipes
from fmnist.study import PUBLISHED, STUDY_ACCURACY, STUDY_GAP
from fmnist.tools.pages import PAGES, load, render, render_page

from conftest import REPO

SCANNED = ["README.md", "MODEL_CARD.md", *sorted(str(p.relative_to(REPO)) for p in (REPO / "docs").glob("*.md")),
           "reports/README.md", "reports/structure.md", "reports/trials.md", "benchmarks/README.md"]  # fmt: skip
UNITS = r"%|GFLOP/s|TFLOP|MFLOP|GB|MB|ms|min|minutes?|h|hours?|s|seconds?|x|points?|tests"
MEASURED = re.compile(rf"(?<![\w.\-/=])(\d[\d,]*(?:\.\d+)?)\s?({UNITS})(?![\w/])")
BLOCK = re.compile(r"(<!-- ([\w-]+):start -->|# ([\w-]+):start).*?(<!-- \2:end -->|# \3:end)", re.S)


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


def traceable() -> set[tuple[str, str]]:
    """The numbers prose may state without a generated block: the study's published figures,
    other published figures with their source (fmnist.study.PUBLISHED), every recipe's target
    and the confidence level of the intervals."""
    allowed = {(f"{v:.2f}", "%") for v in STUDY_ACCURACY.values()} | {(f"{STUDY_GAP:.2f}", "points"), ("95", "%")}
    allowed |= {(str(value), unit) for value, unit in PUBLISHED}
    for recipe in all_recipes(REPO / "recipes").values():
        if t := recipe.target:
            allowed |= {(f"{t.seconds:g}", "s"), (f"{t.seconds / 60:g}", "min")}
            allowed |= {(f"{t.accuracy:g}", "%")} if t.accuracy is not None else set()
    return allowed


def typed_numbers(text: str) -> list[tuple[int, str]]:
    """(line, number and unit) of every measured-looking number outside the generated blocks."""
    prose = BLOCK.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    allowed = traceable()
    return [(prose[: m.start()].count("\n") + 1, m.group(0)) for m in MEASURED.finditer(prose)
            if (m.group(1), m.group(2).rstrip("s") if m.group(2) in ("points", "tests") else m.group(2)) not in allowed
            and (m.group(1), m.group(2)) not in allowed]  # fmt: skip


@pytest.mark.parametrize("page", sorted(PAGES))
def test_each_generated_block_is_what_the_record_and_the_committed_run_say(page, committed):
    text = (committed / page).read_text()
    assert render_page(page, text, load(committed)) == text, f"run `fmnist pages` and commit {page}"


@pytest.mark.parametrize("page", SCANNED)
def test_no_page_states_a_measured_number_outside_a_generated_block(page):
    assert typed_numbers((REPO / page).read_text()) == [], f"{page}: generate these, or trace them, or remove them"


def test_a_number_typed_into_a_page_by_hand_is_caught():
    text = (REPO / "README.md").read_text()
    typed = text.replace("## Quick start\n", "## Quick start\n\nThe CNN trains in 333 s, 1.3x faster, to 91.66 %.\n")
    found = [number for _, number in typed_numbers(typed)]
    assert found == ["333 s", "1.3x", "91.66 %"]
    assert typed_numbers(text.replace("## Quick start\n", "## Quick start\n\n| 92.36 % |\n")) != []


def test_a_generated_block_that_drifts_from_the_record_is_caught(committed, tmp_path):
    tree = committed_tree(REPO, tmp_path / "tree") if (REPO / ".git").exists() else committed
    record = tree / "reports" / "runs.jsonl"
    lines = record.read_text().splitlines()
    runs = [json.loads(line) for line in lines]
    last = max(i for i, r in enumerate(runs) if r.get("recipe") == "speed92" and r.get("split") == "test")
    runs[last]["cnn"]["accuracy"] -= 0.01
    record.write_text("".join(json.dumps(r) + "\n" for r in runs))
    page = (tree / "README.md").read_text()
    assert render_page("README.md", page, load(tree)) != page


def test_render_replaces_only_the_marked_block():
    text = "intro\n<!-- results:start -->\nold\n<!-- results:end -->\noutro\n"
    assert render(text, "new", "results") == "intro\n<!-- results:start -->\nnew\n<!-- results:end -->\noutro\n"


def test_every_readme_table_row_fits_120_columns():
    rows = [line for line in (REPO / "README.md").read_text().splitlines() if line.startswith("|")]
    assert rows and max(map(len, rows)) <= 120, max(rows, key=len)


def test_the_first_screen_says_what_this_is_what_it_found_and_how_to_start():
    first = "\n".join((REPO / "README.md").read_text().splitlines()[:45])
    assert "## What it found" in first and "bash scripts/pipeline.sh" in first and "bash scripts/test.sh" in first


def test_the_readme_links_resolve_in_a_clone_and_name_no_issue():
    text = (REPO / "README.md").read_text()
    assert not re.search(r"\bissue \d+|#\d{1,3}\b", text), "issue numbers mean nothing to a reader"
    for link in re.findall(r"\]\(([^)#:]+)\)", text):
        assert (REPO / link).exists(), f"README links to {link}, which a clone does not have"


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
    assert render_page("README.md", (clone / "README.md").read_text(), load(clone)) != (clone / "README.md").read_text()
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_pages.py",
                             "-m", "not slow"], cwd=clone, capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(clone / "src")})  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:]
