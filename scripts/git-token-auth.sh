#!/usr/bin/env bash
# Let every git client of a CI job reach the repository's server with the job's token,
# `dvc exp push` and `dvc exp list` included. Those go through dulwich, which ignores the
# http.extraheader that actions/checkout writes into .git/config (treeverse/scmrepo#262)
# but asks git's credential helpers, as git itself does. The helper set here answers with
# $GITHUB_TOKEN at the moment it is asked: the token is never written to a file, and the
# steps that push need it in their environment.
#   GITHUB_TOKEN=... bash scripts/git-token-auth.sh
set -euo pipefail
: "${GITHUB_TOKEN:?set GITHUB_TOKEN to the token that may push to this repository}"
# shellcheck disable=SC2016  # expanded by the helper when git or dulwich runs it, not now
git config --global credential.helper \
  '!f() { test "$1" = get || exit 0; echo username=x-access-token; echo "password=${GITHUB_TOKEN:?}"; }; f'
echo "git-token-auth: git and dulwich will authenticate with \$GITHUB_TOKEN"
