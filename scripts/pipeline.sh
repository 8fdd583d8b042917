#!/usr/bin/env bash
# Quick start 1: set up, then run the whole pipeline (`dvc repro`); extra arguments go to it.
# Ends with this run against the study (`fmnist results`, also available on its own).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# The stages run `python -m fmnist...`: the venv's python must come first on PATH.
source .venv/bin/activate
export DVC_NO_ANALYTICS=1
dvc repro "$@"
echo
fmnist results
