#!/usr/bin/env bash
# Set up everything the pipeline needs, idempotently:
#   1. the dataset from Debian's dataset-fashion-mnist package, where apt can install it
#      (elsewhere the fetch stage falls back to the keras cache and the official URLs);
#   2. a virtual environment .venv with the exact versions in requirements.lock;
#   3. with --tf, the optional tensorflow extra (requirements-tf.lock);
#   4. an HTML template so `dvc plots show/diff` render offline (.dvc/config.local);
#   5. with --s3, DVC's S3 support (requirements-s3.lock), for an S3 remote;
#   6. with --test, the test extras: --s3, a local S3 server, actionlint, Debian's chromium and shellcheck.
# Debian packages need root, or sudo without a password (as on GitHub's runners).
set -euo pipefail
cd "$(dirname "$0")/.."

with_tf=0
with_test=0
with_s3=0
for arg in "$@"; do
  case "$arg" in
    --tf) with_tf=1 ;;
    --s3) with_s3=1 ;;
    --test) with_test=1; with_s3=1 ;;
    *) echo "usage: scripts/setup.sh [--tf] [--s3] [--test]" >&2; exit 2 ;;
  esac
done

as_root=()  # the prefix that runs apt-get as root, where one can
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null && sudo -n true 2>/dev/null; then as_root=(sudo -n); fi
can_apt() { command -v apt-get >/dev/null && { [ "$(id -u)" = 0 ] || [ ${#as_root[@]} -gt 0 ]; }; }
apt_updated=0
apt_install() {  # apt_install PACKAGE: best effort, says so when it fails
  if [ "$apt_updated" = 0 ]; then "${as_root[@]}" apt-get update -qq || true; apt_updated=1; fi
  "${as_root[@]}" apt-get install -y -qq "$1" >/dev/null || { echo "setup: warning: apt could not install $1"; return 1; }
}

data=/usr/share/datasets/fashion-mnist
if [ ! -f "$data/train-images-idx3-ubyte.gz" ]; then
  if can_apt; then
    echo "setup: installing Debian's dataset-fashion-mnist"
    apt_install dataset-fashion-mnist || echo "setup: fetch will try the keras cache, then the official URLs"
  else
    echo "setup: $data not present and apt not usable (neither root nor sudo); fetch will try the keras cache, then the official URLs"
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
if [ "$with_s3" = 1 ]; then
  echo "setup: installing DVC's S3 support"
  .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements-s3.lock
fi
if [ "$with_test" = 1 ]; then
  if ! command -v chromium >/dev/null && ! command -v google-chrome >/dev/null && can_apt; then
    echo "setup: installing Debian's chromium (the offline plots test renders pages in it)"
    apt_install chromium || true
  fi
  if ! command -v shellcheck >/dev/null && can_apt; then
    echo "setup: installing Debian's shellcheck (the scripts and the workflows' steps are checked with it)"
    apt_install shellcheck || true
  fi
  echo "setup: installing the test extras"
  .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements-test.lock
fi
.venv/bin/python -m fmnist.offline_plots  # dvc plots show/diff without a CDN
echo "setup: done (activate with: source .venv/bin/activate)"
