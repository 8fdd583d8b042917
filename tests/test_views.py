"""Every view of the runs prints the same MLP-against-CNN row, says what it pooled, and
reads at 80 columns: two lines a row at most, nothing a number or a name is cut into."""

from __future__ import annotations

import io
import json
import re

import pytest
from rich.console import Console

from exprows import HAND_MADE, ROWS
from fmnist.tools import exps, pairview, results, summarize
from fmnist.tools.compare import same_commit
from fmnist.tools.expdata import param_keys

from conftest import REPO


def rendered(table, width: int = 80) -> list[str]:
    console = Console(width=width, file=io.StringIO(), record=True)
    console.print(table)
    return console.export_text().splitlines()


def body(lines: list[str]) -> list[str]:
    """The lines under the header's rule."""
    return lines[next(i for i, line in enumerate(lines) if line.startswith("─")) + 1 :]


def check_80_columns(lines: list[str], rows: list[pairview.PairRow]) -> None:
    assert max(map(len, lines)) <= 80, "\n".join(lines)
    printed = [line for line in body(lines) if line.strip()]
    assert len(printed) == 2 * len(rows), "\n".join(lines)  # every row here has a second line, none a third
    for row, first, second in zip(rows, printed[::2], printed[1::2], strict=True):
        assert first.split()[0].rstrip(",") == row.label.split()[0].rstrip(","), (row.label, first)  # whole
        for figure in (row.mlp, row.cnn):
            if figure is not None:  # the number and its interval or spread, never cut
                value, spread = figure.lines()
                assert value in first and (spread in second)


def experiment_pairs() -> list[pairview.PairRow]:
    return [pair for _, pair, _ in exps.experiment_rows(ROWS, param_keys(REPO / "params.yaml"), REPO / "recipes")]


def test_exps_names_a_recipe_run_by_recipe_and_seed_and_fits_80_columns():
    pairs = experiment_pairs()
    lines = rendered(pairview.console_table(pairs, exps.TITLE, "experiment"))
    check_80_columns(lines, pairs)
    assert [p.label for p in pairs] == ["4289b93", "workspace", "speed92-seed0", "speed92-seed1", "speed93-seed0",
                                        "speed93-seed1", "longer-lenet"]  # fmt: skip
    assert {p.detail for p in pairs[2:6]} == {"recipe's params"}
    assert "cnn.whiten" not in "\n".join(lines)  # a recipe's nine overrides are in --md and --json


def test_exps_markdown_and_json_list_every_override():
    entries = exps.experiment_rows(ROWS, param_keys(REPO / "params.yaml"), REPO / "recipes")
    changes = dict((pair.label, full) for _, pair, full in entries)
    assert "cnn.arch=vgg" in changes["speed92-seed0"] and "cnn.whiten=true" in changes["speed92-seed0"]
    assert all(f"{k}={v}" in changes["longer-lenet"] for k, v in HAND_MADE.items())


def test_the_default_summary_pools_seeds_only_and_says_n():
    rows, _ = summarize.collect(ROWS, None)
    pairs = summarize.group_rows(rows, param_keys(REPO / "params.yaml"), REPO / "recipes")
    assert [(p.label, p.detail) for p in pairs] == [
        ("baseline", "one seed: 0"), ("recipe speed92", "2 seeds: 0, 1"), ("recipe speed93", "2 seeds: 0, 1"),
        (", ".join(f"cnn.{k}={v}" for k, v in [("epochs", 30), ("batch_size", 128), ("lr", 0.0005), ("dropout", 0.3)]),
         "one seed: 0"),
    ]  # fmt: skip
    assert pairs[1].cnn.value == pytest.approx(92.75) and pairs[1].cnn.n == 2 and pairs[1].p is None
    markdown = pairview.markdown(pairs, "group")
    assert (
        "± 0.00" not in markdown.splitlines()[2] and "91.83 [91.33, 92.33]" in markdown
    )  # one seed keeps its interval
    check_80_columns(rendered(pairview.console_table(pairs, "summary", "group")), pairs)


def test_pooling_different_params_is_asked_for_and_said():
    rows, _ = summarize.collect(ROWS, None)
    pooled = pairview.from_seeds("all 6 runs", rows, "params differ")
    assert pooled.n == 6 and pooled.cnn.std > 0.5 and pooled.p is None  # no McNemar p for a pool


def test_a_long_list_keeps_whole_items_and_counts_the_rest():
    assert pairview.shorten("cnn.epochs=30, cnn.batch_size=128, cnn.lr=0.0005", 20) == "cnn.epochs=30 +2"
    assert pairview.shorten("5 seeds: 0, 1, 2, 3, 4", 16) == "5 seeds: 0, 1 +3"
    assert pairview.shorten("short", 15) == "short"


def test_results_puts_the_study_and_this_run_in_the_same_row_format_at_80_columns():
    r = results.load_results(REPO)
    pairs = results.pair_rows(r)
    check_80_columns(rendered(pairview.console_table(pairs, "results")), pairs)
    assert pairs[0].mlp.value == 89.04 and pairs[0].p is None
    assert json.loads(json.dumps([pairview.as_json(p) for p in pairs]))[1]["cnn"]["low"] < pairs[1].cnn.value


@pytest.mark.parametrize("p, text", [(1.68e-16, "1.7e-16"), (0.23, "2.3e-01"), (0.0, "< 1e-300"), (None, "")])
def test_mcnemar_p_is_written_in_scientific_notation(p, text):
    assert pairview.p_text(p) == text


def test_one_run_shows_its_interval_and_a_group_its_spread():
    assert pairview.Figure(89.41, 88.79, 90.0).text() == "89.41 [88.79, 90.00]"
    assert pairview.Figure(2.42, 1.85, 3.02).text(signed=True) == "+2.42 [+1.85, +3.02]"
    assert pairview.Figure(92.69, std=0.14, n=5).text() == "92.69 ± 0.14"
    assert re.fullmatch(r"92\.69", pairview.Figure(92.69).text())


def test_the_same_commit_named_twice_is_recognised():
    if not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    assert same_commit("HEAD", "HEAD") and same_commit("HEAD", None) is None
