#!/usr/bin/env bash
# Thai text search on 100,000 communities: its latency with the trigram index
# (pg_trgm, `ix_communities_search_trgm`) and with an unindexed scan (the
# index dropped for the second half, then rebuilt). From the repository root:
#
#   bash bench/search.sh
#
# Uses the benchmark's PostgreSQL data set (bench/generate.sh: 100,000
# communities named บ้าน<one of 12 names> หมู่ <n> (<number>)) and the release
# build. For each query and each index state it prints, and appends to
# bench/out/search.jsonl, the plan PostgreSQL chose for the search's SQL and
# two wrk runs through the real endpoint: one connection (latency without
# queueing: p50, p99) and BENCH_CONNECTIONS connections (throughput).
#
# The queries (the first page of 20, by code, with totalCount):
#   selective  search "4217": the few communities whose name or code holds it
#   broad      search "ตนจัน" (ต้นจั่น typed without its tone marks): one in twelve
#   thai-order orderBy NAME, first page: the `thai` collation's index
#
# Settings: bench/env.sh (BENCH_DURATION, BENCH_SERIAL_DURATION,
# BENCH_CONNECTIONS, ...).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/env.sh

OUT=bench/out
LOGS=$OUT/logs
mkdir -p "$OUT" "$LOGS"
RESULTS=$OUT/search.jsonl
: > "$RESULTS"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
API="$CARGO_TARGET_DIR/release/api"

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*"; }

missing=()
for tool in wrk jq psql curl; do command -v "$tool" > /dev/null || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]} (apt-get)"
  packages=()
  for tool in "${missing[@]}"; do
    case "$tool" in psql) packages+=(postgresql-client) ;; *) packages+=("$tool") ;; esac
  done
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" > /dev/null
fi
log "building the service (cargo build --release -p api)"
cargo build --release -q -p api
log "data set"
bash bench/generate.sh

SERVER_PID=
INDEX_DEF=
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
  # Never leave the data set without its index.
  if [ -n "$INDEX_DEF" ] && [ "$(psql_bench -Atc "SELECT count(*) FROM pg_indexes WHERE indexname = 'ix_communities_search_trgm'")" = 0 ]; then
    psql_bench -qc "$INDEX_DEF"
  fi
}
trap cleanup EXIT

ADDR=$BENCH_API_ADDR
APP_ENV=development JWT_SECRET="$BENCH_JWT_SECRET" DATA_DIR="$OUT" DEMO_DATA=false RUST_LOG=warn \
  COST_BUDGET=0 DATABASE_URL="$BENCH_PG_URL" BIND_ADDR="$ADDR" "$API" serve > "$LOGS/search-api.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 600); do
  curl -sf "http://$ADDR/readyz" > /dev/null 2>&1 && break
  kill -0 "$SERVER_PID" 2>/dev/null || { echo "the service exited; see $LOGS/search-api.log" >&2; exit 1; }
  sleep 0.5
done
TOKEN=$(APP_ENV=development JWT_SECRET="$BENCH_JWT_SECRET" DATA_DIR="$OUT" "$API" token --org CDD \
  --scopes "communities:read" --ttl 1h)
# (The first start fills the 100,000 search keys the SQL generator leaves out:
# store::search::backfill.)
[ "$(psql_bench -Atc "SELECT count(*) FROM communities WHERE search_text IS NULL")" = 0 ] ||
  { echo "search keys missing after start-up" >&2; exit 1; }
INDEX_DEF=$(psql_bench -Atc "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_communities_search_trgm'")
[ -n "$INDEX_DEF" ] || { echo "no trigram index on communities.search_text" >&2; exit 1; }

# name search-text | '' for the ordering query
QUERIES=("selective 4217" "broad ตนจัน" "thai-order -")

