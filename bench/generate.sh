#!/usr/bin/env bash
# Generates the benchmark data sets, once (a marker row records it):
#   * PostgreSQL database `bench`: the service's migrations and demo data,
#     then bench/sql/generate_pg.sql (100,000 communities, 1,000,000
#     enrolments with their history), then bench/sql/generate_feed_pg.sql
#     (their change feed, about 2.8 million events; also added to an older
#     data set whose feed has fewer than 1,000,000 events);
#   * SQLite file bench/out/bench.db: the same, with bench/sql/generate_sqlite.sql.
#
#   bash bench/generate.sh [--regenerate]
#
# --regenerate drops and recreates database `bench` (and only it) and the
# SQLite file. Sourced settings come from bench/env.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/env.sh

regenerate=false
for arg in "$@"; do
  case "$arg" in
    --regenerate) regenerate=true ;;
    *) echo "usage: bash bench/generate.sh [--regenerate]" >&2; exit 2 ;;
  esac
done

mkdir -p bench/out
api=${CARGO_TARGET_DIR:-target}/release/api
[ -x "$api" ] || { echo "build the service first: cargo build --release -p api" >&2; exit 1; }

# Runs the service's `migrate` and `seed-demo` on DATABASE_URL=$1.
migrate_and_seed() {
  DATABASE_URL="$1" APP_ENV=development DEMO_DATA=true RUST_LOG=warn DATA_DIR=bench/out \
    JWT_SECRET="$BENCH_JWT_SECRET" "$api" migrate
  DATABASE_URL="$1" APP_ENV=development DEMO_DATA=true RUST_LOG=warn DATA_DIR=bench/out \
    JWT_SECRET="$BENCH_JWT_SECRET" "$api" seed-demo
}

# --- PostgreSQL ---------------------------------------------------------------
pg_generated() {
  [ "$(psql_bench -Atc "SELECT count(*) FROM pg_tables WHERE schemaname = 'bench_meta' AND tablename = 'generated'" 2>/dev/null)" = 1 ] &&
    [ "$(psql_bench -Atc "SELECT count(*) FROM bench_meta.generated WHERE generator = 'v1'")" = 1 ]
}

exists=$(psql_admin -Atc "SELECT count(*) FROM pg_database WHERE datname = '$BENCH_DB'")
if $regenerate && [ "$exists" = 1 ]; then
  echo "generate: dropping database $BENCH_DB (--regenerate)"
  psql_admin -qc "DROP DATABASE $BENCH_DB WITH (FORCE)"
  exists=0
fi
if [ "$exists" = 0 ]; then
  psql_admin -qc "CREATE DATABASE $BENCH_DB"
fi

if pg_generated; then
  echo "generate: PostgreSQL data set already there ($(psql_bench -Atc "SELECT communities || ' communities, ' || enrolments || ' enrolments, made ' || at FROM bench_meta.generated")); --regenerate to rebuild"
else
  if [ "$(psql_bench -Atc "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")" != 0 ]; then
    # A half-made data set (an interrupted run): start over.
    echo "generate: database $BENCH_DB has tables but no marker: recreating it"
    psql_admin -qc "DROP DATABASE $BENCH_DB WITH (FORCE)"
    psql_admin -qc "CREATE DATABASE $BENCH_DB"
  fi
  echo "generate: migrations and demo data on PostgreSQL"
  migrate_and_seed "$BENCH_PG_URL"
  echo "generate: bulk data on PostgreSQL (a few minutes)"
  start=$(date +%s)
  psql_bench -q -v ON_ERROR_STOP=1 -f bench/sql/generate_pg.sql > bench/out/generate_pg.log
  echo "generate: PostgreSQL done in $(($(date +%s) - start)) s"
fi

