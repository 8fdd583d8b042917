"""The one way the project's commands run `dvc` and `git`, and read a revision's files.

`dvc` is the one installed beside this Python (the project's .venv) when there is one, so
a command works whether or not the venv is activated; otherwise the first on PATH.
Experiments are read from git itself: DVC keeps each finished one as a commit under
``refs/exps/<baseline>/<name>``, so a run's files are ``git show``'s, with no table of
columns in between.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

Reader = Callable[[str], str | None]  # a repository path -> its text at some revision, None if absent


def dvc_executable() -> str:
    beside = Path(sys.executable).with_name("dvc")
    return str(beside) if beside.is_file() else shutil.which("dvc") or "dvc"


def run(
    args: list[str], echo: bool = False, capture: bool = True, cwd: Path | str = "."
) -> subprocess.CompletedProcess:
    if echo:
        print("+ " + " ".join(args), flush=True)
    return subprocess.run(args, capture_output=capture, text=True, cwd=cwd)


def dvc(*args: str, echo: bool = False, capture: bool = True) -> subprocess.CompletedProcess:
    return run([dvc_executable(), *args], echo=echo, capture=capture)


def committed_bytes(path: str, rev: str = "HEAD") -> bytes:
    """A file's bytes as ``rev`` has them (empty where it has none): no text decoding, no git index."""
    return subprocess.run(["git", "show", f"{rev}:{path}"], capture_output=True).stdout


def git(*args: str, cwd: Path | str = ".") -> str | None:
    """git's output, stripped; None where git failed (no repository, no such revision)."""
    result = run(["git", *args], cwd=cwd)
    return result.stdout.strip() if result.returncode == 0 else None


def params_at(rev: str | None = "HEAD", root: Path | str = ".") -> dict:
    """params.yaml as a revision has it (``rev`` None, or git cannot say: the workspace's)."""
    import yaml

    text = reader(rev, Path(root))("params.yaml") if rev else None
    return yaml.safe_load(text or reader(None, Path(root))("params.yaml") or "null") or {}


def remote_experiments(remote: str) -> set[str]:
    """Names of the experiments of this commit that the git remote already has."""
    return set(checked(dvc("exp", "list", remote, "--name-only"), f"dvc exp list {remote}").split())


def checked(result: subprocess.CompletedProcess, what: str) -> str:
    """A command's output, or an exit naming the command and what it printed."""
    if result.returncode != 0:
        raise SystemExit(f"fmnist: {what} failed:\n{(result.stderr or result.stdout or '').strip()}")
    return result.stdout or ""


def reader(rev: str | None, root: Path = Path(".")) -> Reader:
    """A revision's files (``rev`` None: the workspace's), one path at a time."""
    if rev is None:
        return lambda path: (root / path).read_text() if (root / path).is_file() else None
    return lambda path: git("show", f"{rev}:{path}", cwd=root)


@dataclass(frozen=True)
class Experiment:
    name: str
    rev: str  # its commit
    baseline: str  # the commit it branched from


def experiments(baselines: list[str] | None = None, root: Path = Path(".")) -> list[Experiment]:
    """Finished experiments (DVC keeps each as a commit under refs/exps), newest first; of the
    given baseline commits only, if any are named."""
    wanted = {git("rev-parse", "--verify", "-q", f"{b}^{{commit}}", cwd=root) for b in baselines or []}
    listing = git("for-each-ref", "--sort=-committerdate", "--format=%(refname) %(objectname)", "refs/exps", cwd=root)
    found = []
    for line in (listing or "").splitlines():
        ref, rev = line.split()
        parts = ref.split("/")  # refs/exps/ab/cdef.../NAME
        if len(parts) == 5 and parts[2] != "exec":
            exp = Experiment(parts[4], rev, parts[2] + parts[3])
            if not baselines or exp.baseline in wanted:
                found.append(exp)
    return found
