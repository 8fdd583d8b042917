#!/usr/bin/env bash
# Quick start 1: set up, then run the whole pipeline (`dvc repro`); extra arguments go to it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export DVC_NO_ANALYTICS=1
.venv/bin/dvc repro "$@"
.venv/bin/dvc metrics show
