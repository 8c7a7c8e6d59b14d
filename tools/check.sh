#!/usr/bin/env bash
# Schema tooling and real-client checks. From the repository root:
#
#   bash tools/check.sh
#
# Steps (each one counted in the last line, "tools: N passed, M failed"):
#   1. validate   graphql-inspector validate: tools/frontend/operations.graphql
#                 against schema.graphql
#   2. breaking   graphql-inspector diff tools/schema-baseline.graphql (the last
#                 release) schema.graphql: fails on a breaking change that is not
#                 declared in tools/breaking-changes-allowed.txt
#   3. codegen    graphql-codegen (tools/codegen.ts), then tsc --noEmit (strict)
#                 on tools/frontend/sample.ts and the generated types; the
#                 client preset's persisted-documents.json must equal
#                 tests/fixtures/persisted-documents.json (the manifest the
#                 trusted-document tests register)
#   4. python     the Python gql client (tools/clients/python_client.py) against
#                 a real service
#   5. node       the npm graphql-request client (tools/clients/node_client.mjs)
#                 against the same service
#
# The service is the debug api binary, ${API_BIN:-${CARGO_TARGET_DIR:-target}/debug/api},
# built with `cargo build -p api --bin api` if it does not exist
# (CHECK_BUILD=always rebuilds it first), run with APP_ENV=development on a
# fresh SQLite database in a temporary DATA_DIR (demo data loaded) on a free
# port of 127.0.0.1. It is stopped on exit.
#
# Installs: `npm ci --prefix tools` from tools/package-lock.json, and a venv in
# tools/.venv from tools/requirements.txt. Both are skipped when the lock file
# (and node or python version) is unchanged since the last install.
#
# Every step and install is bounded by `timeout`. Environment knobs:
#   API_BIN                 the api binary to run (no build when set)
#   CHECK_BUILD=always      run `cargo build -p api --bin api` even if the binary exists
#   CHECK_STEP_TIMEOUT      seconds per step (default 180)
#   CHECK_INSTALL_TIMEOUT   seconds per install (default 600)
#   CHECK_BUILD_TIMEOUT     seconds for the cargo build (default 3600)
#   CHECK_READY_TIMEOUT     seconds for the service to answer /readyz (default 60)
#   CHECK_KEEP=1            keep the scratch directory (service log, tokens, step logs)
#   PYTHON                  the python used to create the venv (default python3)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

