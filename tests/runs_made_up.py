"""Runs made up for the views' tests: a recipe's seeds on two CPU families, an older version
of it, a run with an override on top, and a validation trial."""

from __future__ import annotations

from fmnist.recipes import Recipe, Target
from fmnist.runs import Gap, Model, Run

FAST = Recipe("fast", "a short run", {"cnn.epochs": 2, "cnn.hflip": True}, Target(90.0, 30))
OLD = {"cnn.epochs": 3, "cnn.hflip": True}


def run(seed: int, cnn: float, seconds: float, family: str = "EPYC Zen 4", settings: dict | None = None,
        recipe: str | None = "fast", split: str = "test", **fields) -> Run:  # fmt: skip
    return Run(f"{recipe or 'exp'}-seed{seed}", seed, split, Model(0.8941, 0.8879, 0.9000, 95.2, 99),
               Model(cnn, cnn - 0.005, cnn + 0.005, seconds, 2), Gap(cnn - 0.8941, cnn - 0.9, cnn - 0.89, 1.7e-16),
               recipe=recipe, settings=FAST.params if settings is None else settings,
               family=family, machine=f"{family} details", precision="bf16", train_flops=6e12, **fields)  # fmt: skip


RUNS = [
    run(0, 0.921, 30.5, settings=OLD),
    run(0, 0.91, 20.0),
    run(1, 0.92, 28.0),
    run(2, 0.915, 25.0),
    run(0, 0.93, 12.0, family="Xeon AMX"),
    run(1, 0.925, 11.0, family="Xeon AMX"),
    run(0, 0.95, 40.0, overrides={"cnn.epochs": 20}),
    run(0, 0.94, 50.0, recipe=None, settings={}, split="val", overrides={"cnn.width": 32}, views={"flip": 0.93}),
]

# An MLP recipe on FAST's budget: each seed trains both families, so each run has its pair.
BOTH = Recipe("fast-mlp", "the MLP at fast's budget", {**FAST.params, "mlp.impl": "torch"}, Target(None, 30, "mlp"),
              extends="fast")  # fmt: skip


def both(seed: int, mlp: float, cnn: float, p: float) -> Run:
    return Run(f"fast-mlp-seed{seed}", seed, "test", Model(mlp, seconds=20.0 + seed), Model(cnn, seconds=25.0),
               Gap(cnn - mlp, p=p), recipe="fast-mlp", settings=BOTH.params, family="EPYC Zen 4")  # fmt: skip


PAIRED = [both(0, 0.90, 0.92, 1e-9), both(1, 0.905, 0.921, 2e-8), both(2, 0.899, 0.925, 3e-12)]
