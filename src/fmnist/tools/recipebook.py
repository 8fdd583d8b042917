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

    def experiment(self, seed: int, val: bool = False) -> str:
        return f"{self.name}{'-val' if val else ''}-seed{seed}"


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
    them RECIPE-seedN) and ran that recipe's params; else None."""
    match = re.match(r"^(.+?)(-val)?-seed(\d+)$", name_of(row))
    if not match or not (recipes / f"{match.group(1)}.yaml").is_file():
        return None
    try:
        recipe = load_recipe(match.group(1), recipes)
    except ParamsError:
        return None
    if not all(same_value(column(row, k), v) for k, v in recipe.params.items()):
        return None
    return recipe.name
