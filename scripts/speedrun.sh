#!/usr/bin/env bash
# The time-to-accuracy table: every timed recipe's seeds on all 60,000 images, one run at a
# time (training seconds need the cores to themselves), each recorded in reports/runs.jsonl;
# then the pages' tables and figures from the record.
#   bash scripts/speedrun.sh            # hours on 2 CPU cores
#   bash scripts/speedrun.sh --table    # only rewrite the pages from the record
# Run on a clean commit after `dvc repro`: the runs record their commit, and the study's
# seed 0 is the commit's own run, restored from DVC's run cache.
set -euo pipefail
cd "$(dirname "$0")/.."
source .venv/bin/activate
export DVC_NO_ANALYTICS=1

if [[ "${1:-}" != "--table" ]]; then
  for recipe in study speed92 speed93 speed94; do
    fmnist recipe run "$recipe" --seeds 0 1 2 3 4
  done
  fmnist recipe run best15 --seeds 0 1 2
fi
fmnist pages
fmnist recipe table
