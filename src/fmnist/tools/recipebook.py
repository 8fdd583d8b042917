"""What a recipe is: a YAML file in recipes/ of params overrides on top of params.yaml,
resolved and validated against the committed params (the `fmnist recipe` verb runs them,
the speedrun table reads them)."""

from __future__ import annotations

import copy
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import yaml

from fmnist.errors import ParamsError
from fmnist.params import PARAMS_FILE, Params, parse_params, read_yaml
from fmnist.tools.expdata import column, flatten, name_of, same_value

RECIPES_DIR = Path("recipes")
VALIDATION = {"prepare.val_fraction": 0.1, "evaluate.split": "val"}  # choosing, never on test


@dataclass(frozen=True)
class Recipe:
    name: str
    description: str
    params: dict  # dotted key -> value
    target: dict | None = None  # {"accuracy": %, "seconds": training seconds}, for the speedrun table

    def options(self, extra: dict | None = None) -> list[str]:
        """The `-S key=value` options of ``dvc exp run``."""
        return [f"{k}={yaml.safe_dump(v, default_flow_style=True).strip().removesuffix('...').strip()}"
                for k, v in {**self.params, **(extra or {})}.items()]  # fmt: skip

    def experiment(self, seed: int, val: bool = False, sets: dict | None = None) -> str:
        """RECIPE[-val][-LEAFvalue...]-seedN: `-S prepare.train_size=1000` adds -train_size1000."""
        tags = "".join(f"-{key.rsplit('.', 1)[-1]}{_tag(value)}" for key, value in (sets or {}).items())
        return f"{self.name}{'-val' if val else ''}{tags}-seed{seed}"


def _tag(value) -> str:
    text = yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip()
    return re.sub(r"[^A-Za-z0-9_.]+", "_", text).strip("_")


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


def override(raw: dict, changes: dict) -> dict:
    """params.yaml's mapping with dotted-key changes applied; an unknown key is an error."""
    raw = copy.deepcopy(raw)
    for key, value in changes.items():
        *sections, leaf = key.split(".")
        node = raw
        for section in sections:
            if not isinstance(node.get(section), dict):
                raise ParamsError(f"unknown key '{key}'")
            node = node[section]
        if leaf not in node:
            raise ParamsError(f"unknown key '{key}'")
        node[leaf] = value
    return raw


def load_recipe(name: str, directory: Path = RECIPES_DIR) -> Recipe:
    path = directory / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in directory.glob("*.yaml"))) or "none"
        raise ParamsError(f"{path}: no such recipe (known: {known})")
    data = read_yaml(path) or {}
    if set(data) - {"description", "params", "target"} or not isinstance(data.get("params", {}), dict):
        raise ParamsError(f"{path}: expected the keys 'description', 'params' (a mapping) and 'target'")
    target = data.get("target")
    if target is not None and (not isinstance(target, dict) or set(target) != {"accuracy", "seconds"}):
        raise ParamsError(f"{path}: target: expected accuracy (%) and seconds, got {target!r}")
    return Recipe(name, str(data.get("description", "")).strip(), data.get("params") or {}, target)


def resolve(recipe: Recipe, base: dict, extra: dict | None = None) -> Params:
    """The validated params a run of ``recipe`` trains with, on top of ``base``."""
    try:
        return parse_params(override(base, {**recipe.params, **(extra or {})}))
    except ParamsError as exc:
        raise ParamsError(f"{RECIPES_DIR / recipe.name}.yaml: {exc}") from None


def all_recipes(directory: Path = RECIPES_DIR) -> list[Recipe]:
    return [load_recipe(p.stem, directory) for p in sorted(directory.glob("*.yaml"))]


def drifted(workspace: dict, committed: dict) -> dict:
    """The committed value of every param the workspace changed (an applied experiment, an
    edit): a recipe sets them back, so it always runs on the commit's params plus its own."""
    committed = flatten(committed)
    return {k: committed[k] for k, v in flatten(workspace).items() if k in committed and not same_value(v, committed[k])}


def committed_params() -> dict:
    """params.yaml as HEAD has it; the workspace's where git cannot say."""
    shown_file = subprocess.run(["git", "show", f"HEAD:{PARAMS_FILE}"], capture_output=True, text=True)
    if shown_file.returncode != 0:
        return read_yaml(PARAMS_FILE)
    return read_yaml(f"HEAD:{PARAMS_FILE}", shown_file.stdout)


def recipe_of(row: dict, recipes: Path = RECIPES_DIR) -> str | None:
    """The recipe an experiment ran, when it is named after one (`fmnist recipe run` names
    them RECIPE[-val][-tags]-seedN) and ran that recipe's params; else None."""
    parts = name_of(row).split("-")
    if len(parts) < 2 or not re.fullmatch(r"seed\d+", parts[-1]):
        return None
    for end in range(len(parts) - 1, 0, -1):  # the longest prefix that names a recipe file
        if (recipes / f"{'-'.join(parts[:end])}.yaml").is_file():
            try:
                recipe = load_recipe("-".join(parts[:end]), recipes)
            except ParamsError:
                return None
            ran_it = all(same_value(column(row, k), v) for k, v in recipe.params.items())
            return recipe.name if ran_it else None
    return None
