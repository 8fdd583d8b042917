#!/usr/bin/env bash
# Register a version of every artifact that dvc.yaml declares at a commit, and assign it a
# stage, with GTO (git tags NAME@VERSION and NAME#STAGE#N): `dvc artifacts get URL NAME
# --stage STAGE` (or `--rev VERSION`) then finds each of them by its own name.
#   bash scripts/register.sh v1.0.0                 # this commit's artifacts, stage prod
#   bash scripts/register.sh v1.1.0 staging HEAD~1  # another commit and stage
# Publish afterwards: `git push origin HEAD --tags && dvc push` (docs/models.md).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f .venv/bin/activate ]; then source .venv/bin/activate; fi
usage="usage: scripts/register.sh VERSION [STAGE] [REV]"
version=${1:?$usage}
stage=${2:-prod}
rev=${3:-HEAD}
commit=$(git rev-parse --verify --quiet "$rev^{commit}") || { echo "register: $rev is not a commit" >&2; exit 2; }
names=$(git show "$commit:dvc.yaml" | python -c 'import sys, yaml; print(*(yaml.safe_load(sys.stdin) or {}).get("artifacts", {}))')
[ -n "$names" ] || { echo "register: dvc.yaml at $rev declares no artifacts" >&2; exit 2; }
for name in $names; do
  gto register "$name" "$commit" --version "$version"
  gto assign "$name" --version "$version" --stage "$stage"
done
echo "register: $version of $(echo "$names" | wc -w) artifacts at ${commit:0:7}, stage $stage ($names)"
