#!/usr/bin/env bash
# Measures an export of every community with its enrolments (JSON Lines) on
# the benchmark data set (100,000 communities, 10 enrolments each; see
# bench/generate.sh): starts a release service on the data set, starts the
# export, polls until it has ended, downloads the file, and prints one JSON
# line per engine:
#   {"engine", "status", "objects", "bytes", "seconds" (start to COMPLETED),
#    "objects_per_s", "download_seconds", "lines"}
#
#   bash bench/export.sh [postgres|sqlite|both]   (default: both)
#
# Needs the release build (cargo build --release -p api; CARGO_TARGET_DIR is
# honoured) and the data set (bash bench/generate.sh). Settings come from
# bench/env.sh (BENCH_DB, BENCH_SQLITE_FILE, ...). The service applies its
# migrations to the data set on start.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/env.sh

engines=${1:-both}
API=${CARGO_TARGET_DIR:-target}/release/api
[ -x "$API" ] || { echo "build the service first: cargo build --release -p api" >&2; exit 1; }
OUT=bench/out/export
mkdir -p "$OUT"
ADDR=${BENCH_EXPORT_ADDR:-127.0.0.1:18090}

QUERY='{ communities { nodes { code nameTh nameEn province { code } tourismTier households enrolments { nodes { status programme { code } nominatedAt } } } } }'

SERVER_PID=
stop_server() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
  fi
}
trap stop_server EXIT

token() {
  APP_ENV=development JWT_SECRET="$BENCH_JWT_SECRET" DATA_DIR="$OUT" "$API" token --org CDD \
    --scopes "communities:read enrolments:read programmes:read exports:run" --ttl 1h
}

gql() { # token body
  curl -sf "http://$ADDR/graphql" -H "Authorization: Bearer $1" -H 'Content-Type: application/json' -d "$2"
}

run() { # engine database-url
  local engine=$1 url=$2 i
  # The cost budget is a policy, not a capacity: off, as in bench/run.sh.
  env APP_ENV=development JWT_SECRET="$BENCH_JWT_SECRET" DATA_DIR="$OUT" DEMO_DATA=false RUST_LOG=warn \
    COST_BUDGET=0 DATABASE_URL="$url" BIND_ADDR="$ADDR" "$API" serve > "$OUT/api-$engine.log" 2>&1 &
  SERVER_PID=$!
  for i in $(seq 1 240); do
    curl -sf "http://$ADDR/readyz" > /dev/null 2>&1 && break
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "the service exited; see $OUT/api-$engine.log" >&2; return 1; }
    sleep 0.5
  done
  local tok id started status export body
  tok=$(token)
  body=$(jq -nc --arg q "$QUERY" '{query: "mutation($q: String!) { startExport(input: {query: $q, format: JSONL}) { id } }", variables: {q: $q}}')
  started=$(date +%s.%N)
  id=$(gql "$tok" "$body" | jq -er '.data.startExport.id') || { echo "startExport failed" >&2; return 1; }
  while :; do
    export=$(gql "$tok" "$(jq -nc --arg id "$id" '{query: "query($id: ID!) { export(id: $id) { status objectCount byteSize url error { code message } } }", variables: {id: $id}}')")
    status=$(jq -r '.data.export.status' <<< "$export")
    case "$status" in QUEUED|RUNNING) sleep 0.2 ;; *) break ;; esac
  done
  local finished seconds objects bytes download_start download_seconds lines
  finished=$(date +%s.%N)
  seconds=$(echo "$finished - $started" | bc -l)
  objects=$(jq -r '.data.export.objectCount' <<< "$export")
  bytes=$(jq -r '.data.export.byteSize' <<< "$export")
  lines=0
  download_seconds=0
  if [ "$status" = COMPLETED ]; then
    download_start=$(date +%s.%N)
    curl -sf "http://$ADDR$(jq -r '.data.export.url' <<< "$export")" -H "Authorization: Bearer $tok" -o "$OUT/export-$engine.jsonl"
    download_seconds=$(echo "$(date +%s.%N) - $download_start" | bc -l)
    lines=$(wc -l < "$OUT/export-$engine.jsonl")
  else
    echo "the export ended $status: $(jq -c '.data.export.error' <<< "$export")" >&2
  fi
  jq -nc --arg engine "$engine" --arg status "$status" --argjson objects "$objects" --argjson bytes "$bytes" \
    --argjson seconds "$seconds" --argjson download "$download_seconds" --argjson lines "$lines" \
    '{engine: $engine, status: $status, objects: $objects, bytes: $bytes, seconds: ($seconds * 100 | round / 100),
      objects_per_s: (if $seconds > 0 then ($objects / $seconds | round) else null end),
      download_seconds: ($download * 100 | round / 100), lines: $lines}'
  stop_server
}

case "$engines" in
  postgres) run postgres "$BENCH_PG_URL" ;;
  sqlite) run sqlite "$BENCH_SQLITE_URL" ;;
  both) run postgres "$BENCH_PG_URL"; run sqlite "$BENCH_SQLITE_URL" ;;
  *) echo "usage: bash bench/export.sh [postgres|sqlite|both]" >&2; exit 2 ;;
esac
