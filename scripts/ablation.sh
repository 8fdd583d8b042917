#!/usr/bin/env bash
# The ablation of the LeNet recipes (reports/README.md): add one change at a time to the study's LeNet, 3 seeds each, then
# tabulate test accuracy (mean ± std) and training seconds from the experiments.
#   bash scripts/ablation.sh            # queue and run everything (hours on 2 CPU cores)
#   bash scripts/ablation.sh --table    # only rebuild reports/ablation.{md,json}
# Run on a clean commit: queued experiments see only what git and DVC track.
set -euo pipefail
cd "$(dirname "$0")/.."
source .venv/bin/activate

SEEDS='seed=0,1,2'
STEPS=(
  ""                                                             # 0: the study's recipe
  "-S cnn.arch=lenet_bn"                                         # 1: BatchNorm
  "-S cnn.schedule=onecycle -S cnn.lr=0.005 -S cnn.batch_size=256"  # 2: one-cycle, bigger batch
  "-S cnn.label_smoothing=0.1"                                   # 3
  "-S cnn.crop_padding=2 -S cnn.hflip=true"                      # 4: translate and flip
  "-S cnn.random_erasing=0.25"                                   # 5
  "-S cnn.weight_decay=0.05 -S cnn.dropout=0.25"                 # 6: AdamW, less dropout
  "-S cnn.epochs=42"                                             # 7: a longer schedule (the 42-epoch set)
  "-S evaluate.tta_flip=true"                                    # 8: flip test-time augmentation
)

if [[ "${1:-}" != "--table" ]]; then
  cumulative=""
  for step in "${STEPS[@]}"; do
    cumulative="$cumulative $step"
    seeds=$SEEDS
    [[ -z "${cumulative// /}" ]] && seeds='seed=1,2'  # seed 0 of the study's recipe is the commit itself
    # shellcheck disable=SC2086  # word splitting of the -S options is intended
    dvc exp run --queue $cumulative -S "$seeds"
  done
  dvc queue start -j 1 > .dvc/tmp/ablation-queue.log 2>&1
  # grep without -q reads all of its input: an early exit would fail the pipe under pipefail
  while dvc queue status | grep -E 'Queued|Running' > /dev/null; do sleep 60; done
fi
fmnist summary --steps --out reports/ablation
