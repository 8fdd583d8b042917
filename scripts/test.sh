#!/usr/bin/env bash
# Quick start 2: set up with the tensorflow and test extras (keras parity, S3 remote), then pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --tf --test
export DVC_NO_ANALYTICS=1
exec .venv/bin/python -m pytest "$@"
