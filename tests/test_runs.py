"""One typed record of a run: built once from the files a run leaves, kept one line per run
in reports/runs.jsonl, read back the same; the committed record is well formed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from fmnist.machine import family
from fmnist.params import override
from fmnist.recipes import all_recipes
from fmnist.repo import reader
from fmnist.runs import RECORD, Comparison, Gap, Run, append, family_of_caption, read_record, read_run
from runs_made_up import RUNS

from conftest import REPO, load_default_params


def a_run_in(folder: Path, params: dict, cnn: float = 0.9236) -> Path:
    """The files `dvc repro` leaves for the views, made up."""
    files = {
        "params.yaml": yaml.safe_dump(params),
        "metrics/metrics.json": {"mlp": {"accuracy": 0.8941, "macro_f1": 0.89}, "cnn": {"accuracy": cnn, "macro_f1": 0.92},
                                 "cnn_minus_mlp": {"accuracy": cnn - 0.8941, "accuracy_low": 0.02, "accuracy_high": 0.04,
                                                   "mcnemar_p": 1e-20}},
        "metrics/details.json": {"mlp": {"accuracy_low": 0.888, "accuracy_high": 0.900, "parameters": 235146},
                                 "cnn": {"accuracy_low": 0.918, "accuracy_high": 0.929, "parameters": 100},
                                 "trained_on": {"cnn": {"family": "EPYC Zen 4", "caption": "AMD EPYC (...)",
                                                        "precision": "bf16", "device": "cpu"}}},
        "dvclive/train_mlp/metrics.json": {"train_seconds": 95.2, "step": 98},
        "dvclive/train_cnn/metrics.json": {"train_seconds": 17.5, "step": 1},
    }  # fmt: skip
    for path, content in files.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_text(content if isinstance(content, str) else json.dumps(content))
    return folder


def test_a_run_is_read_from_its_files_with_what_it_changed_and_where_it_trained(tmp_path):
    base = load_default_params()
    recipes = all_recipes(REPO / "recipes")
    ran = override(base, {**recipes["speed92"].params, "seed": 3, "cnn.epochs": 4})
    run = read_run(reader(None, a_run_in(tmp_path, ran)), "speed92-seed3", base, recipes)
    assert (run.recipe, run.seed, run.split, run.overrides) == ("speed92", 3, "test", {"cnn.epochs": 4})
    assert run.settings == recipes["speed92"].params and run.label == "speed92 + cnn.epochs=4"
    assert (run.cnn.accuracy, run.cnn.low, run.cnn.seconds, run.mlp.epochs) == (0.9236, 0.918, 17.5, 99)
    assert (run.family, run.precision, run.gap.p) == ("EPYC Zen 4", "bf16", 1e-20)


def test_a_run_named_after_a_recipe_that_ran_other_params_says_what_it_changed_of_the_recipe(tmp_path):
    base = load_default_params()
    run = read_run(reader(None, a_run_in(tmp_path, override(base, {"cnn.epochs": 2}))), "speed92-seed0", base,
                   all_recipes(REPO / "recipes"))  # fmt: skip
    assert run.recipe == "speed92" and run.overrides["cnn.arch"] == "lenet" and "cnn.epochs" not in run.overrides
    assert run.label.startswith("speed92 + ") and run.digest == Run("x", 0, "test", settings=run.settings).digest
    plain = read_run(reader(None, tmp_path), "longer-lenet", base, all_recipes(REPO / "recipes"))
    assert plain.recipe is None and plain.overrides == {"cnn.epochs": 2} and plain.label == "cnn.epochs=2"


def test_a_revision_without_metrics_is_no_run(tmp_path):
    assert read_run(reader(None, tmp_path), "queued", {}) is None


def test_the_record_appends_each_run_once_and_reads_back_the_same_runs(tmp_path):
    record = tmp_path / "runs.jsonl"
    done = [Run(**{**vars(r), "rev": f"{i:040x}"}) for i, r in enumerate(RUNS[:3])]
    pair = Comparison("a", "b", 0, Gap(0.001, -0.003, 0.007, 0.57), Gap(-0.04, -0.045, -0.03, 1e-38))
    assert append([*done, pair], record) == 4 and append([done[0], pair], record) == 0
    runs, comparisons = read_record(record)
    assert [(r.name, r.cnn.accuracy, r.settings, r.digest) for r in runs] == [
        (r.name, r.cnn.accuracy, r.settings, r.digest) for r in done]  # fmt: skip
    assert runs[0].cnn.low is None  # intervals follow from accuracy and count: not kept
    assert comparisons == [pair]


def test_a_broken_line_in_the_record_is_named(tmp_path):
    record = tmp_path / "runs.jsonl"
    record.write_text('{"name": "x", "seed": 0, "split": "test"}\n{"nonsense": 1}\n')
    with pytest.raises(ValueError, match=r"runs.jsonl:2: not a run of this record"):
        read_record(record)


def test_a_settings_digest_is_one_value_per_version_whatever_the_order_or_notation():
    a = Run("a", 0, "test", settings={"cnn.lr": 0.001, "cnn.epochs": 2})
    b = Run("b", 1, "test", settings={"cnn.epochs": 2.0, "cnn.lr": 1e-3})
    assert a.digest == b.digest != Run("c", 0, "test", settings={"cnn.epochs": 3}).digest


def test_the_committed_record_is_well_formed_and_every_test_run_names_its_machine_family_or_says_not():
    runs, comparisons = read_record(REPO / RECORD)
    assert runs and all(r.source for r in runs) and all(r.split in ("test", "val") for r in runs)
    assert {c.b for c in comparisons} <= {r.name for r in runs}
    assert all(any(m.accuracy is not None and 0 < m.accuracy < 1 for m in (r.cnn, r.mlp)) for r in runs)


@pytest.mark.parametrize(("cpu", "vendor", "number", "flags", "expected"), [
    ("AMD EPYC 9R14", "AuthenticAMD", "25", {"avx512": True}, "EPYC Zen 4"),
    ("AMD EPYC 7R13", "AuthenticAMD", "25", {"avx512": False}, "EPYC Zen 3"),
    ("Intel(R) Xeon(R) Platinum 8488C", "GenuineIntel", "6", {"amx": True, "avx512": True}, "Xeon AMX"),
])  # fmt: skip
def test_a_machine_has_a_short_family_name_a_table_row_has_room_for(cpu, vendor, number, flags, expected):
    assert family({"cpu": cpu, "vendor": vendor, "cpu_family": number, **flags}) == expected
    assert family({"cpu": cpu, "gpu": "NVIDIA H100"}) == "NVIDIA H100"


def test_runs_recorded_before_families_get_theirs_from_the_caption():
    assert family_of_caption("AMD EPYC (AVX-512 BF16, AVX-512, AVX2; no AMX), 2 CPUs") == "EPYC Zen 4"
    assert family_of_caption("AMD EPYC (AVX2; no AVX-512, AVX-512 BF16, AMX), 2 CPUs") == "EPYC Zen 3"
    assert family_of_caption("Intel Xeon with AMX, 2 CPUs, torch 2.13.0") == "Xeon AMX"
