"""Helpers for tests that drive DVC: a throwaway git + DVC copy of this pipeline."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import yaml

from conftest import REPO, load_default_params

STAGES = ("check", "fetch", "prepare", "train_mlp", "train_cnn", "evaluate", "robustness", "export")
QUICK = {"prepare": {"train_size": 1000, "test_size": 500, "val_fraction": 0.1},
         "mlp": {"max_iter": 3}, "cnn": {"epochs": 1, "batch_size": 100, "device": "cpu"}}  # fmt: skip


def dvc_env(cwd: Path, **extra: str) -> dict[str, str]:
    """This venv's dvc and python first on PATH, the copy's own src importable, no analytics."""
    env = {**os.environ, "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"],
           "PYTHONPATH": str(cwd / "src"), "DVC_NO_ANALYTICS": "1", **extra}  # fmt: skip
    env.pop("DVCLIVE_TEST", None)
    return env


def run(cwd: Path, *args: str, check: bool = True, **env: str) -> subprocess.CompletedProcess:
    result = subprocess.run(args, cwd=cwd, env=dvc_env(cwd, **env), capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return result


def kill_when(cwd: Path, args: list[str], text: str, **env: str) -> None:
    """Start ``args``, and kill its whole process group (SIGKILL) once it prints ``text``."""
    proc = subprocess.Popen(args, cwd=cwd, env=dvc_env(cwd, PYTHONUNBUFFERED="1", **env), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)  # fmt: skip
    for line in proc.stdout:
        if text in line:
            break
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def stages_run(output: str) -> set[str]:
    return set(re.findall(r"Running stage '(\w+)'", output))


def copy_repo(source: Path, dest: Path) -> Path:
    """A copy of a repository made by make_repo, its git history and DVC cache included."""
    shutil.copytree(source, dest, symlinks=True)
    return dest


def make_repo(tmp_path: Path, real_raw: Path) -> Path:
    """A fresh git + DVC repository holding this project's pipeline with quick params."""
    repo = tmp_path / "repo"
    repo.mkdir()
    shutil.copytree(REPO / "src", repo / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    shutil.copy(REPO / "dvc.yaml", repo)
    params = load_default_params()
    params["data"]["sources"] = [str(real_raw)]
    for section, values in QUICK.items():
        params[section].update(values)
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run(repo, "git", "init", "-q")
    run(repo, "git", "config", "user.email", "test@example.com")
    run(repo, "git", "config", "user.name", "test")
    run(repo, "dvc", "init", "-q")
    run(repo, "dvc", "config", "core.analytics", "false")
    shutil.copytree(REPO / ".dvc" / "plots", repo / ".dvc" / "plots")  # our plot templates
    shutil.copytree(REPO / "reports", repo / "reports")  # the run record, the plots' data
    shutil.copytree(REPO / "recipes", repo / "recipes")
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-qm", "pipeline")
    return repo
