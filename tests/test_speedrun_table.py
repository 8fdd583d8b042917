"""The speedrun table (`fmnist recipe table`): built from experiments named after a recipe,
only from those that really ran it, judged against the recipe's target."""

from __future__ import annotations

import pytest

from fmnist.tools.expdata import flatten
from fmnist.tools.recipebook import Recipe, override
from fmnist.tools.speedrun import markdown, tabulate

from conftest import small_params_dict

FAST = Recipe("fast", "a short run", {"cnn.epochs": 2, "cnn.hflip": True}, {"accuracy": 90.0, "seconds": 30})


def experiment(name: str, seed: int, accuracy: float, seconds: float, **changes) -> dict:
    """An exp_show row as DVC names its columns: file prefix, then the dotted key."""
    params = flatten(override(small_params_dict(), {**FAST.params, "seed": seed, **changes}))
    return {"Experiment": name, "State": "Success", **{f"params.yaml:{k}": v for k, v in params.items()},
            "metrics/metrics.json:cnn.accuracy": accuracy, "metrics/metrics.json:mlp.accuracy": 0.85,
            "dvclive/train_cnn/metrics.json:train_seconds": seconds, "params.yaml:cnn.hflip": "True"}  # fmt: skip


def test_each_recipe_row_averages_its_seeds_and_is_judged_on_the_slowest():
    rows = [experiment("fast-seed0", 0, 0.91, 20.0), experiment("fast-seed1", 1, 0.92, 28.0),
            experiment("other-seed0", 0, 0.50, 1.0)]  # fmt: skip
    [entry] = tabulate([FAST], small_params_dict(), rows)
    assert entry["seeds"] == [0, 1] and entry["accuracy"] == pytest.approx([91.0, 92.0])
    assert entry["accuracy_mean"] == pytest.approx(91.5) and entry["seconds_max"] == 28.0 and entry["met"]
    [late] = tabulate([FAST], small_params_dict(), rows[:1] + [experiment("fast-seed1", 1, 0.92, 31.0)])
    assert not late["met"] and "| **no**: 1.0 s over |" in markdown([late])
    [short] = tabulate([FAST], small_params_dict(), [experiment("fast-seed0", 0, 0.895, 31.0)])
    assert "| **no**: 0.50 points short, 1.0 s over |" in markdown([short])


def test_the_terminal_gets_a_table_of_80_columns_and_the_files_get_the_rest(tmp_path, capsys):
    from fmnist.tools.speedrun import write

    intel = "Intel Xeon with AMX, 2 CPUs, torch 2.13.0 (2 threads)"
    amd = "AMD EPYC (AVX-512 BF16, AVX-512, AVX2; no AMX), 2 CPUs, torch 2.13.0 (2 threads)"
    rows = [experiment("fast-seed0", 0, 0.91, 20.0) | {"dvclive/train_cnn/metrics.json:machine": intel},
            experiment("fast-seed1", 1, 0.92, 31.0) | {"dvclive/train_cnn/metrics.json:machine": amd}]  # fmt: skip
    write(tabulate([FAST], small_params_dict(), rows), str(tmp_path / "speedrun"))
    shown = capsys.readouterr().out
    assert max(len(line) for line in shown.splitlines()) <= 80
    assert "Intel Xeon with AMX" in shown and "AMD EPYC, no AMX" in shown and "no: 1.0 s" in shown
    assert str(tmp_path / "speedrun.md") in shown and amd in (tmp_path / "speedrun.md").read_text()


def test_runs_of_two_machines_are_two_rows_never_one_average():
    amd, intel = "AMD EPYC (AVX2), 2 CPUs", "Intel Xeon (AMX), 2 CPUs"
    rows = [experiment("fast-seed0", 0, 0.91, 20.0) | {"dvclive/train_cnn/metrics.json:machine": amd},
            experiment("fast-seed1", 1, 0.92, 12.0) | {"dvclive/train_cnn/metrics.json:machine": intel},
            experiment("fast-seed2", 2, 0.90, 22.0) | {"dvclive/train_cnn/metrics.json:machine": amd}]  # fmt: skip
    on_amd, on_intel = tabulate([FAST], small_params_dict(), rows)
    assert (on_amd["machine"], on_amd["seeds"], on_amd["seconds_max"]) == (amd, [0, 2], 22.0)
    assert (on_intel["machine"], on_intel["seeds"]) == (intel, [1])
    table = markdown([on_amd, on_intel])
    assert f"| fast | {amd} |" in table and f"| fast | {intel} |" in table
    assert table.count("- **fast**") == 1  # the settings are listed once per recipe


def test_an_experiment_named_after_a_recipe_but_run_with_other_params_is_refused():
    rows = [experiment("fast-seed0", 0, 0.91, 20.0, **{"cnn.epochs": 15})]
    with pytest.raises(SystemExit, match=r"experiment fast-seed0 did not run recipe fast with seed 0: "
                                         r"cnn.epochs=15 \(recipe: 2\)"):  # fmt: skip
        tabulate([FAST], small_params_dict(), rows)
    with pytest.raises(SystemExit, match="seed differs"):
        tabulate([FAST], small_params_dict(), [experiment("fast-seed1", 0, 0.91, 20.0)])


