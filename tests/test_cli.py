"""One `fmnist` command: each verb listed with a line, a typo answered with the verb meant,
and `fmnist predict` running where only the base package is installed (no DVC, no torch)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from fmnist.tools.cli import VERBS, main

from conftest import REPO


def test_help_lists_every_verb_with_a_line(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    listed = capsys.readouterr().out
    for verb, (_, line) in VERBS.items():
        assert f"  {verb}" in listed and line in listed


def test_a_mistyped_verb_is_refused_with_the_one_meant():
    with pytest.raises(SystemExit, match=r"no verb 'resluts' \(did you mean 'results'\?\)"):
        main(["resluts"])


def test_predict_loads_neither_dvc_nor_torch_nor_sklearn():
    code = ("import sys\nfrom fmnist.tools.cli import main\ntry:\n    main(['predict', '--help'])\n"
            "except SystemExit:\n    pass\nprint(sorted(m for m in ('dvc', 'torch', 'sklearn') if m in sys.modules))")  # fmt: skip
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert "usage: fmnist predict" in result.stdout and result.stdout.strip().endswith("[]")


def test_every_page_and_workflow_uses_the_verbs_not_the_old_commands():
    old = ("fmnist-results", "fmnist-exps", "fmnist-summary", "fmnist-compare", "fmnist-recipe", "fmnist-readme")
    files = [REPO / "README.md", REPO / "MODEL_CARD.md", *(REPO / "docs").glob("*.md"), REPO / "reports" / "README.md",
             *(REPO / "scripts").glob("*.sh"), *(REPO / ".github" / "workflows").glob("*.yml")]  # fmt: skip
    for path in files:
        text = path.read_text()
        assert not [name for name in old if name in text], path
