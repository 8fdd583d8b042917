"""The time-to-accuracy table: a row per recipe and CPU family for the settings the recipe
has now, judged by a stated rule, counting how often the recipe's settings met the test set."""

from __future__ import annotations

import dataclasses
import io

import pytest
from rich.console import Console

from fmnist import targets
from fmnist.runs import Model
from fmnist.stats import mean_interval, spread_of
from fmnist.tools import speedrun
from runs_made_up import BOTH, FAST, PAIRED, RUNS, both

PEAKS = {"EPYC Zen 4 details": {"fp32": 145.0, "bf16": 390.0}}


def test_a_row_per_family_of_the_current_settings_never_pooled_across_families():
    rows = targets.rows([FAST], RUNS)
    assert [(r.family, [run.seed for run in r.runs]) for r in rows] == [("EPYC Zen 4", [0, 1, 2]), ("Xeon AMX", [0, 1])]
    assert rows[0].accuracy.mean == 91.5 and rows[0].seconds.high == 28.0  # the old settings and the override left out


def test_met_means_the_mean_accuracy_reaches_the_target_and_the_slowest_seed_trains_within_it():
    zen, amx = targets.rows([FAST], RUNS)
    assert zen.verdict() == "met" and amx.verdict() == "met"
    slow = targets.rows(
        [FAST],
        RUNS[:4]
        + [RUNS[2].__class__(**{**vars(RUNS[2]), "seed": 3, "cnn": RUNS[2].cnn.__class__(0.90, seconds=31.5)})],
    )
    assert slow[0].verdict() == "missed: 1.5 s over"
    assert "mean test accuracy over the seeds reaches it" in targets.RULE


def test_test_reads_count_every_settings_version_scored_on_the_test_set():
    assert targets.test_reads("fast", RUNS) == 2  # the current settings and the older ones; not the override, not val
    assert "| fast | `" in speedrun.history([FAST], RUNS) and "| retired |" in speedrun.history([FAST], RUNS)


def test_each_markdown_row_fits_120_columns_and_names_its_share_of_the_measured_peak():
    table = speedrun.markdown(targets.rows([FAST], RUNS), PEAKS)
    assert max(len(line) for line in table.splitlines()) <= 120
    zen = next(line for line in table.splitlines() if "EPYC Zen 4" in line)
    assert "| 90 % in 30 s | 3 | 91.50 ± 0.50 | 24, 28 |" in zen and " (bf16) | met | 2 |" in zen
    amx = next(line for line in table.splitlines() if "Xeon AMX" in line)
    assert "|  | met |" in amx  # that machine's peak was not measured: no share


def test_wall_seconds_are_marked_where_a_seed_also_ran_robustness_and_export():
    timed = [dataclasses.replace(r, wall_seconds=40.0, stopped_at="evaluate") for r in RUNS]
    (zen, _) = rows = targets.rows([FAST], timed)
    assert speedrun.wall_cell(zen) == "40" and "†" not in speedrun.markdown(rows, PEAKS)
    every = [dataclasses.replace(r, stopped_at=None) if r.seed == 1 else r for r in timed]
    table = speedrun.markdown(targets.rows([FAST], every), PEAKS)
    assert "| 40† |" in table and "† wall of seeds that ran every stage" in table
    assert speedrun.wall_cell(targets.rows([FAST], RUNS)[0]) == ""  # not timed: no wall


def test_the_terminal_table_fits_80_columns_and_states_the_rule():
    console = Console(width=80, file=io.StringIO(), record=True)
    console.print(speedrun.console_table(targets.rows([FAST], RUNS)))
    text = console.export_text()
    assert max(map(len, text.splitlines())) <= 80 and "EPYC Zen 4" in text and "slowest" in text
    assert "wall s" in text


def test_an_mlp_recipe_is_judged_on_the_mlp_and_a_target_without_accuracy_on_time_alone():
    (row,) = targets.rows([BOTH], PAIRED)
    assert row.model == "mlp" and row.accuracy.mean == pytest.approx(90.1333, abs=1e-3)
    assert row.seconds.high == 22.0 and row.verdict() == "met"
    assert speedrun.target_text(BOTH.target) == "MLP best in 30 s"
    assert "| 90.13 ± " in speedrun.history([BOTH], PAIRED)  # every version, judged on the MLP too
    slow = dataclasses.replace(both(1, 0.9, 0.92, 1e-9), mlp=Model(0.9, seconds=31.0))
    assert targets.rows([BOTH], [both(0, 0.9, 0.92, 1e-9), slow])[0].verdict() == "missed: 1.0 s over"


def test_both_families_at_a_budget_pair_each_seed_and_keep_the_least_sure_p():
    (budget,) = targets.budgets(targets.rows([FAST, BOTH], RUNS + PAIRED))
    gaps = [100 * (c - m) for m, c in ((0.90, 0.92), (0.905, 0.921), (0.899, 0.925))]
    assert budget.gap.mean == pytest.approx(sum(gaps) / 3) and budget.largest_p == 2e-8
    low, high = mean_interval(budget.gap)
    assert low < min(gaps) < max(gaps) < high  # Student's t with two degrees of freedom is wide
    table = speedrun.budget_markdown([budget])
    assert max(len(line) for line in table.splitlines()) <= 120
    assert "| 30 s | fast | fast-mlp | EPYC Zen 4 | 3 |" in table and "| 2.0e-08 |" in table


def test_a_mean_interval_needs_two_seeds():
    assert mean_interval(spread_of([1.0])) is None
    low, high = mean_interval(spread_of([1.0, 2.0, 3.0]))
    assert (low, high) == pytest.approx((2 - 4.302653 / 3**0.5, 2 + 4.302653 / 3**0.5), rel=1e-6)
