#!/usr/bin/env bash
# Quick start 2: set up (with the tensorflow extra, for the keras parity test), then the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --tf
export DVC_NO_ANALYTICS=1
exec .venv/bin/python -m pytest "$@"