def test_a_clone_keeps_the_rows_it_has_no_runs_of_and_adds_its_own_machines_beside_them(tmp_path):
    from fmnist.tools.speedrun import write, written

    amd, intel = "AMD EPYC (AVX2), 2 CPUs", "Intel Xeon (AMX), 2 CPUs"
    on = lambda machine, seed, seconds: (
        experiment(f"fast-seed{seed}", seed, 0.91, seconds)
        | {  # noqa: E731
            "dvclive/train_cnn/metrics.json:machine": machine
        }
    )
    out = str(tmp_path / "speedrun")
    write(tabulate([FAST], small_params_dict(), [on(intel, 0, 12.0)]), out)
    write(tabulate([FAST], small_params_dict(), [], written(out)), out)  # a clone without the experiments
    [kept] = written(out)
    assert (kept["machine"], kept["seeds"], kept["seconds_max"]) == (intel, [0], 12.0)
    write(tabulate([FAST], small_params_dict(), [on(amd, 0, 20.0), on(amd, 1, 22.0)], written(out)), out)
    assert [(e["machine"], e["seeds"]) for e in written(out)] == [(amd, [0, 1]), (intel, [0])]
    write(tabulate([FAST], small_params_dict(), [], []), str(tmp_path / "elsewhere"))  # nothing run anywhere
    assert "none yet" in (tmp_path / "elsewhere.md").read_text()


def test_a_kept_row_is_judged_on_todays_target_and_only_if_it_ran_todays_settings(tmp_path):
    from fmnist.tools.speedrun import write, written

    out = str(tmp_path / "speedrun")
    write(tabulate([FAST], small_params_dict(), [experiment("fast-seed0", 0, 0.91, 20.0)]), out)
    stricter = Recipe("fast", "a short run", FAST.params, {"accuracy": 90.0, "seconds": 15})
    [kept] = tabulate([stricter], small_params_dict(), [], written(out))
    assert kept["target"] == stricter.target and kept["met"] is False
    shorter = Recipe("fast", "a shorter run", {"cnn.epochs": 1}, FAST.target)
    [kept] = tabulate([shorter], small_params_dict(), [], written(out))
    assert "met" not in kept and kept["ran_instead"] == {"cnn.epochs": 2, "cnn.hflip": True}
    assert kept["settings"] == shorter.params  # the settings section lists the recipe as it is now
    assert "| not judged: ran `cnn.epochs=2`, `cnn.hflip=true` |" in markdown([kept])
    write([kept], out)
    [again] = tabulate([shorter], small_params_dict(), [], written(out))  # rewritten: still what it ran
    assert again["ran_instead"] == kept["ran_instead"]
    [back] = tabulate([FAST], small_params_dict(), [], written(out))  # the recipe returns to what it ran
    assert "ran_instead" not in back and back["met"] and back["settings"] == FAST.params


def test_each_row_states_its_training_flop_rate_against_its_machines_measured_peak(tmp_path, monkeypatch):
    from fmnist.tools import speedrun
    from fmnist.tools.recipebook import resolve

    amd = "AMD EPYC (AVX2), 2 CPUs"
    monkeypatch.setattr(speedrun, "PEAKS", tmp_path / "matmul_peak.json")
    (tmp_path / "matmul_peak.json").write_text('{"%s": {"fp32": 200.0, "bf16": 50.0}}' % amd)
    run = experiment("fast-seed0", 0, 0.91, 20.0) | {"dvclive/train_cnn/metrics.json:machine": amd,
                                                     "dvclive/train_cnn/metrics.json:precision": "fp32"}  # fmt: skip
    [entry] = tabulate([FAST], small_params_dict(), [run])
    flops = speedrun.training_flops_per_run(resolve(FAST, small_params_dict()))
    assert entry["train_gflops"] == pytest.approx(flops / 20.0 / 1e9)
    assert entry["share_of_peak"] == pytest.approx(entry["train_gflops"] / 200.0)
    assert "of fp32's 200)" in markdown([entry])
    bare = {k.replace("dvclive/train_cnn/metrics.json:precision", "precision"): v for k, v in run.items()}
    assert tabulate([FAST], small_params_dict(), [bare])[0]["precision"] == "fp32"  # as DVC names a unique column
    [elsewhere] = tabulate([FAST], small_params_dict(), [run | {"dvclive/train_cnn/metrics.json:machine": "other"}])
    assert elsewhere["share_of_peak"] is None and "fp32; peak not measured" in markdown([elsewhere])


def test_a_training_step_counts_forward_and_backward_flops():
    from fmnist.networks import CNNSpec, build_cnn, forward_flops
    from fmnist.tools.speedrun import training_flops

    model = build_cnn(CNNSpec("lenet"), 0.5)
    ratio = training_flops(model) / forward_flops(model)
    assert 2.5 < ratio <= 3.0  # backward is about twice forward; the first conv needs no input gradient