# Checks: the counts, and the live-enrolment rule.
read -r communities enrolments transitions live_dupes < <(psql_bench -AtF ' ' -c "
  SELECT (SELECT count(*) FROM communities WHERE code LIKE 'BENCH-%'),
         (SELECT count(*) FROM enrolments),
         (SELECT count(*) FROM enrolment_transitions),
         (SELECT count(*) FROM (SELECT 1 FROM enrolments WHERE status NOT IN ('WITHDRAWN', 'DECLINED')
                                GROUP BY community_id, programme_id HAVING count(*) > 1) d)")
echo "generate: PostgreSQL has $communities bench communities, $enrolments enrolments, $transitions transitions"
if [ "$communities" -lt 100000 ] || [ "$enrolments" -lt 1000000 ] || [ "$live_dupes" != 0 ]; then
  echo "generate: the PostgreSQL data set is incomplete or breaks the live-enrolment rule; run with --regenerate" >&2
  exit 1
fi

# --- The change feed (PostgreSQL) ----------------------------------------------
# Added when the feed is smaller than 1,000,000 events, so a data set made
# before the feed was benchmarked gets it without --regenerate.
feed_events=$(psql_bench -Atc "SELECT count(*) FROM change_events")
if [ "$feed_events" -lt 1000000 ]; then
  if [ "$(psql_bench -Atc "SELECT count(*) FROM pg_tables WHERE schemaname = 'bench_meta' AND tablename = 'feed'")" = 1 ] &&
    [ "$(psql_bench -Atc "SELECT count(*) FROM bench_meta.feed")" != 0 ]; then
    echo "generate: the feed was generated but has only $feed_events events; run with --regenerate" >&2
    exit 1
  fi
  echo "generate: change feed on PostgreSQL (a minute or two)"
  start=$(date +%s)
  psql_bench -q -v ON_ERROR_STOP=1 -f bench/sql/generate_feed_pg.sql > bench/out/generate_feed_pg.log
  echo "generate: feed done in $(($(date +%s) - start)) s"
  feed_events=$(psql_bench -Atc "SELECT count(*) FROM change_events")
fi
read -r feed_hidden feed_inbox < <(psql_bench -AtF ' ' -c "
  SELECT (SELECT count(*) FROM change_events WHERE entity_type = 'Mou'), (SELECT count(*) FROM change_event_inbox)")
echo "generate: PostgreSQL feed has $feed_events events ($feed_hidden of MOUs), $feed_inbox waiting in the inbox"
if [ "$feed_events" -lt 1000000 ]; then
  echo "generate: the PostgreSQL feed is incomplete; run with --regenerate" >&2
  exit 1
fi

# --- SQLite -------------------------------------------------------------------
sqlite_generated() {
  [ -f "$BENCH_SQLITE_FILE" ] &&
    [ "$(sqlite3 "$BENCH_SQLITE_FILE" "SELECT count(*) FROM sqlite_master WHERE name = 'bench_generated'")" = 1 ] &&
    [ "$(sqlite3 "$BENCH_SQLITE_FILE" "SELECT count(*) FROM bench_generated WHERE generator = 'v1'")" = 1 ]
}

if $regenerate || ! sqlite_generated; then
  rm -f "$BENCH_SQLITE_FILE" "$BENCH_SQLITE_FILE-wal" "$BENCH_SQLITE_FILE-shm"
  echo "generate: migrations and demo data on SQLite"
  migrate_and_seed "$BENCH_SQLITE_URL"
  echo "generate: bulk data on SQLite"
  start=$(date +%s)
  sqlite3 -bail "$BENCH_SQLITE_FILE" < bench/sql/generate_sqlite.sql > bench/out/generate_sqlite.log
  echo "generate: SQLite done in $(($(date +%s) - start)) s"
else
  echo "generate: SQLite data set already there ($BENCH_SQLITE_FILE); --regenerate to rebuild"
fi
read -r s_communities s_enrolments < <(sqlite3 -separator ' ' "$BENCH_SQLITE_FILE" \
  "SELECT (SELECT count(*) FROM communities WHERE code LIKE 'BENCH-%'), (SELECT count(*) FROM enrolments)")
echo "generate: SQLite has $s_communities bench communities, $s_enrolments enrolments"
if [ "$s_communities" -lt 100000 ] || [ "$s_enrolments" -lt 1000000 ]; then
  echo "generate: the SQLite data set is incomplete; run with --regenerate" >&2
  exit 1
fi
