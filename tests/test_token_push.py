"""The sweep's push through a git server that demands a token, with the credentials set up
as .github/workflows/sweep.yml sets them: the clone as actions/checkout leaves it (the
token in .git/config's http.<url>.extraheader), then scripts/git-token-auth.sh, then the
worker, scripts/sweep.sh. The server is git's own `git http-backend` behind basic auth on
127.0.0.1 (tests/githttp.py); the DVC remote is a folder."""

from __future__ import annotations

import base64
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from dvcrepo import copy_repo, run
from githttp import USER, GitHTTPServer

from conftest import REPO

pytestmark = pytest.mark.slow

TOKEN = "ghs_" + "0123456789abcdef" * 2
TINY = {"description": "token test: the quick slice", "params": {"cnn.batch_size": 100}}


@pytest.fixture(scope="module")
def server(tmp_path_factory, reproduced_template):
    """The served bare repository holds the baseline commit; its data is in the folder remote."""
    tmp = tmp_path_factory.mktemp("token")
    repo = copy_repo(reproduced_template[0], tmp / "repo")
    (repo / "recipes").mkdir(exist_ok=True)
    (repo / "recipes" / "tiny.yaml").write_text(yaml.safe_dump(TINY))
    shutil.copytree(REPO / "scripts", repo / "scripts")
    run(repo, "dvc", "remote", "add", "-d", "storage", str(tmp / "dvc-storage"))
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-qm", "a recipe, the scripts, a remote")
    run(repo, "dvc", "push")
    root = tmp / "served"
    root.mkdir()
    run(tmp, "git", "clone", "-q", "--bare", str(repo), str(root / "fmnist.git"))
    with GitHTTPServer(root, TOKEN) as served:
        yield served, root / "fmnist.git"


def checkout(url: str, where: Path, home: Path) -> Path:
    """A clone as actions/checkout leaves one: origin is the plain URL, the token a header."""
    header = "AUTHORIZATION: basic " + base64.b64encode(f"{USER}:{TOKEN}".encode()).decode()
    key = f"http.{url.rsplit('/', 1)[0]}/.extraheader"
    run(where.parent, "git", "-c", f"{key}={header}", "clone", "-q", url, str(where), HOME=str(home))
    run(where, "git", "config", "--local", key, header)
    return where


def experiment_refs(bare: Path) -> list[str]:
    refs = subprocess.run(["git", "for-each-ref", "--format=%(refname)", "refs/exps"], cwd=bare,
                          capture_output=True, text=True, check=True).stdout  # fmt: skip
    return refs.split()


@pytest.fixture
def home(tmp_path) -> Path:
    """The runner's home: git's global config lives there, empty to begin with."""
    (tmp_path / "home").mkdir()
    return tmp_path / "home"


def worker(clone: Path, home: Path, seed: int, token: str | None) -> subprocess.CompletedProcess:
    env = {"HOME": str(home)} | ({"GITHUB_TOKEN": token} if token else {})
    return run(clone, "bash", "scripts/sweep.sh", "worker", "tiny", str(seed), check=False, **env)


def test_with_only_the_checkout_header_dvc_cannot_reach_the_server(server, home, tmp_path):
    served, bare = server
    clone = checkout(f"{served.url}/fmnist.git", tmp_path / "worker", home)
    assert "refs/heads" in run(clone, "git", "ls-remote", "origin", HOME=str(home)).stdout  # git itself can
    refused = served.refused
    result = worker(clone, home, 0, token=None)
    assert result.returncode != 0 and "Authentication failed" in result.stdout + result.stderr
    assert served.refused > refused and not any(ref.endswith("/tiny-seed0") for ref in experiment_refs(bare))


def test_after_the_workflows_auth_step_the_worker_pushes_its_seed_with_the_token(server, home, tmp_path):
    served, bare = server
    clone = checkout(f"{served.url}/fmnist.git", tmp_path / "worker", home)
    run(clone, "bash", "scripts/git-token-auth.sh", HOME=str(home), GITHUB_TOKEN=TOKEN)
    assert TOKEN not in (home / ".gitconfig").read_text()  # read from the environment when asked

    result = worker(clone, home, 1, token=TOKEN)
    assert result.returncode == 0, result.stdout + result.stderr
    assert any(ref.endswith("/tiny-seed1") for ref in experiment_refs(bare)), experiment_refs(bare)

    again = worker(clone, home, 1, token=TOKEN)  # a rerun of the workflow skips what is there
    assert "tiny-seed1 is already on origin: skipped" in again.stdout


def test_a_wrong_token_pushes_nothing(server, home, tmp_path):
    served, bare = server
    clone = checkout(f"{served.url}/fmnist.git", tmp_path / "worker", home)
    run(clone, "bash", "scripts/git-token-auth.sh", HOME=str(home), GITHUB_TOKEN="ghs_wrong")
    before = experiment_refs(bare)
    assert worker(clone, home, 2, token="ghs_wrong").returncode != 0
    assert experiment_refs(bare) == before
