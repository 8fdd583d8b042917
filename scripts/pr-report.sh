#!/usr/bin/env bash
# A pull request's report: `dvc repro` (the pipeline as the branch leaves it), then the
# MLP-vs-CNN comparison of the workspace against the base revision: OUT/report.md with its
# images, and OUT/comment.md, the same text without images, for a comment or the job
# summary. Nothing leaves this machine: the workflow uploads OUT and plots/ as the run's
# artifact, appends comment.md to the job summary and, where its token may write (not for
# a fork's pull request), posts it as a comment.
#   bash scripts/pr-report.sh BASE_REV [OUT]      # OUT defaults to reports/pr
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f .venv/bin/activate ]; then source .venv/bin/activate; fi
export DVC_NO_ANALYTICS=1
base=${1:?usage: scripts/pr-report.sh BASE_REV [OUT]}
out=${2:-reports/pr}
mkdir -p "$out"
dvc repro
fmnist compare --base "$base" --out "$out/report.md" > /dev/null
{
  grep -v '^!\[' "$out/report.md"
  echo "Plots and training curves: the \`pr-report\` artifact of this workflow run."
} > "$out/comment.md"
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then cat "$out/comment.md" >> "$GITHUB_STEP_SUMMARY"; fi
echo "pr-report: $out/report.md (with images), $out/comment.md (text)"
