"""Named recipes (recipes/*.yaml): each one is valid params, trains, and runs by name."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import yaml

from fmnist.errors import ParamsError
from fmnist.inference import predict_logits
from fmnist.params import drifted
from fmnist.prepared import Split
from fmnist.recipes import Recipe, Target, all_recipes, load_recipe, parse_sets, recipe_named, resolve
from fmnist.runs import READ, run_seed
from fmnist.tools.recipe import RECORDED_STAGE, run_command
from fmnist.training import mlp_network, train_network

from conftest import REPO, small_params_dict

RECIPES = REPO / "recipes"
EMPTY = Split(np.zeros((0, 28, 28), np.float32), np.zeros(0, np.int64))


@pytest.mark.parametrize("name", list(all_recipes(RECIPES)))
def test_each_recipe_trains_one_epoch_on_a_small_slice(name):
    one = {"cnn.epochs": 1, "cnn.device": "cpu", "mlp.torch.epochs": 1}
    params = resolve(load_recipe(name, RECIPES), small_params_dict(), one)
    rng = np.random.default_rng(0)
    n = 2 * max(params.cnn.batch_size, params.mlp.torch.batch_size)
    split = Split(rng.random((n, 28, 28), dtype=np.float32), np.arange(n) % 10)
    model, seconds = train_network(split, EMPTY, params.cnn, 0, torch.device("cpu"))
    x = torch.from_numpy(split.x[:8]).unsqueeze(1)
    logits = predict_logits(model, x, 8, params.evaluate.tta_flip, params.evaluate.tta_shift)
    assert logits.shape == (8, 10) and torch.isfinite(logits).all() and seconds > 0
    if params.mlp.impl == "torch":
        mlp, _ = train_network(split, EMPTY, params.mlp.torch, 0, torch.device("cpu"), network=mlp_network(params.mlp))
        assert torch.isfinite(mlp(x)).all()


def test_an_mlp_recipe_extends_the_cnn_recipe_of_its_budget_and_aims_at_the_mlp():
    extending = [r for r in all_recipes(RECIPES).values() if r.extends and r.target]
    assert extending, "no MLP recipe at a CNN budget"
    for recipe in extending:
        base = load_recipe(recipe.extends, RECIPES)
        assert recipe.params.items() >= base.params.items() and recipe.params["mlp.impl"] == "torch"
        assert recipe.target.model == "mlp" and base.target and recipe.target.seconds == base.target.seconds


def test_a_recipe_target_needs_seconds_and_names_a_model_it_knows(tmp_path):
    (tmp_path / "base.yaml").write_text("description: b\nparams: {cnn.epochs: 2}\n")
    (tmp_path / "on.yaml").write_text(
        "description: o\nextends: base\nparams: {cnn.lr: 0.01}\ntarget: {seconds: 20, model: mlp}\n"
    )
    on = load_recipe("on", tmp_path)
    assert on.params == {"cnn.epochs": 2, "cnn.lr": 0.01} and on.target == Target(None, 20.0, "mlp")
    for target in ("{accuracy: 90}", "{seconds: 20, model: rnn}", "{seconds: 20, budget: 3}"):
        (tmp_path / "bad.yaml").write_text(f"description: b\nparams: {{}}\ntarget: {target}\n")
        with pytest.raises(ParamsError, match=r"bad.yaml: target: expected seconds"):
            load_recipe("bad", tmp_path)


def test_every_recipe_says_what_it_is_for():
    assert all(r.description for r in all_recipes(RECIPES).values())


def test_a_recipe_with_a_wrong_key_or_value_names_the_file_and_the_key():
    bad = Recipe("typo", "a typo", {"cnn.epochz": 3})
    with pytest.raises(ParamsError, match=r"recipes/typo.yaml: unknown key 'cnn.epochz'"):
        resolve(bad, small_params_dict())
    with pytest.raises(ParamsError, match=r"recipes/typo.yaml: .*cnn.lr: expected a finite number > 0.0, got nan"):
        resolve(Recipe("typo", "", {"cnn.lr": float("nan")}), small_params_dict())
    with pytest.raises(ParamsError, match=r"-S cnn.arch=vgq on recipes/speed92.yaml: cnn.arch: expected one of"):
        resolve(load_recipe("speed92", RECIPES), small_params_dict(), {"cnn.arch": "vgq"})


def test_an_unknown_recipe_lists_the_known_ones(tmp_path):
    (tmp_path / "a.yaml").write_text("description: a\nparams: {}\n")
    with pytest.raises(ParamsError, match=r"nope.yaml: no such recipe \(known: a\)"):
        load_recipe("nope", tmp_path)


def test_experiment_names_are_the_recipe_and_the_seed_so_reruns_find_them():
    recipe = Recipe("speedy", "", {"cnn.epochs": 4, "cnn.hflip": True, "cnn.lr": 0.005})
    assert run_command(recipe, 3, val=False, queue=False)[1:] == [
        "exp", "run", "-n", "speedy-seed3",
        "-S", "cnn.epochs=4", "-S", "cnn.hflip=true", "-S", "cnn.lr=0.005", "-S", "seed=3", "--temp",
        "evaluate"]  # fmt: skip
    val = run_command(recipe, 0, val=True, queue=True, pull=True)
    assert val[4] == "speedy-val-seed0" and "prepare.val_fraction=0.1" in val and "evaluate.split=val" in val
    assert val[-4:] == ["--pull", "--allow-missing", "--queue", "evaluate"]  # a queued run is a temporary one already


def test_a_recipe_runs_the_stages_the_record_reads_unless_asked_for_all():
    recipe = Recipe("speedy", "", {"cnn.epochs": 4})
    assert run_command(recipe, 0, val=False, queue=False)[-2:] == ["--temp", "evaluate"]
    assert run_command(recipe, 0, val=False, queue=False, all_stages=True)[-1] == "--temp"
    stages = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]

    def outputs(name: str) -> set[str]:
        entries = [o for kind in ("outs", "metrics", "plots") for o in stages[name].get(kind, [])]
        return {next(iter(o)) if isinstance(o, dict) else o for o in entries}

    def upstream(name: str) -> set[str]:  # a stage and every stage whose outputs it reads
        before = [s for s in stages if outputs(s) & set(stages[name].get("deps", []))]
        return {name}.union(*map(upstream, before))

    ran = upstream(RECORDED_STAGE)
    assert set(READ) <= set().union(*map(outputs, ran)) and {"robustness", "export"}.isdisjoint(ran)


def test_a_cnn_recipe_seeds_the_cnn_alone_and_an_mlp_recipe_both_families():
    cnn, mlp = load_recipe("speed92", RECIPES), load_recipe("mlp20", RECIPES)
    assert "cnn.seed=3" in run_command(cnn, 3, val=False, queue=False)
    assert "seed=3" not in run_command(cnn, 3, val=False, queue=False)  # train_mlp's inputs stay as committed
    assert "seed=3" in run_command(mlp, 3, val=False, queue=False)  # paired: both from the same seed
    assert run_seed({"seed": 0, "cnn": {"seed": 3}}) == 3 and run_seed({"seed": 2, "cnn": {"seed": None}}) == 2


def test_a_recipe_sets_back_the_params_an_applied_experiment_left_in_the_workspace():
    committed = {"seed": 0, "cnn": {"epochs": 15, "hflip": False, "lr": 0.001}}
    workspace = {"seed": 3, "cnn": {"epochs": 4, "hflip": True, "lr": 1e-3}}
    reset = drifted(workspace, committed)
    assert reset == {"seed": 0, "cnn.epochs": 15, "cnn.hflip": False}
    command = run_command(Recipe("speedy", "", {"cnn.epochs": 4}), 1, val=False, queue=False, reset=reset)
    assert command[5:] == ["-S", "cnn.epochs=4", "-S", "seed=1", "-S", "cnn.hflip=false", "--temp", "evaluate"]


def test_a_grid_of_overrides_on_top_of_a_recipe_names_each_point():
    grid = parse_sets(["prepare.train_size=1000,3000", "mlp.hidden_layer_sizes=[64,32]"])
    assert grid == [{"prepare.train_size": 1000, "mlp.hidden_layer_sizes": [64, 32]},
                    {"prepare.train_size": 3000, "mlp.hidden_layer_sizes": [64, 32]}]  # fmt: skip
    command = run_command(Recipe("study", "", {}), 2, val=False, queue=True, sets=grid[1], force=True)
    assert command[1:5] == ["exp", "run", "-n", "study-train_size3000-hidden_layer_sizes64_32-seed2"]
    assert "prepare.train_size=3000" in command and command[-3:] == ["--force", "--queue", "evaluate"]
    assert recipe_named("study-train_size3000-seed2", all_recipes(RECIPES)).name == "study"
    assert recipe_named("lenet-fast-seed0", all_recipes(RECIPES)).name == "lenet-fast"
    assert recipe_named("nothing-seed0", all_recipes(RECIPES)) is None
    with pytest.raises(ParamsError, match=r"-S 'cnn.epochs': expected key=value"):
        parse_sets(["cnn.epochs"])


def test_an_override_wins_over_what_the_recipe_and_the_workspace_say():
    command = run_command(Recipe("speedy", "", {"cnn.epochs": 4}), 1, val=False, queue=False,
                          reset={"cnn.epochs": 15, "cnn.lr": 0.001}, sets={"cnn.epochs": 6})  # fmt: skip
    assert command.count("cnn.epochs=6") == 1 and "cnn.epochs=4" not in command and "cnn.lr=0.001" in command
