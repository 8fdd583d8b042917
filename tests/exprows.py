"""exp_show rows as ``dvc.api.exp_show`` gives them, made up for the views' tests: a
baseline, the workspace, two recipes with two seeds each, a hand-made experiment."""

from __future__ import annotations

import yaml

from fmnist.tools.expdata import flatten
from fmnist.tools.recipebook import load_recipe

from conftest import REPO

BASE = flatten(yaml.safe_load((REPO / "params.yaml").read_text()))


def exp(name: str, typ: str, mlp: float, cnn: float, cnn_seconds: float, seed: int = 0, **changes) -> dict:
    params = {**BASE, "seed": seed, **changes}
    metrics = {"mlp": (mlp, 0.006), "cnn": (cnn, 0.005), "cnn_minus_mlp": (cnn - mlp, 0.006)}
    row = {"Experiment": None if typ == "baseline" else name, "rev": name, "typ": typ, "State": "Success",
           **{f"params.yaml:{k}": v for k, v in params.items()},
           "metrics/metrics.json:cnn_minus_mlp.mcnemar_p": 1.7e-16,
           "dvclive/train_mlp/metrics.json:train_seconds": 178.2,
           "dvclive/train_cnn/metrics.json:train_seconds": cnn_seconds}  # fmt: skip
    for model, (value, half) in metrics.items():
        row |= {f"metrics/metrics.json:{model}.accuracy": value, f"metrics/metrics.json:{model}.accuracy_low": value - half,
                f"metrics/metrics.json:{model}.accuracy_high": value + half}  # fmt: skip
    return row


def recipe_run(recipe: str, seed: int, cnn: float, cnn_seconds: float) -> dict:
    return exp(
        f"{recipe}-seed{seed}", "branch", 0.8941, cnn, cnn_seconds, seed, **load_recipe(recipe, REPO / "recipes").params
    )


HAND_MADE = {"cnn.epochs": 30, "cnn.lr": 0.0005, "cnn.batch_size": 128, "cnn.dropout": 0.3}
ROWS = [exp("4289b93", "baseline", 0.8941, 0.9183, 305.1), exp("workspace", "baseline", 0.8941, 0.9183, 305.1),
        recipe_run("speed92", 0, 0.9269, 23.4), recipe_run("speed92", 1, 0.9281, 24.0),
        recipe_run("speed93", 0, 0.9352, 55.0), recipe_run("speed93", 1, 0.9348, 58.0),
        exp("longer-lenet", "branch", 0.8941, 0.9201, 610.0, **HAND_MADE)]  # fmt: skip
