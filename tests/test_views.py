"""Every view of the runs prints the same MLP-against-CNN row, says what it pooled, and fits
the terminal: two lines a row at most, nothing a number or a name is cut into."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from fmnist import formats
from fmnist.stats import spread
from fmnist.tools import summary, views
from fmnist.tools.compare import same_commit
from runs_made_up import RUNS


def rendered(table, width: int = 80) -> list[str]:
    console = Console(width=width, file=io.StringIO(), record=True)
    console.print(table)
    return console.export_text().splitlines()


def body(lines: list[str]) -> list[str]:
    return lines[next(i for i, line in enumerate(lines) if line.startswith("─")) + 1 :]


@pytest.mark.parametrize("width", [80, 120])
def test_each_run_takes_two_lines_with_every_number_and_its_interval_whole(width):
    rows = [views.study_row()] + [views.run_row(r, r.name, r.label) for r in RUNS]
    lines = rendered(views.console_table(rows, "runs", "experiment", width), width)
    assert max(map(len, lines)) <= width
    printed = [line for line in body(lines) if line.strip()]
    assert len(printed) == 2 * len(rows)
    for row, first, second in zip(rows, printed[::2], printed[1::2], strict=True):
        assert first.startswith(row.label[:8])
        for figure in (row.mlp, row.cnn, row.gap):
            value, uncertainty = figure.parts("pts" if figure is row.gap else "pct")
            assert value in first and uncertainty in second


def test_a_recipe_run_says_its_recipe_and_what_was_added_to_it():
    assert RUNS[1].label == "fast"
    assert RUNS[6].label == "fast + cnn.epochs=20"
    assert RUNS[7].label == "cnn.width=32"


def test_summary_pools_seeds_only_never_families_or_overrides_and_says_n():
    groups = summary.labelled(summary.groups(RUNS))
    assert [len(m) for _, m in groups] == [1, 3, 2, 1, 1]  # old settings, current (zen 4, amx), +epochs, a trial
    md = views.markdown([views.group_row(m, label, summary.describe(m)) for label, m in groups], "group")
    assert f"| fast [{RUNS[1].digest}] (3 seeds: 0-2; EPYC Zen 4) | 89.41 ± 0.00 |" in md
    assert f"| fast [{RUNS[0].digest}] (one seed: 0; EPYC Zen 4) | 89.41 [88.79, 90.00] |" in md
    assert "(2 seeds: 0, 1; Xeon AMX)" in md and "| cnn.width=32; val (one seed: 0; EPYC Zen 4) |" in md


def test_an_ablation_orders_groups_by_how_far_they_are_and_labels_what_each_adds():
    runs = [r for r in RUNS if r.family == "EPYC Zen 4" and r.split == "test"]
    steps = summary.steps(summary.groups(runs))
    assert [label for label, _ in steps] == ["baseline", "cnn.epochs=2", "cnn.epochs=20"]


def test_one_run_keeps_its_interval_and_a_group_gives_mean_std_and_n():
    one = views.run_row(RUNS[1])
    assert one.cnn.parts("pct") == ("91.00", "[90.50, 91.50]")
    group = views.group_row(RUNS[1:4], "fast")
    assert group.cnn.parts("pct") == ("91.50", "± 0.50") and group.n == 3


@pytest.mark.parametrize(("p", "text"), [(6.33e-14, "6.3e-14"), (0.5767, "0.577"), (0.0, "< 1e-300"), (None, "")])
def test_mcnemar_p_is_written_one_way_everywhere(p, text):
    assert formats.p_value(p) == text


def test_numbers_are_written_one_way_everywhere():
    assert formats.percent(0.9166) == "91.66" and formats.points(0.0225) == "+2.25"
    assert formats.interval(0.911, 0.9219) == "[91.10, 92.19]"
    assert formats.interval(0.0166, 0.0285, signed=True) == "[+1.66, +2.85]"
    assert formats.mean_std(spread([0.92, 0.93])) == "92.50 ± 0.71" and formats.mean_std(spread([0.92])) == "92.00"
    assert formats.seeds([0, 1, 2, 3, 4]) == "0-4" and formats.seeds([0, 2]) == "0, 2"
    assert formats.seconds(333.2) == "333" and formats.seconds(9.74) == "9.7"


def test_mean_std_comes_with_n_and_one_value_has_no_spread():
    s = spread([0.88, 0.90, 0.92, None])
    assert (round(s.mean, 6), round(s.std, 6), s.n) == (0.9, 0.02, 3)
    assert spread([0.9]).std is None and spread([]) is None


def test_a_long_list_keeps_whole_items_and_counts_the_rest():
    assert views.shorten("cnn.epochs=30, cnn.batch_size=128, cnn.lr=0.0005", 20) == "cnn.epochs=30 +2"
    assert views.shorten("short", 15) == "short"


def test_the_same_commit_named_twice_is_recognised():
    assert same_commit("HEAD", "HEAD") and not same_commit("HEAD", None)
    assert re.fullmatch(r"[0-9a-f]{40}", same_commit("HEAD", "HEAD"))
