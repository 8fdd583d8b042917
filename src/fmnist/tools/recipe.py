"""`fmnist recipe`: named training recipes a clone can run by name (files in recipes/).

    fmnist recipe list                          # every recipe and what it is for
    fmnist recipe show speed92                  # its `-S key=value` options
    fmnist recipe run speed92 --seeds 0 1 2     # one experiment per seed, each recorded
    fmnist recipe run speed92 --seeds 0 --val   # on the validation split: speed92-val-seed0
    fmnist recipe run speed92 --seeds 0 1 --queue   # queue them; `dvc queue start -j 1`, then collect
    fmnist recipe run study --seeds 0 1 2 -S prepare.train_size=1000,3000 --queue
                                                # a grid: study-train_size1000-seed0, ...
    fmnist recipe run speed92 --seeds 3 --remote origin   # a worker: run, then `dvc exp push`
    fmnist recipe collect speed92 --seeds 0 1 2 3 4       # record finished experiments (queued ones)
    fmnist recipe collect speed92 --seeds 0 1 2 3 4 --remote origin   # pull a sweep first
    fmnist recipe table                         # the time-to-accuracy table, from the record

Each seed runs with `dvc exp run --temp`: outside the workspace, so `params.yaml`, the
metrics and the models stay as they were and the next `dvc exp run` starts from the
committed params. Each finished seed is appended to reports/runs.jsonl with what it ran,
where, its accuracy and its training and wall seconds. Experiment names are the recipe
and the seed: a rerun of a finished one is served by DVC's run cache, and a sweep spread
over machines is collected by name.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import yaml

from fmnist.errors import ParamsError
from fmnist.params import Params, changes, flatten, parse_params, read_yaml
from fmnist.recipes import VALIDATION, Recipe, all_recipes, load_recipe, parse_sets, resolve
from fmnist.runs import RECORD, Run, append, read_record, read_run
from fmnist.tools import speedrun
from fmnist.tools.shell import checked, dvc, dvc_executable, experiments, git, reader

FULL_TRAIN = 60_000


def committed() -> dict:
    """params.yaml as HEAD has it: what every recipe applies to."""
    return yaml.safe_load(reader("HEAD")("params.yaml") or "null") or read_yaml(Path("params.yaml"))


def drifted() -> dict:
    """The committed value of every param the workspace changed (an applied experiment, an
    edit): `--temp` runs take the workspace's params.yaml, so a recipe sets them back."""
    base = flatten(committed())
    return {k: base[k] for k in changes(read_yaml(Path("params.yaml")), committed()) if k in base}


def run_command(recipe: Recipe, name: str, seed: int, val: bool, queue: bool, pull: bool = False,
                sets: dict | None = None, force: bool = False) -> list[str]:  # fmt: skip
    """The `dvc exp run` of one seed: the recipe's params, then `-S` extras on top of them."""
    extra = {k: v for k, v in drifted().items() if k not in recipe.params and k not in (sets or {})}
    extra |= {"seed": seed, **(VALIDATION if val else {}), **(sets or {})}
    command = [dvc_executable(), "exp", "run", "-n", name, *(a for o in recipe.options(extra) for a in ("-S", o))]
    # Outside the workspace: a finished run is not applied to it, a killed one leaves it as it was.
    command += [] if queue else ["--temp"]
    command += ["--pull", "--allow-missing"] if pull else []  # a worker: inputs and run cache from the remote
    command += ["--force"] if force else []  # every stage runs here, none restored from a cache
    return command + (["--queue"] if queue else [])


def training_flops(p: Params) -> float:
    """The CNN's training FLOPs: per image (forward and backward) times images times epochs."""
    import math

    from fmnist.cnn_training import spec_of
    from fmnist.networks import build_cnn
    from fmnist.networks import training_flops as per_image

    images = p.prepare.train_size or FULL_TRAIN
    images -= math.ceil(p.prepare.val_fraction * images)  # what the stratified hold-out leaves
    return per_image(build_cnn(spec_of(p.cnn), p.cnn.dropout)) * images * p.cnn.epochs


def recorded(names: list[str], source: str, wall: dict[str, float] | None = None) -> list[Run]:
    """The finished experiments of these names (HEAD's), as record entries."""
    head = git("rev-parse", "HEAD") or "HEAD"
    base = yaml.safe_load(reader(head)("params.yaml") or "{}")
    recipes, found = all_recipes(), {e.name: e for e in experiments([head]) if e.name in names}
    runs = []
    for name in names:
        if (exp := found.get(name)) is None:
            continue
        read = reader(exp.rev)
        date = git("log", "-1", "--format=%cI", exp.rev)
        run = read_run(read, name, base, recipes, commit=head, rev=exp.rev, date=date, source=source,
                       wall_seconds=(wall or {}).get(name))  # fmt: skip
        if run is not None:
            params = parse_params(yaml.safe_load(read("params.yaml") or "{}"))
            runs.append(Run(**{**vars(run), "train_flops": round(training_flops(params))}))
    return runs


