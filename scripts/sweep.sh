#!/usr/bin/env bash
# One side of a recipe's sweep spread over machines (.github/workflows/sweep.yml runs it;
# tests/test_fanout.py and tests/test_token_push.py run it against local servers):
#   bash scripts/sweep.sh worker RECIPE SEED       # run one seed by name, `dvc exp push` it to origin
#   bash scripts/sweep.sh collect RECIPE SEED...   # pull every seed (or "0 1 2"), write reports/RECIPE.*
# A worker skips a seed origin already has, so a rerun resumes a sweep; the collector names
# the seeds that are missing instead of averaging fewer. Needs origin (git) and a default
# DVC remote that both can reach; a worker commits experiments, so git needs an identity.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f .venv/bin/activate ]; then source .venv/bin/activate; fi
export DVC_NO_ANALYTICS=1
usage="usage: scripts/sweep.sh worker RECIPE SEED | collect RECIPE SEED..."
role=${1:?$usage}
recipe=${2:?$usage}
shift 2
read -r -a seeds <<< "$*"  # seeds as arguments, or as one quoted list ("0 1 2")
[ ${#seeds[@]} -gt 0 ] || { echo "$usage" >&2; exit 2; }
if [ "$role" = worker ]; then  # experiments are commits: an identity where the machine has none
  git config user.email >/dev/null || git config user.email sweep@fmnist-dvc.invalid
  git config user.name >/dev/null || git config user.name "fmnist-dvc sweep"
fi
case "$role" in
  worker) fmnist recipe run "$recipe" --seeds "${seeds[@]}" --remote origin ;;
  collect) fmnist recipe collect "$recipe" --seeds "${seeds[@]}" --remote origin --out "reports/$recipe" --allow-missing ;;
  *) echo "$usage" >&2; exit 2 ;;
esac
