"""`fmnist recipe`: named training recipes a clone can run by name (files in recipes/).

    fmnist recipe list                          # every recipe and what it is for
    fmnist recipe show speed92                  # its `-S key=value` options
    fmnist recipe run speed92 --seeds 0 1 2     # one experiment per seed: speed92-seed0, ...
    fmnist recipe run speed92 --seeds 0 --val   # on the validation split: speed92-val-seed0
    fmnist recipe run speed92 --seeds 0 1 --queue   # queue them; then `dvc queue start -j 1`
    fmnist recipe run study --seeds 0 1 2 -S prepare.train_size=1000,3000 --queue
                                                # a grid: study-train_size1000-seed0, ...
    fmnist recipe run speed92 --seeds 3 --remote origin   # a worker: run, then `dvc exp push`
    fmnist recipe collect speed92 --seeds 0 1 2 3 4 --remote origin --out reports/speed92
    fmnist recipe table study speed92 speed93 --out reports/speedrun   # the speedrun table and plot

A recipe is a YAML file of params overrides on top of params.yaml. Experiment names are
the recipe and the seed, so a rerun of a finished one is served by DVC's run cache, a
worker skips what its remote already has, and a sweep spread over machines is collected
by name; `collect` names the slices that are missing instead of averaging fewer seeds.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from fmnist.errors import ParamsError
from fmnist.params import PARAMS_FILE, parse_params, read_yaml
from fmnist.tools import speedrun
from fmnist.tools.recipebook import (
    VALIDATION,
    Recipe,
    all_recipes,
    committed_params,
    drifted,
    load_recipe,
    override,
    parse_sets,
    resolve,
)


def run_command(recipe: Recipe, seed: int, val: bool, queue: bool, pull: bool = False,
                reset: dict | None = None, sets: dict | None = None, force: bool = False) -> list[str]:  # fmt: skip
    """The `dvc exp run` of one seed: the recipe's params, then `-S` extras on top of them."""
    sets = sets or {}
    extra = {k: v for k, v in (reset or {}).items() if k not in recipe.params and k not in sets}
    extra |= {"seed": seed, **(VALIDATION if val else {}), **sets}
    command = ["dvc", "exp", "run", "-n", recipe.experiment(seed, val, sets)]
    command += [arg for option in recipe.options(extra) for arg in ("-S", option)]
    # A worker: data and run cache from the remote, and a temporary workspace, so a killed
    # run leaves the clone as it was and a rerun starts clean.
    command += ["--temp", "--pull", "--allow-missing"] if pull else []
    command += ["--force"] if force else []  # every stage runs here, none is restored from a cache
    return command + (["--queue"] if queue else [])


def dvc(*args: str, capture: bool = False) -> subprocess.CompletedProcess:
    print("+ dvc " + " ".join(args), flush=True)
    return subprocess.run(["dvc", *args], capture_output=capture, text=True)


def remote_experiments(remote: str) -> set[str]:
    """Names of the experiments of this commit that the git remote already has."""
    listed = dvc("exp", "list", remote, "--name-only", capture=True)
    if listed.returncode != 0:
        raise SystemExit(f"fmnist recipe: cannot list the experiments on {remote}:\n{listed.stderr.strip()}")
    return set(listed.stdout.split())


def run_seeds(recipe: Recipe, seeds: list[int], val: bool, queue: bool, remote: str | None, dry: bool,
              grid: list[dict] | None = None, force: bool = False) -> None:  # fmt: skip
    """Each seed's experiment at each point of the `-S` grid; with a remote, skip what it
    has and push what finishes."""
    done = remote_experiments(remote) if remote and not dry else set()
    committed = committed_params()
    for sets, seed in ((sets, seed) for sets in grid or [{}] for seed in seeds):
        # `dvc exp run` leaves each finished experiment applied to the workspace: read it anew.
        reset = drifted(read_yaml(PARAMS_FILE), committed)
        name = recipe.experiment(seed, val, sets)
        if name in done:
            print(f"fmnist recipe: {name} is already on {remote}: skipped", flush=True)
            continue
        command = run_command(recipe, seed, val, queue, remote is not None, reset, sets, force)
        print("+ " + " ".join(command), flush=True)
        if dry:
            continue
        if subprocess.run(command).returncode != 0:
            sys.exit(1)
        if remote and dvc("exp", "push", "--run-cache", remote, name).returncode != 0:
            sys.exit(1)


