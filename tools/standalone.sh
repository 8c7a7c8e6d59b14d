#!/usr/bin/env bash
# The repository stands alone, and its docs stay true. From the repository root:
#
#   bash tools/standalone.sh
#
# Steps (each one counted in the last line, "standalone: N passed, M failed"):
#   1. paths    no tracked file refers to a path outside the repository; every
#               relative markdown link resolves inside it, anchors included
#               (tools/docs/check_paths.py)
#   2. graphql  every ```graphql block and every "query" of a shell example in
#               the docs parses and validates against schema.graphql
#               (tools/docs/check_graphql.mjs, graphql-js)
#   3. env      the configuration table in docs/operations.md lists exactly the
#               environment variables the code reads (tools/docs/check_env.py)
#   4. layout   the layout tables and the repository paths named in the docs
#               exist (tools/docs/check_layout.py)
#
# It reads only tracked files, builds nothing and starts nothing: seconds.
# `.ci/run` runs it in a fresh clone of HEAD, alone in an empty folder.
#
# Needs git, python3 (standard library) and node. graphql-js comes from
# tools/node_modules; when that is missing, `npm ci --prefix tools` installs it
# (tools/package-lock.json), unless TOOLS_NODE_MODULES names a node_modules
# folder installed from the same lock file (then nothing is installed).
# Without node or npm the graphql step is skipped, or fails when CI=true.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON=${PYTHON:-python3}
PASSED=0
FAILED=0
FAILED_NAMES=()
T0=$SECONDS

step() {
  local name=$1
  shift
  local start=$SECONDS
  echo "== $((PASSED + FAILED + 1)). $name"
  if "$@" 2>&1 | sed -u 's/^/    /'; then
    echo "    ok ($((SECONDS - start)) s)"
    PASSED=$((PASSED + 1))
  else
    echo "    FAILED ($((SECONDS - start)) s)"
    FAILED=$((FAILED + 1))
    FAILED_NAMES+=("$name")
  fi
}

skip_or_fail() {
  if [ "${CI:-}" = true ]; then
    echo "$1 (CI=true: this is a failure)"
    return 1
  fi
  echo "skipped: $1"
}

# The graphql-js version tools/package-lock.json pins.
pinned_graphql() {
  node -e 'const l = require(process.argv[1]); console.log(l.packages["node_modules/graphql"].version)' \
    "$PWD/tools/package-lock.json"
}

graphql_modules() {
  local want
  want=$(pinned_graphql)
  if [ -n "${TOOLS_NODE_MODULES:-}" ]; then
    local have
    have=$(node -e 'console.log(require(process.argv[1]).version)' "$TOOLS_NODE_MODULES/graphql/package.json" 2>/dev/null || true)
    if [ "$have" = "$want" ]; then
      echo "$TOOLS_NODE_MODULES"
      return 0
    fi
    echo "TOOLS_NODE_MODULES=$TOOLS_NODE_MODULES has graphql ${have:-none}, the lock file pins $want: installing" >&2
  fi
  if [ ! -f tools/node_modules/graphql/package.json ]; then
    command -v npm >/dev/null 2>&1 || { echo "npm is not installed" >&2; return 1; }
    echo "installing tools/node_modules (npm ci --prefix tools)" >&2
    npm ci --prefix tools --no-audit --no-fund --prefer-offline --loglevel=error >&2
  fi
  echo "$PWD/tools/node_modules"
}

check_graphql() {
  if ! command -v node >/dev/null 2>&1; then
    skip_or_fail "node is not installed"
    return
  fi
  local modules
  if ! modules=$(graphql_modules); then
    skip_or_fail "graphql-js could not be installed"
    return
  fi
  node tools/docs/check_graphql.mjs --modules "$modules"
}

command -v git >/dev/null 2>&1 && git rev-parse --is-inside-work-tree >/dev/null 2>&1 || {
  echo "tools/standalone.sh needs git and a git checkout (it checks the tracked files)" >&2
  exit 2
}

step paths "$PYTHON" tools/docs/check_paths.py
step graphql check_graphql
step env "$PYTHON" tools/docs/check_env.py
step layout "$PYTHON" tools/docs/check_layout.py

echo "== done in $((SECONDS - T0)) s${FAILED_NAMES[*]:+; failed: ${FAILED_NAMES[*]}}"
echo "standalone: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
