#!/usr/bin/env bash
# Fuzz the service with Schemathesis for about a minute. From the repository root:
#
#   API_BIN=path/to/debug/api bash tools/fuzz/run.sh
#
# Starts the api binary in development on a fresh SQLite database with the
# demo data (a temporary DATA_DIR, a free port), with the cost budget off and
# webhook delivery off; mints a CDD and a FOUNDATION token with every scope;
# and runs tools/fuzz/run.py against it. Fails if any answer had a 5xx
# status or an INTERNAL error, or if the service log shows a panic.
#
# Installs Schemathesis in a venv in tools/fuzz/.venv from
# tools/fuzz/requirements.txt (every package pinned, installed with --no-deps
# and checked with pip check); skipped while the file and python are unchanged.
#
#   API_BIN        the binary (default ${CARGO_TARGET_DIR:-target}/debug/api; built if missing)
#   FUZZ_SECONDS   how long to fuzz (default 60)
#   FUZZ_SEED      seed the fuzzer's choice of tokens and order of operations
#   FUZZ_KEEP=1    keep the scratch directory (service log, tokens)
#   FUZZ_VERBOSE=1 also print the commonest error message of each operation
#   PYTHON         the python that creates the venv (default python3)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

here=tools/fuzz
PYTHON=${PYTHON:-python3}
API_BIN=${API_BIN:-${CARGO_TARGET_DIR:-target}/debug/api}
case $API_BIN in /*) ;; *) API_BIN=$PWD/$API_BIN ;; esac
SECONDS_BUDGET=${FUZZ_SECONDS:-60}
SCOPES="communities:read communities:write communities:classify communities:pii mous:read mous:write"
SCOPES+=" programmes:read programmes:write curricula:read curricula:write enrolments:read enrolments:write"
SCOPES+=" changes:read webhooks:manage"

# --- the venv ---------------------------------------------------------------
venv=$here/.venv
want="$(sha256sum "$here/requirements.txt" | cut -d' ' -f1) $("$PYTHON" --version 2>&1)"
if [ -x "$venv/bin/python" ] && [ "$(cat "$venv/.stamp" 2>/dev/null)" = "$want" ]; then
  echo "fuzz: $venv is up to date"
else
  echo "fuzz: installing $here/requirements.txt into $venv"
  rm -rf "$venv"
  "$PYTHON" -m venv "$venv"
  timeout 600 "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input --no-deps \
    -r "$here/requirements.txt"
  "$venv/bin/python" -m pip check
  echo "$want" >"$venv/.stamp"
fi

# --- the service ------------------------------------------------------------
if [ ! -x "$API_BIN" ]; then
  cargo build -p api --bin api
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/fuzz.XXXXXX")
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  if [ "${FUZZ_KEEP:-}" = 1 ]; then echo "fuzz: scratch directory kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

port=$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# A clean environment: no inherited DATABASE_URL, JWT_SECRET, ... and no .env file.
api_env=(env -i PATH="$PATH" HOME="$HOME" APP_ENV=development DATA_DIR="$work"
  DATABASE_URL="sqlite://$work/fuzz.db?mode=rwc" RUST_LOG="info,sqlx=warn,sea_orm=warn")
(cd "$work" && exec "${api_env[@]}" BIND_ADDR="127.0.0.1:$port" COST_BUDGET=0 WEBHOOK_DELIVERY=false \
  WEBHOOK_ALLOW_LOOPBACK_URLS=true "$API_BIN" serve) >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 150); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done
curl -sf "http://127.0.0.1:$port/readyz" >/dev/null || { tail -n 30 "$work/server.log"; echo "fuzz: the service did not start"; exit 1; }
for org in CDD FOUNDATION; do
  (cd "$work" && "${api_env[@]}" "$API_BIN" token --org "$org" --scopes "$SCOPES" --ttl 30m) >"$work/$org.token"
done

# --- the fuzzer -------------------------------------------------------------
rc=0
timeout --kill-after=10 $((SECONDS_BUDGET + 120)) "$venv/bin/python" "$here/run.py" \
  --url "http://127.0.0.1:$port/graphql" --token-file "$work/CDD.token" --token-file "$work/FOUNDATION.token" \
  --seconds "$SECONDS_BUDGET" ${FUZZ_SEED:+--seed "$FUZZ_SEED"} ${FUZZ_VERBOSE:+--verbose} || rc=$?
if ! kill -0 "$server_pid" 2>/dev/null; then
  echo "fuzz: FAILED: the service exited during the run"; rc=1
fi
if grep -n -m 5 'panicked' "$work/server.log"; then
  echo "fuzz: FAILED: the service log shows a panic (above)"; rc=1
fi
[ "$rc" = 0 ] && echo "fuzz: passed" || { echo "fuzz: FAILED (the service log: FUZZ_KEEP=1 keeps $work)"; }
exit "$rc"
