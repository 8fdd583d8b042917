"""`fmnist restore`: the workspace as HEAD has it after a failed `dvc exp run`.

    fmnist restore            # params.yaml, dvc.lock and every stage output, as committed
    fmnist restore --dry-run  # what it would put back

`dvc exp run -S key=value` writes params.yaml before it runs anything and leaves it so when
a stage fails; DVC also deletes a stage's outputs before running it. Worse, it can leave
git's index believing params.yaml unchanged, so `git status` shows nothing and `git
checkout` (even `git reset --hard`) keeps the failed value. This compares the bytes with
HEAD's instead, rewrites what differs (params.yaml, dvc.lock and the outputs git tracks),
then `dvc checkout` puts back the outputs DVC caches. Code and other files are not touched.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import yaml

from fmnist.repo import checked, committed_bytes, dvc, git


def tracked_outputs(dvc_yaml: Path = Path("dvc.yaml")) -> list[str]:
    """Every output, metric and plot that dvc.yaml declares with `cache: false` (git keeps those)."""
    stages = yaml.safe_load(dvc_yaml.read_text())["stages"].values()
    entries = [e for s in stages for kind in ("outs", "metrics", "plots") for e in s.get(kind, [])]
    return [next(iter(e)) for e in entries if isinstance(e, dict) and next(iter(e.values())).get("cache") is False]


def differing(paths: list[str]) -> list[str]:
    """The files under ``paths`` whose workspace bytes are not HEAD's (missing ones included)."""
    listed = git("ls-tree", "-r", "--name-only", "HEAD", "--", *paths) or ""
    out = []
    for path in listed.splitlines():
        if not Path(path).is_file() or Path(path).read_bytes() != committed_bytes(path):
            out.append(path)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="fmnist restore", description=__doc__.split("\n")[0])
    parser.add_argument("--dry-run", action="store_true", help="list what differs, change nothing")
    args = parser.parse_args(argv)
    changed = differing(["params.yaml", "dvc.lock", *tracked_outputs()])
    for path in changed:
        print(f"{'would restore' if args.dry_run else 'restored'} {path}")
        if not args.dry_run:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_bytes(committed_bytes(path))
    if not args.dry_run:
        checked(dvc("checkout", echo=True), "dvc checkout")
        git("update-index", "-q", "--really-refresh")
    print("fmnist restore: " + ("nothing differs from HEAD" if not changed else f"{len(changed)} file(s)"))


if __name__ == "__main__":
    main()
