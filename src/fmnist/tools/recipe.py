"""`fmnist recipe`: named training recipes a clone can run by name (files in recipes/).

    fmnist recipe run speed92 --seeds 0 1 2     # one recorded experiment per seed: speed92-seed0, ...
    fmnist recipe run study --seeds 0 -S prepare.train_size=1000,3000 --queue   # a grid, queued
    fmnist recipe collect speed92 --seeds 0 1 2 --remote origin   # pull a sweep, record it
    fmnist recipe table                         # the time-to-accuracy table, from the record

Each seed runs as `dvc exp run --temp`, outside the workspace: `params.yaml` and the models
stay as they were. It runs the stages up to `evaluate`, what the record reads; robustness and
export (half of a fast recipe's wall time) run with `--all-stages`. Each finished seed is
appended to reports/runs.jsonl (what it ran, where, both accuracies, training and wall
seconds). Names are the recipe and the seed, so a sweep spread over machines is collected by
name (docs/experiments.md).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from fmnist import targets
from fmnist.errors import ParamsError
from fmnist.params import drifted, read_yaml
from fmnist.recipes import VALIDATION, Recipe, all_recipes, load_recipe, parse_sets, resolve
from fmnist.repo import checked, dvc, dvc_executable, git, params_at, remote_experiments, run
from fmnist.runs import RECORD, append, read_record, record_experiments, settings_digest
from fmnist.tools import speedrun

RECORDED_STAGE = "evaluate"  # and what it depends on: every file the record reads (fmnist.runs.READ)


def run_command(recipe: Recipe, seed: int, val: bool, queue: bool, pull: bool = False, sets: dict | None = None,
                force: bool = False, reset: dict | None = None, all_stages: bool = False) -> list[str]:  # fmt: skip
    """The `dvc exp run` of one seed: the recipe's params, then `-S` extras on top of them;
    ``reset`` sets back what the workspace changed (:func:`drifted`). Params were checked
    before (:func:`resolve`), so the `check` stage is not among the targets."""
    name = recipe.experiment(seed, val, sets)
    extra = {k: v for k, v in (reset or {}).items() if k not in recipe.params and k not in (sets or {})}
    extra |= {recipe.seed_key: seed, **(VALIDATION if val else {}), **(sets or {})}
    command = [dvc_executable(), "exp", "run", "-n", name, *(a for o in recipe.options(extra) for a in ("-S", o))]
    # Outside the workspace: a finished run is not applied to it, a killed one leaves it as it was.
    command += [] if queue else ["--temp"]
    command += ["--pull", "--allow-missing"] if pull else []  # a worker: inputs and run cache from the remote
    command += ["--force"] if force else []  # every stage runs here, none restored from a cache
    command += ["--queue"] if queue else []
    return command + ([] if all_stages else [RECORDED_STAGE])


def warn_of_a_new_test_read(recipe: Recipe) -> None:
    """The test set is read once per version of a recipe; a new version reads it again, and
    the record counts it (the time-to-accuracy table shows how often)."""
    earlier = targets.tested_versions(recipe.name, read_record()[0])
    if earlier and settings_digest(recipe.params) not in earlier:
        print(f"fmnist recipe: {recipe.name}'s settings are new; {len(earlier)} earlier version(s) were scored on "
              f"the test set, so this reads it again (choose on --val first)", file=sys.stderr)  # fmt: skip


def run_seeds(recipe: Recipe, seeds: list[int], val: bool, queue: bool, remote: str | None, dry: bool,
              grid: list[dict], force: bool = False, all_stages: bool = False) -> None:  # fmt: skip
    """Each seed at each point of the `-S` grid, recorded as it finishes; with a remote,
    skip what it has and push what finishes."""
    done = remote_experiments(remote) if remote and not dry else set()
    stopped_at = None if all_stages else RECORDED_STAGE  # what the record says the wall covers
    if not all_stages:
        print(
            f"fmnist recipe: running up to {RECORDED_STAGE}, what the record reads; robustness and "
            "export are skipped, their files in each experiment are its baseline's (--all-stages runs them)",
            flush=True,
        )
    if not val and not dry and not any(grid):
        warn_of_a_new_test_read(recipe)
    for sets, seed in ((sets, seed) for sets in grid for seed in seeds):
        name = recipe.experiment(seed, val, sets)
        if name in done:
            print(f"fmnist recipe: {name} is already on {remote}: skipped", flush=True)
            continue
        reset = drifted(read_yaml(Path("params.yaml")), params_at())
        command = run_command(recipe, seed, val, queue, remote is not None, sets, force, reset, all_stages)
        print("+ dvc " + " ".join(command[1:]), flush=True)
        if dry:
            continue
        start, baseline = time.perf_counter(), git("rev-parse", "HEAD")
        if run(command, capture=False).returncode != 0:
            sys.exit(1)
        if queue:
            continue
        wall = {name: round(time.perf_counter() - start, 1)}
        if not (runs := record_experiments([name], "fmnist recipe run", wall, baseline, stopped_at)):
            sys.exit(f"fmnist recipe: {name} finished but is not among {baseline}'s experiments; nothing recorded")
        print(
            f"fmnist recipe: {name} recorded in {RECORD}"
            if append(runs)
            else f"fmnist recipe: {name} was recorded before"
        )
        if remote and dvc("exp", "push", "--run-cache", remote, name, echo=True, capture=False).returncode != 0:
            sys.exit(1)
    if queue and not dry:
        print(f"fmnist recipe: queued; `dvc queue start -j 1`, then `fmnist recipe collect {recipe.name} "
              f"--seeds {' '.join(map(str, seeds))}` records them")  # fmt: skip


def collect(recipe: Recipe, seeds: list[int], val: bool, remote: str | None, out: Path, allow_missing: bool,
            baseline: str | None = None) -> None:  # fmt: skip
    """Record the named experiments (pulled from the remote first, if one is named) and
    summarise them in ``out``.md/.json; a missing seed is named, never averaged away."""
    from fmnist.tools.summary import groups, labelled, write_report

    names = [recipe.experiment(seed, val) for seed in seeds]
    if remote and (present := [n for n in names if n in remote_experiments(remote)]):
        checked(dvc("exp", "pull", remote, *present, echo=True), "dvc exp pull")
    runs = record_experiments(names, "fmnist recipe collect", baseline=baseline)
    append(runs)
    missing = [n for n in names if n not in {r.name for r in runs}]
    print(f"fmnist recipe: {len(runs)} of {len(names)} runs recorded in {RECORD}")
    if missing:
        print(f"fmnist recipe: missing or unfinished: {', '.join(missing)}", file=sys.stderr)
    if missing and not allow_missing:
        raise SystemExit("fmnist recipe: rerun those seeds, or pass --allow-missing to summarise the others")
    if runs:
        write_report(labelled(groups(runs)), out, missing)


def table(names: list[str] | None, every_version: bool) -> None:
    from rich.console import Console

    recipes = [r for r in all_recipes().values() if r.name in names] if names else targets.timed(all_recipes())
    runs = read_record()[0]
    console = Console()
    if every_version:
        console.print(speedrun.history(recipes, runs))
    else:
        console.print(speedrun.console_table(targets.rows(recipes, runs)))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="fmnist recipe", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="every recipe and what it is for")
    sub.add_parser("show", help="a recipe's -S options").add_argument("name")
    run = sub.add_parser("run", help="one `dvc exp run --temp` per seed, named RECIPE-seedN, recorded")
    run.add_argument("name")
    run.add_argument("--seeds", type=int, nargs="+", default=[0])
    run.add_argument("--val", action="store_true", help="train on nine tenths and score the validation split")
    run.add_argument("--queue", action="store_true", help="queue instead of running now")
    grid_help = "a params override on top of the recipe; comma-separated values make a grid"
    run.add_argument(
        "-S", "--set-param", dest="sets", action="append", default=[], metavar="K=V[,V...]", help=grid_help
    )
    run.add_argument("--force", action="store_true", help="rerun every stage, none restored from DVC's caches")
    run.add_argument(
        "--all-stages", action="store_true", help="also run robustness and export (the record reads neither)"
    )
    run.add_argument("--remote", help="git remote: skip experiments it has, `dvc exp push` new ones")
    run.add_argument("--dry-run", action="store_true", help="check everything, print the commands only")
    gather = sub.add_parser("collect", help="record finished experiments (pulled from --remote first)")
    gather.add_argument("name")
    gather.add_argument("--seeds", type=int, nargs="+", required=True)
    gather.add_argument("--val", action="store_true")
    gather.add_argument("--remote", help="git remote to pull them from (default: they are here)")
    gather.add_argument("--out", help="summary path without suffix (default: reports/NAME)")
    gather.add_argument("--allow-missing", action="store_true", help="summarise the seeds that are there")
    gather.add_argument("--baseline", help="the commit they ran on (default: HEAD)")
    tab = sub.add_parser("table", help="the time-to-accuracy table, from the record")
    tab.add_argument("names", nargs="*", help="recipes (default: those with a target, and study)")
    tab.add_argument("--all", action="store_true", help="every version scored on the test set")
    args = parser.parse_args(argv)
    try:
        if args.command == "list":
            for recipe in all_recipes().values():
                print(f"{recipe.name:<10} {recipe.description}")
        elif args.command == "table":
            table(args.names, args.all)
        else:
            recipe = load_recipe(args.name)
            grid = parse_sets(getattr(args, "sets", []))
            for sets in grid:  # a recipe or -S that names a wrong key or value fails here, not in DVC
                resolve(recipe, params_at(), sets)
            if args.command == "show":
                print(" ".join(f"-S {option}" for option in recipe.options()))
            elif args.command == "collect":
                out = Path(args.out or f"reports/{recipe.name}")
                collect(recipe, args.seeds, args.val, args.remote, out, args.allow_missing, args.baseline)
            else:
                run_seeds(recipe, args.seeds, args.val, args.queue, args.remote, args.dry_run, grid, args.force,
                          args.all_stages)  # fmt: skip
    except ParamsError as exc:
        raise SystemExit(f"fmnist recipe: {exc}") from None


if __name__ == "__main__":
    main()