body() { # search-text
  if [ "$1" = - ]; then
    jq -nc '{query: "{ communities(first: 20, orderBy: {field: NAME, direction: ASC}) { nodes { code nameTh } } }"}'
  else
    jq -nc --arg s "$1" '{query: "query($s: String) { communities(first: 20, filter: {search: $s}) { totalCount nodes { code nameTh } } }", variables: {s: $s}}'
  fi
}

plan() { # search-text: the plan's scan nodes for the search's SQL, and its time
  local sql
  if [ "$1" = - ]; then
    sql="SELECT id FROM communities ORDER BY name_th COLLATE thai, id LIMIT 21"
  else
    sql="SELECT id FROM communities WHERE search_text LIKE '%$1%' ORDER BY code, id LIMIT 21"
  fi
  psql_bench -Atc "EXPLAIN (ANALYZE, FORMAT JSON) $sql" |
    jq -c '[.[0] | .. | objects | select(has("Node Type")) | .["Node Type"] + (if .["Index Name"] then " " + .["Index Name"] else "" end)] as $nodes
           | {plan: ($nodes | join(" > ")), sql_ms: .[0]["Execution Time"]}'
}

wrk_json() { # connections duration body-file
  wrk -t 1 -c "$1" -d "$2s" --timeout 10s -H 'Content-Type: application/json' -H "Authorization: Bearer $TOKEN" \
    -s bench/lua/fixed.lua "http://$ADDR/graphql" -- "$3" | grep '^BENCH_JSON ' | cut -c12-
}

measure() { # index-state
  local state=$1 entry name text file answer
  for entry in "${QUERIES[@]}"; do
    name=${entry%% *}
    text=${entry#* }
    file=$OUT/search-$name.json
    body "$text" > "$file"
    answer=$(curl -sS -H 'Content-Type: application/json' -H "Authorization: Bearer $TOKEN" --data-binary "@$file" "http://$ADDR/graphql")
    jq -e 'has("errors") | not' <<< "$answer" > /dev/null || { echo "search failed: $answer" >&2; exit 1; }
    wrk_json 4 "$BENCH_WARMUP" "$file" > /dev/null
    local serial loaded plan_json
    serial=$(wrk_json 1 "$BENCH_SERIAL_DURATION" "$file")
    loaded=$(wrk_json "$BENCH_CONNECTIONS" "$BENCH_DURATION" "$file")
    plan_json=$(plan "$text")
    jq -nc --arg q "$name" --arg s "$text" --arg index "$state" --argjson serial "$serial" --argjson loaded "$loaded" \
      --argjson plan "$plan_json" --argjson total "$(jq '.data.communities.totalCount // null' <<< "$answer")" \
      '{query: $q, search: $s, index: $index, matches: $total, plan: $plan.plan, sql_ms: $plan.sql_ms,
        p50_ms: $serial.p50_ms, p99_ms: $serial.p99_ms, rps_1: $serial.rps,
        rps: $loaded.rps, p50_loaded_ms: $loaded.p50_ms, errors: ($serial.gql_errors + $loaded.gql_errors + $serial.non_200 + $loaded.non_200)}' \
      >> "$RESULTS"
    log "$(tail -1 "$RESULTS" | jq -r '"\(.query) (\(.index)): \(.matches // "-") matches, p50 \(.p50_ms) ms, p99 \(.p99_ms) ms, \(.rps) req/s at '"$BENCH_CONNECTIONS"'; SQL \(.sql_ms) ms: \(.plan)"')"
  done
}

log "with the trigram index"
measure indexed
log "without it (dropped; rebuilt at the end)"
psql_bench -qc "DROP INDEX ix_communities_search_trgm"
measure unindexed
psql_bench -qc "$INDEX_DEF"
INDEX_DEF=

echo
echo "| query | index | matches | p50 ms | p99 ms | req/s ($BENCH_CONNECTIONS conn.) | SQL ms | plan |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
jq -r '"| \(.query) | \(.index) | \(.matches // "-") | \(.p50_ms) | \(.p99_ms) | \(.rps) | \(.sql_ms) | \(.plan) |"' "$RESULTS"
