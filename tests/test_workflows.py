"""GitHub workflows are the project's scripts: actionlint finds nothing in them, and every
step that does work is one `bash scripts/...` line that the tests run too."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import REPO

WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
# GitHub's CLI posting a file that a script wrote: the one call that needs the runner's token.
NOT_A_SCRIPT = re.compile(r'^gh pr comment "\$PR" --body-file \S+$')


def run_steps() -> list[tuple[str, str]]:
    return [(path.name, step["run"].strip()) for path in WORKFLOWS
            for job in yaml.safe_load(path.read_text())["jobs"].values()
            for step in job["steps"] if "run" in step]  # fmt: skip


def scripts_the_test_command_runs() -> set[str]:
    """.ci/run runs scripts/test.sh, which runs scripts/setup.sh: every test run exercises them."""
    chain = {"test.sh"} if "scripts/test.sh" in (REPO / ".ci" / "run").read_text() else set()
    if "scripts/setup.sh" in (REPO / "scripts" / "test.sh").read_text():
        chain.add("setup.sh")
    return chain


def installed(tool: str) -> str | None:
    """A command from this environment's bin/ (the venv's, which the test command does not put
    on PATH) or from PATH."""
    return shutil.which(tool, path=str(Path(sys.executable).parent)) or shutil.which(tool)


def required(tool: str) -> str:
    """The tool's path; a failure in CI (setup.sh --test installs it), a skip elsewhere."""
    path = installed(tool)
    if path is None:
        (pytest.fail if os.environ.get("CI") else pytest.skip)(f"{tool} missing: scripts/setup.sh --test installs it")
    return path


def test_actionlint_finds_nothing_in_any_workflow():
    actionlint = required("actionlint")
    assert WORKFLOWS
    result = subprocess.run([actionlint, "-no-color", *map(str, WORKFLOWS)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_shellcheck_finds_nothing_in_the_scripts():
    shellcheck = required("shellcheck")
    scripts = sorted((REPO / "scripts").glob("*.sh")) + [REPO / ".ci" / "run"]
    result = subprocess.run([shellcheck, *map(str, scripts)], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_step_that_does_work_is_one_script_of_the_project():
    steps = run_steps()
    assert len(steps) >= 6, steps
    for workflow, command in steps:
        if NOT_A_SCRIPT.match(command):
            continue
        assert "\n" not in command, f"{workflow}: a step of several lines belongs in scripts/: {command!r}"
        match = re.match(r"bash scripts/([\w-]+\.sh)\b", command)
        assert match, f"{workflow}: `{command}` is not a script under scripts/"
        assert (REPO / "scripts" / match.group(1)).is_file(), f"{workflow}: no scripts/{match.group(1)}"


def test_every_script_a_workflow_runs_is_run_by_the_tests():
    used = {re.match(r"bash scripts/([\w-]+\.sh)", c).group(1) for _, c in run_steps() if c.startswith("bash ")}
    tests = "\n".join(p.read_text() for p in (REPO / "tests").glob("test_*.py") if p.name != "test_workflows.py")
    untested = {s for s in used - scripts_the_test_command_runs() if f"scripts/{s}" not in tests}
    assert not untested, f"workflows run scripts no test runs: {sorted(untested)}"


def test_a_pull_request_from_a_fork_gets_no_comment_step_and_nothing_is_published():
    report = yaml.safe_load((REPO / ".github" / "workflows" / "pr-report.yml").read_text())
    steps = report["jobs"]["report"]["steps"]
    [comment] = [s for s in steps if "gh pr comment" in s.get("run", "")]
    assert comment["if"] == "github.event.pull_request.head.repo.full_name == github.repository"
    assert any(s.get("uses", "").startswith("actions/upload-artifact@") for s in steps)
    text = (REPO / ".github" / "workflows" / "pr-report.yml").read_text()
    assert "--publish" not in text and "cml" not in text
    assert "GITHUB_STEP_SUMMARY" in (REPO / "scripts" / "pr-report.sh").read_text()


def test_the_tests_workflow_runs_the_readmes_test_command():
    readme = (REPO / "README.md").read_text()
    tests = (REPO / ".github" / "workflows" / "tests.yml").read_text()
    for command in ('bash scripts/test.sh -m "not slow"', "bash scripts/test.sh"):
        assert command in readme and f"run: {command}\n" in tests, command
