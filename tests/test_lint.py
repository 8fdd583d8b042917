"""The habits a maintainer expects, checked in the fast tier: ruff finds nothing, the code is
formatted, mypy finds no type error in src/, and pre-commit runs these same checks."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import REPO

BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    found = BIN / name if (BIN / name).is_file() else shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed (bash scripts/setup.sh --test installs it)")
    return str(found)


def check(*args: str) -> None:
    result = subprocess.run(args, cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_ruff_finds_nothing():
    check(tool("ruff"), "check", "src", "tests", "benchmarks")


def test_the_code_is_formatted():
    check(tool("ruff"), "format", "--check", "src", "tests", "benchmarks")


def test_mypy_finds_no_type_error_in_src():
    check(tool("mypy"))


def test_pre_commit_runs_the_fast_tiers_checks_with_local_hooks_only():
    config = yaml.safe_load((REPO / ".pre-commit-config.yaml").read_text())
    assert [repo["repo"] for repo in config["repos"]] == ["local"]
    hooks = {hook["id"] for hook in config["repos"][0]["hooks"]}
    assert hooks == {"ruff-check", "ruff-format", "mypy", "shellcheck", "actionlint"}
    check(tool("pre-commit"), "validate-config", ".pre-commit-config.yaml")
