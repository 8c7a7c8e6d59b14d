#!/usr/bin/env bash
# A/B of service builds on W1 (the nested read), for judging one change:
# runs each binary in turn, several rounds, on the PostgreSQL bench data,
# and prints req/s, latency and the server's CPU time per request (the
# figure that moves least with the machine's other load).
#
#   bash bench/ab.sh [--rounds N] [--seconds S] [--connections C] [--sqlite] [--pii] BIN [BIN...]
#
# --sqlite runs them on the SQLite bench data instead (the database is then
# in the server's process, so its CPU per request is the whole cost).
# --pii reads contacts instead of W1 (50 communities of tier C, about a third
# with a contact, by a token with communities:pii): what the personal-data
# access log costs a read that returns personal data.
#
# e.g. build main into one target directory and a branch into another, then
#   bash bench/ab.sh /tmp/main/release/api target/release/api
#
# Needs the data sets (bash bench/run.sh, or bench/generate.sh, once) and wrk.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/env.sh

rounds=3 seconds=10 connections=16 bins=() url=$BENCH_PG_URL pii=false
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --sqlite) url=$BENCH_SQLITE_URL; shift ;;
    --pii) pii=true; shift ;;
    -*) echo "usage: bash bench/ab.sh [--rounds N] [--seconds S] [--connections C] [--sqlite] [--pii] BIN [BIN...]" >&2; exit 2 ;;
    *) bins+=("$1"); shift ;;
  esac
done
[ ${#bins[@]} -gt 0 ] || { echo "give at least one service binary" >&2; exit 2; }
addr=127.0.0.1:18092
out=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$out"' EXIT
query='{ communities(first: 20, filter: {tiers: [C]}) { nodes { code nameTh enrolments(first: 5) { nodes { status programme { code mou { code status } } } } } } }'
scopes="communities:read enrolments:read programmes:read mous:read"
if $pii; then
  query='{ communities(first: 50, filter: {tiers: [C]}) { nodes { code nameTh contact { name phone email } } } }'
  scopes="communities:read communities:pii"
fi
jq -cn --arg q "$query" '{query: $q}' > "$out/w1.json"
tck=$(getconf CLK_TCK)

printf '%-5s %-40s %8s %8s %8s %10s %8s\n' round binary req/s p50-ms p99-ms cpu-ms/req errors
for round in $(seq 1 "$rounds"); do
  for bin in "${bins[@]}"; do
    token=$(APP_ENV=development JWT_SECRET="$BENCH_JWT_SECRET" DATA_DIR="$out" "$bin" token --org CDD \
      --scopes "$scopes" --ttl 1h)
    APP_ENV=development JWT_SECRET="$BENCH_JWT_SECRET" DATA_DIR="$out" DEMO_DATA=false RUST_LOG=warn COST_BUDGET=0 \
      DATABASE_URL="$url" BIND_ADDR=$addr "$bin" serve > "$out/server.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 100); do curl -sf "http://$addr/readyz" > /dev/null && break; sleep 0.2; done
    args=(-t 2 -c "$connections" --timeout 10s -H 'Content-Type: application/json' -H "Authorization: Bearer $token"
      -s bench/lua/fixed.lua "http://$addr/graphql")
    wrk "${args[@]}" -d 3s -- "$out/w1.json" > /dev/null
    cpu0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
    wrk "${args[@]}" -d "${seconds}s" -- "$out/w1.json" > "$out/wrk.txt"
    cpu1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
    kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
    json=$(sed -n 's/^BENCH_JSON //p' "$out/wrk.txt")
    printf '%-5s %-40s %8s %8s %8s %10s %8s\n' "$round" "$bin" \
      "$(jq -r '.rps' <<< "$json")" "$(jq -r '.p50_ms' <<< "$json")" "$(jq -r '.p99_ms' <<< "$json")" \
      "$(jq -r --argjson c $((cpu1 - cpu0)) --argjson t "$tck" '$c * 1000 / $t / .requests * 100 | round / 100' <<< "$json")" \
      "$(jq -r '.gql_errors + .non_200 + .socket_errors' <<< "$json")"
  done
done
