# Settings shared by the bench scripts (sourced from the repository root).
# Every one can be overridden from the environment.

BENCH_PG_HOST=${BENCH_PG_HOST:-127.0.0.1}
BENCH_PG_PORT=${BENCH_PG_PORT:-5432}
BENCH_PG_USER=${BENCH_PG_USER:-postgres}
BENCH_DB=${BENCH_DB:-bench}
# Both servers reach PostgreSQL the same way: plain TCP on loopback.
# PostGraphile's driver (node-postgres) uses TLS only when asked; ours
# (sqlx) tries TLS first by default (sslmode=prefer), so without this the
# two would not be doing the same work. BENCH_PG_SSLMODE=prefer measures
# ours over TLS (and asks PostGraphile for it too).
BENCH_PG_SSLMODE=${BENCH_PG_SSLMODE:-disable}
BENCH_PG_URL="postgres://$BENCH_PG_USER@$BENCH_PG_HOST:$BENCH_PG_PORT/$BENCH_DB?sslmode=$BENCH_PG_SSLMODE"
BENCH_SQLITE_FILE=${BENCH_SQLITE_FILE:-bench/out/bench.db}
BENCH_SQLITE_URL="sqlite://$BENCH_SQLITE_FILE?mode=rwc"

# A fixed development secret, so `api token` mints tokens the server accepts.
BENCH_JWT_SECRET=${BENCH_JWT_SECRET:-bench-only-secret-not-for-production-0123456789abcdef}

BENCH_API_ADDR=${BENCH_API_ADDR:-127.0.0.1:18080}
BENCH_SQLITE_API_ADDR=${BENCH_SQLITE_API_ADDR:-127.0.0.1:18081}
BENCH_PGL_PORT=${BENCH_PGL_PORT:-5678}

# Load: connections, wrk threads and seconds per phase.
BENCH_CONNECTIONS=${BENCH_CONNECTIONS:-32}
BENCH_THREADS=${BENCH_THREADS:-2}
BENCH_DURATION=${BENCH_DURATION:-20}
BENCH_WARMUP=${BENCH_WARMUP:-3}
# Seconds of the one-connection (no queueing) W4 latency phases.
BENCH_SERIAL_DURATION=${BENCH_SERIAL_DURATION:-8}
# pgbench clients for the raw-SQL ceiling: the service's pool size.
BENCH_PGBENCH_CLIENTS=${BENCH_PGBENCH_CLIENTS:-10}

# The PostgreSQL server log, where bench/pglog.sh reads the statements a
# server sent (run.sh: ours' and PostGraphile's W1 statements, the raw-SQL
# ceilings of W1). Empty: pg_current_logfile() (logging_collector on), else the
# newest /var/log/postgresql/postgresql-*-main.log (Debian), whichever holds
# the capture's marker. Must be readable by the user running the bench.
BENCH_PG_LOG=${BENCH_PG_LOG:-}

psql_admin() { psql -X -h "$BENCH_PG_HOST" -p "$BENCH_PG_PORT" -U "$BENCH_PG_USER" -d postgres "$@"; }
psql_bench() { psql -X -h "$BENCH_PG_HOST" -p "$BENCH_PG_PORT" -U "$BENCH_PG_USER" -d "$BENCH_DB" "$@"; }
