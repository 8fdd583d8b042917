#!/usr/bin/env bash
# The speedrun table: every recipe's seeds on all 60,000 images, one run at a time (training
# seconds need the cores to themselves), then reports/speedrun.{md,json,csv,png}.
#   bash scripts/speedrun.sh            # about an hour and a half on 2 CPU cores
#   bash scripts/speedrun.sh --table    # only rebuild the table from the experiments
# Run on a clean commit after `dvc repro`: the experiments branch from it, and `study`
# seed 0 is the commit's own run, restored from DVC's run cache.
set -euo pipefail
cd "$(dirname "$0")/.."
source .venv/bin/activate
export DVC_NO_ANALYTICS=1

if [[ "${1:-}" != "--table" ]]; then
  fmnist recipe run speed92 --seeds 0 1 2 3 4
  fmnist recipe run speed93 --seeds 0 1 2 3 4
  fmnist recipe run speed94 --seeds 0 1 2 3 4
  fmnist recipe run study --seeds 0     # the committed run, from the run cache; its spread over seeds: reports/seed_sweep
  fmnist recipe run best15 --seeds 0 1 2
fi
fmnist recipe table study speed92 speed93 speed94 best15 --out reports/speedrun