def collect(recipe: Recipe, seeds: list[int], val: bool, remote: str, out: str, allow_missing: bool) -> None:
    """Pull the sweep's experiments from the remote and summarise them by name."""
    names = [recipe.experiment(seed, val) for seed in seeds]
    present = [n for n in names if n in remote_experiments(remote)]
    if present and dvc("exp", "pull", remote, *present).returncode != 0:
        sys.exit(1)
    from fmnist.tools import summarize

    summarize.main(["--exp", *names, "--out", out] + (["--allow-missing"] if allow_missing else []))


def table(names: list[str], revs: list[str] | None, out: str) -> None:
    from dvc.api import exp_show

    recipes = [load_recipe(n) for n in names]
    base = committed_params()
    rows = exp_show(revs=revs, force=True)
    speedrun.write(speedrun.tabulate(recipes, base, rows, speedrun.written(out)), out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="fmnist recipe", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="every recipe and what it is for")
    show = sub.add_parser("show", help="a recipe's -S options")
    show.add_argument("name")
    run = sub.add_parser("run", help="one `dvc exp run` per seed, named RECIPE-seedN")
    run.add_argument("name")
    run.add_argument("--seeds", type=int, nargs="+", default=[0])
    run.add_argument("--val", action="store_true", help="train on 90 %% and score the validation split")
    run.add_argument("--queue", action="store_true", help="queue instead of running now")
    run.add_argument("-S", "--set-param", dest="sets", action="append", default=[], metavar="KEY=VALUE[,VALUE...]",
                     help="a params override on top of the recipe; comma-separated values make a grid")
    run.add_argument("--force", action="store_true", help="rerun every stage, none restored from DVC's caches")
    run.add_argument("--remote", help="git remote: skip experiments it has, `dvc exp push` new ones")
    run.add_argument("--dry-run", action="store_true", help="print the commands only")
    gather = sub.add_parser("collect", help="pull a sweep's experiments and summarise them")
    gather.add_argument("name")
    gather.add_argument("--seeds", type=int, nargs="+", required=True)
    gather.add_argument("--val", action="store_true")
    gather.add_argument("--remote", default="origin", help="git remote (default: origin)")
    gather.add_argument("--out", default=None, help="summary path without suffix (default: reports/NAME)")
    gather.add_argument("--allow-missing", action="store_true", help="summarise what is there")
    tab = sub.add_parser("table", help="the speedrun table and plot of recipes' seeds")
    tab.add_argument("names", nargs="+")
    tab.add_argument("--rev", nargs="+", help="baseline commits of the runs (default: HEAD)")
    tab.add_argument("--out", default="reports/speedrun")
    args = parser.parse_args(argv)

    try:
        if args.command == "list":
            for recipe in all_recipes():
                print(f"{recipe.name:<10} {recipe.description}")
            return
        if args.command == "table":
            table(args.names, args.rev, args.out)
            return
        recipe = load_recipe(args.name)
        base = read_yaml(PARAMS_FILE)
        resolve(recipe, base)  # a recipe or -S that names a wrong key or value fails here, not in DVC
        grid = parse_sets(getattr(args, "sets", []))
        for sets in grid:
            try:
                parse_params(override(override(base, recipe.params), sets))
            except ParamsError as exc:
                raise ParamsError(f"-S {' -S '.join(f'{k}={v}' for k, v in sets.items())}: {exc}") from None
        if args.command == "show":
            print(" ".join(f"-S {option}" for option in recipe.options()))
        elif args.command == "collect":
            collect(recipe, args.seeds, args.val, args.remote, args.out or f"reports/{recipe.name}", args.allow_missing)
        else:
            run_seeds(recipe, args.seeds, args.val, args.queue, args.remote, args.dry_run, grid, args.force)
    except ParamsError as exc:
        raise SystemExit(f"fmnist recipe: {exc}") from None


if __name__ == "__main__":
    main()