ROOT=$PWD
TOOLS=$ROOT/tools
STEP_TIMEOUT=${CHECK_STEP_TIMEOUT:-180}
INSTALL_TIMEOUT=${CHECK_INSTALL_TIMEOUT:-600}
BUILD_TIMEOUT=${CHECK_BUILD_TIMEOUT:-3600}
READY_TIMEOUT=${CHECK_READY_TIMEOUT:-60}
PYTHON=${PYTHON:-python3}
API_BIN_DEFAULT="${CARGO_TARGET_DIR:-target}/debug/api"
API_BIN_GIVEN=${API_BIN:+yes}
API_BIN=${API_BIN:-$API_BIN_DEFAULT}
case $API_BIN in /*) ;; *) API_BIN=$ROOT/$API_BIN ;; esac

# `timeout` runs programs, not shell functions, so bounded steps re-enter this
# script as `check.sh --run FUNCTION` (with WORK and URL from the environment).
RUN_MODE=""
[ "${1:-}" = --run ] && RUN_MODE=yes
if [ -n "$RUN_MODE" ]; then
  WORK=${WORK:?--run needs WORK in the environment}
else
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/tools-check.XXXXXX")
fi
SERVER_PID=""
CHILD_PID=""
T0=$SECONDS

stop_server() {
  [ -n "$SERVER_PID" ] || return 0
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    # Graceful shutdown finishes in-flight requests; give it 10 s, then kill.
    for _ in $(seq 1 100); do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
  fi
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "$CHILD_PID" ] && kill -0 "$CHILD_PID" 2>/dev/null; then
    # `timeout` passes the signal on to the step it runs.
    kill -TERM "$CHILD_PID" 2>/dev/null || true
    wait "$CHILD_PID" 2>/dev/null || true
  fi
  stop_server
  if [ "${CHECK_KEEP:-}" = 1 ]; then
    echo "scratch directory kept: $WORK"
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}
if [ -z "$RUN_MODE" ]; then
  trap cleanup EXIT
  trap 'echo "interrupted" >&2; exit 130' INT
  trap 'echo "terminated" >&2; exit 143' TERM
fi

# ---------------------------------------------------------------- helpers

PASSED=0
FAILED=0
FAILED_NAMES=()

indent() { sed -u 's/^/    /'; }
# Demo tokens and minted tokens are JWTs: never echo them into CI logs.
redact() { sed -u -E 's/eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/<jwt>/g'; }

# run_bounded SECONDS LOG CMD... : run CMD with a time limit, output to LOG.
run_bounded() {
  local limit=$1 log=$2
  shift 2
  local rc=0
  # In the background and waited for, so that a signal to this script is
  # handled at once (cleanup stops the running step too), not after it ends.
  timeout --kill-after=10 "$limit" "$@" </dev/null >"$log" 2>&1 &
  CHILD_PID=$!
  wait "$CHILD_PID" || rc=$?
  CHILD_PID=""
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    echo "timed out after ${limit}s: $*" >>"$log"
  fi
  return "$rc"
}

# step NAME PREREQUISITE_OK CMD... : one counted check.
step() {
  local name=$1 ready=$2
  shift 2
  local n=$((PASSED + FAILED + 1)) start=$SECONDS
  local log=$WORK/step-$n-$name.log
  echo "== $n. $name"
  if [ "$ready" != yes ]; then
    echo "    FAILED: $ready"
    FAILED=$((FAILED + 1))
    FAILED_NAMES+=("$name")
    return 0
  fi
  if run_bounded "$STEP_TIMEOUT" "$log" "$@"; then
    redact <"$log" | indent
    echo "    ok ($((SECONDS - start)) s)"
    PASSED=$((PASSED + 1))
  else
    redact <"$log" | tail -n 80 | indent
    case $name in python | node)
      echo "    (the service log is $WORK/service.log; CHECK_KEEP=1 keeps it)" ;;
    esac
    echo "    FAILED ($((SECONDS - start)) s)"
    FAILED=$((FAILED + 1))
    FAILED_NAMES+=("$name")
  fi
}

# setup NAME CMD... : an uncounted prerequisite; prints its log on failure.
setup() {
  local name=$1 limit=$2
  shift 2
  local log=$WORK/setup-$name.log start=$SECONDS
  if run_bounded "$limit" "$log" "$@"; then
    echo "-- $name: ok ($((SECONDS - start)) s)"
    return 0
  fi
  echo "-- $name: FAILED ($((SECONDS - start)) s)"
  redact <"$log" | tail -n 60 | indent
  return 1
}

sha() { sha256sum "$@" | cut -c1-64 | tr '\n' ' '; }

# ---------------------------------------------------------------- installs

install_npm() {
  # npm ci installs exactly tools/package-lock.json (and removes
  # tools/node_modules first). The stamp skips it when nothing changed.
  local stamp=$TOOLS/node_modules/.check-stamp want
  want="$(sha "$TOOLS/package.json" "$TOOLS/package-lock.json") node $(node --version)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] &&
    [ -x "$TOOLS/node_modules/.bin/graphql-inspector" ] && [ -x "$TOOLS/node_modules/.bin/graphql-codegen" ] &&
    [ -x "$TOOLS/node_modules/.bin/tsc" ]; then
    echo "tools/node_modules is up to date with tools/package-lock.json"
    return 0
  fi
  npm ci --prefix "$TOOLS" --no-audit --no-fund --prefer-offline
  echo "$want" >"$stamp"
}

install_venv() {
  local venv=$TOOLS/.venv stamp=$TOOLS/.venv/.check-stamp want
  want="$(sha "$TOOLS/requirements.txt") $("$PYTHON" --version 2>&1)"
  if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    echo "tools/.venv is up to date with tools/requirements.txt"
    return 0
  fi
  rm -rf "$venv"
  "$PYTHON" -m venv "$venv"
  # Every package is pinned in requirements.txt, dependencies included:
  # --no-deps installs exactly that set, and pip check proves it is complete.
  "$venv/bin/python" -m pip install --disable-pip-version-check --no-input --no-deps -r "$TOOLS/requirements.txt"
  "$venv/bin/python" -m pip check
  echo "$want" >"$stamp"
}

build_api() {
  if [ -n "$API_BIN_GIVEN" ]; then
    [ -x "$API_BIN" ] || { echo "API_BIN=$API_BIN is not an executable file"; return 1; }
    echo "using API_BIN=$API_BIN"
    return 0
  fi
  if [ -x "$API_BIN" ] && [ "${CHECK_BUILD:-}" != always ]; then
    echo "using $API_BIN (CHECK_BUILD=always rebuilds it)"
    local newer
    newer=$(find api entity migration Cargo.toml Cargo.lock -newer "$API_BIN" -type f 2>/dev/null | head -n 3)
    if [ -n "$newer" ]; then
      echo "warning: sources changed since $API_BIN was built, e.g. $(echo "$newer" | tr '\n' ' ')"
    fi
    return 0
  fi
  cargo build -p api --bin api
  [ -x "$API_BIN" ] || { echo "cargo build did not produce $API_BIN (is CARGO_TARGET_DIR the same?)"; return 1; }
}

# ---------------------------------------------------------------- the service

DATA_DIR=$WORK/data
BIND_ADDR=${BIND_ADDR:-}
URL=${URL:-}  # set by start_server; re-entered steps get it from the environment
TOKEN_FILE=$WORK/cdd.token

# The service and `api token` run with a clean environment (no inherited
# DATABASE_URL, JWT_SECRET, TRUSTED_ISSUERS_FILE, ...) from the scratch
# directory (no .env file is picked up). More NAME=VALUE arguments may follow:
# "${API_ENV[@]}" BIND_ADDR=... "$API_BIN" serve
API_ENV=(env -i PATH="$PATH" HOME="$HOME"
  APP_ENV=development
  DATA_DIR="$DATA_DIR"
  DATABASE_URL="sqlite://$DATA_DIR/records.db?mode=rwc"
  RUST_LOG="info,sqlx=warn,sea_orm=warn"
  LOG_FORMAT=json)

free_port() {
  "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start_server() {
  mkdir -p "$DATA_DIR"
  BIND_ADDR=127.0.0.1:$(free_port)
  URL=http://$BIND_ADDR/graphql
  # exec: SERVER_PID is the api process itself, so stop_server signals it.
  (cd "$WORK" && exec "${API_ENV[@]}" BIND_ADDR="$BIND_ADDR" "$API_BIN" serve) </dev/null >"$WORK/service.log" 2>&1 &
  SERVER_PID=$!
  echo "-- service: pid $SERVER_PID on $BIND_ADDR, DATA_DIR=$DATA_DIR"
}

wait_ready() {
  local deadline=$((SECONDS + READY_TIMEOUT))
  while [ $SECONDS -lt $deadline ]; do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "the service exited before it was ready"
      return 1
    fi
    if curl -fsS --max-time 2 "http://$BIND_ADDR/readyz" >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.2
  done
  echo "the service did not answer /readyz within ${READY_TIMEOUT}s"
  return 1
}

service_up() {
  local start=$SECONDS
  for _ in 1 2 3; do
    start_server
    if wait_ready; then
      echo "-- service: ready ($((SECONDS - start)) s)"
      return 0
    fi
    # A port taken between free_port and the bind: try another one.
    if ! kill -0 "$SERVER_PID" 2>/dev/null && grep -qi "address already in use" "$WORK/service.log"; then
      stop_server
      continue
    fi
    break
  done
  echo "-- service: FAILED to start; the end of its log:"
  tail -n 40 "$WORK/service.log" | redact | indent
  stop_server
  return 1
}

mint_token() {
  umask 077
  (cd "$WORK" && exec "${API_ENV[@]}" "$API_BIN" token --org CDD --scopes "communities:read communities:classify" --ttl 1h) >"$TOKEN_FILE.tmp"
  chmod 600 "$TOKEN_FILE.tmp"
  mv "$TOKEN_FILE.tmp" "$TOKEN_FILE"
  [ -s "$TOKEN_FILE" ]
}

# ---------------------------------------------------------------- the steps

INSPECTOR=$TOOLS/node_modules/.bin/graphql-inspector

check_validate() {
  "$INSPECTOR" validate tools/frontend/operations.graphql schema.graphql
}

check_breaking() {
  # The requirement: no undeclared breaking change against the released baseline.
  "$INSPECTOR" diff tools/schema-baseline.graphql schema.graphql \
    --rule tools/inspector/allow-declared-breaks.cjs
}

check_breaking_since_previous_commit() {
  # For information only (never fails the check): the changes since HEAD~1.
  local previous=$WORK/schema.HEAD~1.graphql
  if git rev-parse --verify -q HEAD~1 >/dev/null 2>&1 && git show HEAD~1:schema.graphql >"$previous" 2>/dev/null; then
    echo "-- for information: schema.graphql against HEAD~1 ($(git rev-parse --short HEAD~1))"
    if cmp -s "$previous" schema.graphql; then
      echo "    no change"
    else
      "$INSPECTOR" diff "$previous" schema.graphql --rule tools/inspector/allow-declared-breaks.cjs 2>&1 | redact | indent || true
    fi
  fi
}

check_codegen() {
  rm -rf tools/frontend/generated.ts tools/frontend/schema-types.ts tools/frontend/persisted
  (cd tools && ./node_modules/.bin/graphql-codegen --config codegen.ts --silent)
  echo "generated: tools/frontend/generated.ts ($(wc -l <tools/frontend/generated.ts) lines), tools/frontend/schema-types.ts ($(wc -l <tools/frontend/schema-types.ts) lines)"
  # The trusted-document manifest the Rust tests register must be the one
  # the client preset writes today (same hashes, same texts).
  local manifest=tools/frontend/persisted/persisted-documents.json
  if ! diff <(jq -S . "$manifest") <(jq -S . tests/fixtures/persisted-documents.json) >/dev/null; then
    echo "tests/fixtures/persisted-documents.json differs from the client preset's $manifest: cp $manifest tests/fixtures/" >&2
    return 1
  fi
  echo "persisted documents: $manifest ($(jq 'length' "$manifest") operations) is tests/fixtures/persisted-documents.json"
  "$TOOLS/node_modules/.bin/tsc" --noEmit -p tools/tsconfig.json
  echo "tsc --noEmit (strict): tools/frontend/sample.ts type-checks against the generated types"
}

check_python() {
  "$TOOLS/.venv/bin/python" tools/clients/python_client.py \
    --url "$URL" --token-file "$TOKEN_FILE" --schema schema.graphql --community DEMO-002
}

check_node() {
  node tools/clients/node_client.mjs \
    --url "$URL" --token-file "$TOKEN_FILE" --operations tools/frontend/operations.graphql --community DEMO-003
}

if [ -n "$RUN_MODE" ]; then
  shift
  "$@"
  exit $?
fi
SELF=("$BASH" "$TOOLS/check.sh" --run)
export WORK URL PYTHON

# ---------------------------------------------------------------- main

echo "tools/check.sh: scratch directory $WORK"

# Prerequisites first: the api binary, the installs, the running service and a
# token. A failed prerequisite fails the steps that need it, not the others.
API_OK="the api binary could not be built"
if setup api-binary "$BUILD_TIMEOUT" "${SELF[@]}" build_api; then
  redact <"$WORK/setup-api-binary.log" | indent
  API_OK=yes
fi

NPM_OK="npm ci --prefix tools failed"
if setup npm-ci "$INSTALL_TIMEOUT" "${SELF[@]}" install_npm; then
  NPM_OK=yes
fi
VENV_OK="the Python venv (tools/.venv) could not be installed"
if setup python-venv "$INSTALL_TIMEOUT" "${SELF[@]}" install_venv; then
  VENV_OK=yes
fi

SERVICE_OK=$API_OK
if [ "$API_OK" = yes ]; then
  SERVICE_OK="the service did not start"
  if service_up; then
    SERVICE_OK="no token could be minted with api token"
    if setup token "$STEP_TIMEOUT" "${SELF[@]}" mint_token; then
      SERVICE_OK=yes
    fi
  fi
fi
export URL

step validate "$NPM_OK" "${SELF[@]}" check_validate
step breaking "$NPM_OK" "${SELF[@]}" check_breaking
if [ "$NPM_OK" = yes ]; then
  # Not counted, and never fails the check.
  run_bounded "$STEP_TIMEOUT" "$WORK/previous-commit.log" "${SELF[@]}" check_breaking_since_previous_commit || true
  redact <"$WORK/previous-commit.log"
fi
step codegen "$NPM_OK" "${SELF[@]}" check_codegen

PY_OK=$VENV_OK
[ "$PY_OK" = yes ] && PY_OK=$SERVICE_OK
step python "$PY_OK" "${SELF[@]}" check_python
NODE_OK=$NPM_OK
[ "$NODE_OK" = yes ] && NODE_OK=$SERVICE_OK
step node "$NODE_OK" "${SELF[@]}" check_node

stop_server
echo "== done in $((SECONDS - T0)) s${FAILED_NAMES[*]:+; failed: ${FAILED_NAMES[*]}}"
echo "tools: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
