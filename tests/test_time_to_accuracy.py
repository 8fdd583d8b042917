"""The time-to-accuracy table: a row per recipe and CPU family for the settings the recipe
has now, judged by a stated rule, counting how often the recipe's settings met the test set."""

from __future__ import annotations

import io

from rich.console import Console

from fmnist import targets
from fmnist.tools import speedrun
from runs_made_up import FAST, RUNS

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


def test_the_terminal_table_fits_80_columns_and_states_the_rule():
    console = Console(width=80, file=io.StringIO(), record=True)
    console.print(speedrun.console_table(targets.rows([FAST], RUNS)))
    text = console.export_text()
    assert max(map(len, text.splitlines())) <= 80 and "EPYC Zen 4" in text and "slowest" in text
