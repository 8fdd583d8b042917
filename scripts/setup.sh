#!/usr/bin/env bash
# Set up everything the pipeline needs, idempotently:
#   1. the dataset from Debian's dataset-fashion-mnist package, where apt can install it
#      (elsewhere the fetch stage falls back to the keras cache and the official URLs);
#   2. a virtual environment .venv with the exact versions in requirements.lock;
#   3. with --tf, the optional tensorflow extra (requirements-tf.lock);
#   4. with --test, the test extras: dvc-s3 and a local S3 server (requirements-test.lock).
set -euo pipefail
cd "$(dirname "$0")/.."

with_tf=0
with_test=0
for arg in "$@"; do
  case "$arg" in
    --tf) with_tf=1 ;;
    --test) with_test=1 ;;
    *) echo "usage: scripts/setup.sh [--tf] [--test]" >&2; exit 2 ;;
  esac
done

data=/usr/share/datasets/fashion-mnist
if [ ! -f "$data/train-images-idx3-ubyte.gz" ]; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    echo "setup: installing Debian's dataset-fashion-mnist"
    apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist >/dev/null \
      || echo "setup: warning: apt could not install dataset-fashion-mnist; fetch will try other sources"
  else
    echo "setup: $data not present and apt not usable as root; fetch will try the keras cache, then the official URLs"
  fi
fi

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $($python --version)"
  "$python" -m venv .venv
fi
echo "setup: installing pinned dependencies"
.venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.lock
.venv/bin/python -m pip install -q --disable-pip-version-check --no-deps -e .
if [ "$with_tf" = 1 ]; then
  echo "setup: installing the tensorflow extra"
  .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements-tf.lock
fi
if [ "$with_test" = 1 ]; then
  echo "setup: installing the test extras"
  .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements-test.lock
fi
echo "setup: done (activate with: source .venv/bin/activate)"
