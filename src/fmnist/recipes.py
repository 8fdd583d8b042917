"""What a recipe is: a YAML file in recipes/ of params overrides on top of params.yaml, with
what it is for and, for the time-to-accuracy recipes, a target. A recipe may extend another:
the MLP's recipes take the CNN recipe of the same budget, so one run trains both families at
that budget and scores them on the same images. Loaded and validated here; `fmnist recipe`
runs them and the run record names them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from fmnist.errors import ParamsError
from fmnist.params import Params, override, parse_params, read_yaml

RECIPES_DIR = Path("recipes")
VALIDATION = {"prepare.val_fraction": 0.1, "evaluate.split": "val"}  # choosing, never on test


MODELS = ("cnn", "mlp")


@dataclass(frozen=True)
class Target:
    accuracy: float | None  # test accuracy, percent, that the mean over seeds must reach; None: the best in the time
    seconds: float  # training seconds that the slowest seed must stay within
    model: str = "cnn"  # whose accuracy and seconds: "cnn" or "mlp"


@dataclass(frozen=True)
class Recipe:
    name: str
    description: str
    params: dict = field(default_factory=dict)  # dotted key -> value, the extended recipe's included
    target: Target | None = None
    extends: str | None = None  # the recipe whose params this one starts from

    @property
    def seed_key(self) -> str:
        """What a seed sets: a recipe aimed at the CNN seeds the CNN alone, so each seed
        retrains nothing else (the MLP it is paired with is the committed seed's); any other
        recipe seeds the whole run, both families from the same seed."""
        return "cnn.seed" if self.target and self.target.model == "cnn" else "seed"

    def options(self, extra: dict | None = None) -> list[str]:
        """The `-S key=value` options of ``dvc exp run``."""
        return [f"{k}={typed(v)}" for k, v in {**self.params, **(extra or {})}.items()]

    def experiment(self, seed: int, val: bool = False, sets: dict | None = None) -> str:
        """RECIPE[-val][-LEAFvalue...]-seedN: `-S prepare.train_size=1000` adds -train_size1000."""
        tags = "".join(f"-{key.rsplit('.', 1)[-1]}{_tag(value)}" for key, value in (sets or {}).items())
        return f"{self.name}{'-val' if val else ''}{tags}-seed{seed}"


def typed(value) -> str:
    """A value as YAML writes it in flow style: what `-S` reads back as the same type."""
    return yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip()


def _tag(value) -> str:
    return re.sub(r"[^A-Za-z0-9_.]+", "_", typed(value)).strip("_")


def parse_sets(options: list[str]) -> list[dict]:
    """`-S key=v1,v2` options as the grid of their values (DVC's own -S grid syntax), one
    dict of dotted key -> value per point; a list value stays whole: `-S k=[1,2]`."""
    grid: list[dict] = [{}]
    for option in options:
        key, sep, text = option.partition("=")
        if not sep or not key:
            raise ParamsError(f"-S {option!r}: expected key=value")
        texts = [text] if text.lstrip().startswith("[") else text.split(",")
        values = [yaml.safe_load(t) for t in texts]
        grid = [{**point, key: value} for point in grid for value in values]
    return grid


def load_recipe(name: str, directory: Path = RECIPES_DIR) -> Recipe:
    path = directory / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in directory.glob("*.yaml"))) or "none"
        raise ParamsError(f"{path}: no such recipe (known: {known})")
    data = read_yaml(path) or {}
    if set(data) - {"description", "extends", "params", "target"} or not isinstance(data.get("params", {}), dict):
        raise ParamsError(f"{path}: expected the keys 'description', 'extends', 'params' (a mapping) and 'target'")
    base = load_recipe(str(data["extends"]), directory).params if data.get("extends") else {}
    return Recipe(name, str(data.get("description", "")).strip(), {**base, **(data.get("params") or {})},
                  _target(path, data.get("target")), data.get("extends"))  # fmt: skip


def _target(path: Path, target) -> Target | None:
    if target is None:
        return None
    keys = set(target) if isinstance(target, dict) else set()
    if not {"seconds"} <= keys <= {"accuracy", "seconds", "model"} or target.get("model", "cnn") not in MODELS:
        raise ParamsError(f"{path}: target: expected seconds, and accuracy (%) and model (cnn or mlp) if "
                          f"any, got {target!r}")  # fmt: skip
    accuracy = target.get("accuracy")
    return Target(None if accuracy is None else float(accuracy), float(target["seconds"]), target.get("model", "cnn"))


def all_recipes(directory: Path = RECIPES_DIR) -> dict[str, Recipe]:
    return {p.stem: load_recipe(p.stem, directory) for p in sorted(directory.glob("*.yaml"))}


def resolve(recipe: Recipe, base: dict, extra: dict | None = None) -> Params:
    """The validated params a run of ``recipe`` trains with, on top of ``base``; every key
    and value checked, the architecture and the transformations' names included."""
    try:
        return parse_params(override(base, {**recipe.params, **(extra or {})}))
    except ParamsError as exc:
        where = f"-S {' -S '.join(f'{k}={typed(v)}' for k, v in extra.items())} on " if extra else ""
        raise ParamsError(f"{where}{RECIPES_DIR / recipe.name}.yaml: {exc}") from None


def recipe_named(experiment: str, recipes: dict[str, Recipe]) -> Recipe | None:
    """The recipe an experiment is named after (RECIPE[-val][-tags]-seedN), if any: the
    longest prefix of its name that names one."""
    parts = experiment.split("-")
    if len(parts) < 2 or not re.fullmatch(r"seed\d+", parts[-1]):
        return None
    return next((recipes[p] for end in range(len(parts) - 1, 0, -1) if (p := "-".join(parts[:end])) in recipes), None)
