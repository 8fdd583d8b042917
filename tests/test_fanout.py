"""A sweep spread over workers: each clones, runs its slice by name and pushes it (git refs
to origin, data to the S3 remote); a collector pulls and summarises, naming what is missing.
Everything local: a bare git repository and moto's S3 server on 127.0.0.1."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from dvcrepo import copy_repo, kill_when, run

from conftest import REPO, S3_ENV

pytestmark = pytest.mark.slow

# A slice short enough for a test and long enough to be killed mid-training.
RECIPE = {"description": "fan-out test: the study's LeNet for 3 epochs on 3,000 images",
          "params": {"prepare.train_size": 3000, "prepare.val_fraction": 0.0, "cnn.epochs": 3, "cnn.batch_size": 64}}  # fmt: skip


@pytest.fixture(scope="module")
def origin(tmp_path_factory, reproduced_template, s3_server) -> Path:
    """The shared pieces: a bare git origin with the baseline commit, its data in S3."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's request log
    url, client = s3_server
    client.create_bucket(Bucket="sweep")
    tmp = tmp_path_factory.mktemp("fanout")
    repo = copy_repo(reproduced_template[0], tmp / "repo")
    (repo / "recipes").mkdir(exist_ok=True)
    (repo / "recipes" / "tiny.yaml").write_text(yaml.safe_dump(RECIPE))
    shutil.copytree(REPO / "scripts", repo / "scripts")  # the workflow's commands
    run(repo, "dvc", "remote", "add", "-d", "storage", "s3://sweep/cache")
    run(repo, "dvc", "remote", "modify", "storage", "endpointurl", url)
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-qm", "a sweep's recipe and remote")
    run(repo, "dvc", "push", **S3_ENV)
    bare = tmp / "origin.git"
    run(tmp, "git", "clone", "-q", "--bare", str(repo), str(bare))
    return bare


def clone(origin: Path, where: Path) -> Path:
    run(where.parent, "git", "clone", "-q", str(origin), str(where))
    return where


def recipe(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return run(cwd, sys.executable, "-m", "fmnist.tools.recipe", *args, check=check, **S3_ENV)


def remote_names(cwd: Path) -> set[str]:
    return set(run(cwd, "dvc", "exp", "list", "origin", "--name-only").stdout.split())


def summary(collector: Path, seeds: list[int], *extra: str) -> subprocess.CompletedProcess:
    return recipe(
        collector,
        "collect",
        "tiny",
        "--seeds",
        *map(str, seeds),
        "--remote",
        "origin",
        "--out",
        "sweep",
        *extra,
        check=False,
    )


@pytest.fixture(scope="module")
def two_workers(origin, tmp_path_factory) -> Path:
    """Seeds 1 and 2, each run by its own worker clone and pushed; returns the first worker."""
    workers = tmp_path_factory.mktemp("workers")
    for seed in (1, 2):  # as .github/workflows/sweep.yml's matrix jobs run them
        run(clone(origin, workers / f"worker{seed}"), "bash", "scripts/sweep.sh", "worker", "tiny", str(seed), **S3_ENV)
    return workers / "worker1"


def test_two_workers_each_run_a_seed_and_a_collector_summarises_both(origin, two_workers, tmp_path):
    collector = clone(origin, tmp_path / "collector")
    assert {"tiny-seed1", "tiny-seed2"} <= remote_names(collector)
    result = summary(collector, [1, 2])
    assert result.returncode == 0, result.stderr
    report = json.loads((collector / "sweep.json").read_text())
    assert report["groups"][0]["seeds"] == [1, 2] and report["missing"] == []
    recorded = [json.loads(line) for line in (collector / "reports" / "runs.jsonl").read_text().splitlines()]
    assert {(r["name"], r["recipe"], r["source"]) for r in recorded if r.get("recipe") == "tiny"} == {
        ("tiny-seed1", "tiny", "fmnist recipe collect"), ("tiny-seed2", "tiny", "fmnist recipe collect")}  # fmt: skip

    rerun = recipe(two_workers, "run", "tiny", "--seeds", "1", "--remote", "origin")
    assert "tiny-seed1 is already on origin: skipped" in rerun.stdout  # nothing runs twice

    run(collector, "bash", "scripts/sweep.sh", "collect", "tiny", "1 2", **S3_ENV)  # as the workflow passes them
    assert len(json.loads((collector / "reports" / "tiny.json").read_text())["groups"][0]["runs"]) == 2


def test_a_killed_worker_pushes_nothing_and_its_rerun_completes_the_sweep(origin, two_workers, tmp_path):
    worker = clone(origin, tmp_path / "worker3")
    command = [sys.executable, "-m", "fmnist.tools.recipe", "run", "tiny", "--seeds", "3", "--remote", "origin"]
    kill_when(worker, command, "epoch   1/3", **S3_ENV)
    collector = clone(origin, tmp_path / "collector")
    assert "tiny-seed3" not in remote_names(collector)

    incomplete = summary(collector, [1, 2, 3])
    assert incomplete.returncode != 0 and "missing or unfinished: tiny-seed3" in incomplete.stderr
    partial = summary(collector, [1, 2, 3], "--allow-missing")
    assert json.loads((collector / "sweep.json").read_text())["missing"] == ["tiny-seed3"], partial.stderr

    recipe(worker, "run", "tiny", "--seeds", "3", "--remote", "origin")
    complete = summary(collector, [1, 2, 3])
    assert complete.returncode == 0, complete.stderr
    assert len(json.loads((collector / "sweep.json").read_text())["groups"][0]["runs"]) == 3

    run(collector, "dvc", "exp", "branch", "tiny-seed3", "seed3")  # the run as a branch of its own
    run(collector, "git", "checkout", "-q", "seed3")
    run(collector, "dvc", "pull", **S3_ENV)  # every output of the pushed run is in the remote, intact
    status = run(collector, "dvc", "status").stdout
    stale = {line.rstrip(":") for line in status.splitlines() if line and not line[0].isspace()}
    assert stale == {"check", "robustness", "export"}, status  # what a recipe run skips; the rest matches its lock


def test_pushing_the_same_experiment_twice_changes_nothing(two_workers, s3_server):
    _, client = s3_server  # worker 1 pushed tiny-seed1 already; it pushes it again

    def state():
        refs = run(two_workers, "git", "ls-remote", "origin").stdout
        objects = client.list_objects_v2(Bucket="sweep").get("Contents", [])
        return refs, sorted((o["Key"], o["ETag"]) for o in objects)

    before = state()
    assert "tiny-seed1" in before[0]
    run(two_workers, "dvc", "exp", "push", "--run-cache", "origin", "tiny-seed1", **S3_ENV)
    assert state() == before