def warn_of_a_new_test_read(recipe: Recipe) -> None:
    """The test set is read once per version of a recipe; a new version reads it again, and
    the record counts it (the time-to-accuracy table shows how often)."""
    runs = read_record()[0]
    new = Run("", 0, "test", recipe=recipe.name, settings=recipe.params).digest
    earlier = {r.digest for r in runs if r.recipe == recipe.name and r.split == "test" and not r.overrides}
    if earlier and new not in earlier:
        print(f"fmnist recipe: {recipe.name}'s settings are new; {len(earlier)} earlier version(s) were scored on "
              f"the test set, so this reads it again (choose on --val first)", file=sys.stderr)  # fmt: skip


def run_seeds(recipe: Recipe, seeds: list[int], val: bool, queue: bool, remote: str | None, dry: bool,
              grid: list[dict], force: bool = False) -> None:  # fmt: skip
    """Each seed at each point of the `-S` grid, recorded as it finishes; with a remote,
    skip what it has and push what finishes."""
    done = remote_experiments(remote) if remote and not dry else set()
    if not val and not dry and not any(grid):
        warn_of_a_new_test_read(recipe)
    for sets, seed in ((sets, seed) for sets in grid for seed in seeds):
        name = recipe.experiment(seed, val, sets)
        if name in done:
            print(f"fmnist recipe: {name} is already on {remote}: skipped", flush=True)
            continue
        command = run_command(recipe, name, seed, val, queue, remote is not None, sets, force)
        print("+ dvc " + " ".join(command[1:]), flush=True)
        if dry:
            continue
        start = time.perf_counter()
        if subprocess.run(command).returncode != 0:
            sys.exit(1)
        if queue:
            continue
        added = append(recorded([name], "fmnist recipe run", {name: round(time.perf_counter() - start, 1)}))
        print(f"fmnist recipe: {name} recorded in {RECORD}" if added else f"fmnist recipe: {name} was recorded before")
        if remote and dvc("exp", "push", "--run-cache", remote, name, echo=True, capture=False).returncode != 0:
            sys.exit(1)
    if queue and not dry:
        print(f"fmnist recipe: queued; `dvc queue start -j 1`, then `fmnist recipe collect {recipe.name} "
              f"--seeds {' '.join(map(str, seeds))}` records them")  # fmt: skip


def remote_experiments(remote: str) -> set[str]:
    """Names of the experiments of this commit that the git remote already has."""
    return set(checked(dvc("exp", "list", remote, "--name-only"), f"dvc exp list {remote}").split())


def collect(recipe: Recipe, seeds: list[int], val: bool, remote: str | None) -> None:
    """Record the named experiments (pulled from the remote first, if one is named); name
    the seeds that are missing instead of recording fewer silently."""
    names = [recipe.experiment(seed, val) for seed in seeds]
    if remote and (present := [n for n in names if n in remote_experiments(remote)]):
        checked(dvc("exp", "pull", remote, *present, echo=True), "dvc exp pull")
    runs = recorded(names, "fmnist recipe collect")
    append(runs)
    missing = sorted(set(names) - {r.name for r in runs})
    print(f"fmnist recipe: {len(runs)} of {len(names)} runs in {RECORD}"
          + (f"; missing or unfinished: {', '.join(missing)}" if missing else ""))  # fmt: skip


def table(names: list[str] | None, every_version: bool) -> None:
    from rich.console import Console

    recipes = [r for r in all_recipes().values() if (r.name in names if names else r.target or r.name == "study")]
    runs = read_record()[0]
    console = Console()
    if every_version:
        console.print(speedrun.history(recipes, runs))
    else:
        console.print(speedrun.console_table(speedrun.rows(recipes, runs)))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="fmnist recipe", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="every recipe and what it is for")
    sub.add_parser("show", help="a recipe's -S options").add_argument("name")
    run = sub.add_parser("run", help="one `dvc exp run --temp` per seed, named RECIPE-seedN, recorded")
    run.add_argument("name")
    run.add_argument("--seeds", type=int, nargs="+", default=[0])
    run.add_argument("--val", action="store_true", help="train on 90 %% and score the validation split")
    run.add_argument("--queue", action="store_true", help="queue instead of running now")
    run.add_argument(
        "-S",
        "--set-param",
        dest="sets",
        action="append",
        default=[],
        metavar="KEY=VALUE[,VALUE...]",
        help="a params override on top of the recipe; comma-separated values make a grid",
    )
    run.add_argument("--force", action="store_true", help="rerun every stage, none restored from DVC's caches")
    run.add_argument("--remote", help="git remote: skip experiments it has, `dvc exp push` new ones")
    run.add_argument("--dry-run", action="store_true", help="check everything, print the commands only")
    gather = sub.add_parser("collect", help="record finished experiments (pulled from --remote first)")
    gather.add_argument("name")
    gather.add_argument("--seeds", type=int, nargs="+", required=True)
    gather.add_argument("--val", action="store_true")
    gather.add_argument("--remote", help="git remote to pull them from (default: they are here)")
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
                resolve(recipe, committed(), sets)
            if args.command == "show":
                print(" ".join(f"-S {option}" for option in recipe.options()))
            elif args.command == "collect":
                collect(recipe, args.seeds, args.val, args.remote)
            else:
                run_seeds(recipe, args.seeds, args.val, args.queue, args.remote, args.dry_run, grid, args.force)
    except ParamsError as exc:
        raise SystemExit(f"fmnist recipe: {exc}") from None


if __name__ == "__main__":
    main()
