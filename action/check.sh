#!/usr/bin/env bash
# The GitHub Action's one step (action.yml): install the harness (from the action's own checkout, or
# $TFJS_CONFORMANCE_INSTALL: a wheel), TF.js and the engines, then check $MODEL. The check writes the job's
# step summary itself when $GITHUB_STEP_SUMMARY is set (harness.report.markdown); this script's exit
# status is the check's (1: a row failed that no known finding explains; 2: bad input).
set -euo pipefail

: "${MODEL:?MODEL: the model.json to check}"
RESULTS_DIR="${RESULTS_DIR:-tfjs-conformance-results}"
INSTALL="${TFJS_CONFORMANCE_INSTALL:-${GITHUB_ACTION_PATH:?GITHUB_ACTION_PATH or TFJS_CONFORMANCE_INSTALL}}"
PYTHON="${PYTHON:-python3}"

"$PYTHON" -m pip install --quiet "$INSTALL"
tfjs-conformance setup --no-engines  # TF.js into this user's cache
# The engines: found, or apt-installed as root (GitHub's runners are not root: through sudo).
if [ "$(id -u)" = 0 ]; then
  "$PYTHON" -m harness engines --install
elif command -v sudo > /dev/null; then
  sudo "$(command -v "$PYTHON")" -m harness engines --install
else
  "$PYTHON" -m harness engines
fi

args=()
for engine in ${ENGINES:-}; do args+=(--engine "$engine"); done
for scheme in ${SCHEMES:-}; do args+=(--scheme "$scheme"); done
tfjs-conformance check "$MODEL" --results-dir "$RESULTS_DIR" "${args[@]}"
