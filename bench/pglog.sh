#!/usr/bin/env bash
# The SQL a server sends to PostgreSQL for one request, read from the
# PostgreSQL server log (pg_stat_statements is not preloaded here). Sourced
# by bench/run.sh (for the raw-SQL ceilings of W1: our service's statements
# and PostGraphile's), or run by itself:
#
#   bash bench/pglog.sh [--requests N] OUT-DIR URL BODY.json [TOKEN] -- SERVER-COMMAND [ARGS...]
#
# starts SERVER-COMMAND in the background (a fresh process, so its
# connections are new sessions), waits until URL answers, posts BODY.json
# once, or N times one after the other (with TOKEN as a bearer token if
# given), stops the server and writes what the server's sessions executed
# (its start-up's statements too) into OUT-DIR (see pglog_statements). Ours
# plans a read only for a document it has already validated, i.e. from the
# second time it sees it: --requests 2 shows the planned statements last.
# For example, the statements of ours for W1, after a bench/run.sh:
#
#   bash bench/pglog.sh --requests 2 /tmp/w1-ours http://127.0.0.1:18082/graphql bench/out/queries/w1-ours.json "$TOKEN" -- \
#     env APP_ENV=development JWT_SECRET=... DEMO_DATA=false DATA_DIR=bench/out COST_BUDGET=0 \
#       DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench BIND_ADDR=127.0.0.1:18082 target/release/api serve
#
# How: ALTER DATABASE $BENCH_DB SET log_min_duration_statement = 0, which
# new sessions of that database take up (every statement is then logged
# with its duration and, for the extended protocol, its parameters); a
# unique marker statement in a new session; the request; then the setting
# back as it was (RESET, or the database's earlier value of it; run.sh's
# exit trap calls pglog_end too). Only the log after the marker is read.
# The log file: $BENCH_PG_LOG if set, else pg_current_logfile('stderr')
# (when logging_collector is on), else /var/log/postgresql/postgresql-*-main.log
# (Debian's pg_ctlcluster sends the server's stderr there; newest first):
# the first of them that holds the marker. It must be readable by this user
# (on Debian: root, postgres or a member of group adm).
#
# Functions (they need psql_bench from bench/env.sh; each returns non-zero
# with the reason in PGLOG_ERROR):
#   pglog_begin                 the setting on, and the marker
#   pglog_mark VAR              one more marker (between requests), into VAR
#   pglog_end                   the setting back (does nothing if not changed)
#   pglog_statements OUT-DIR    parses the log after the marker
#   pglog_pick OUT-DIR REGEX    the path of the last statement matching REGEX
#   pglog_between OUT-DIR FROM TO EXCLUDE
#                               the statements between two marks (one request
#                               of a server that also works in the
#                               background), in log order, into PGLOG_PICKED

PGLOG_ALTERED=false
PGLOG_PREVIOUS=
PGLOG_MARKER=
PGLOG_FILE=
PGLOG_ERROR=

pglog_begin() {
  PGLOG_ERROR='' PGLOG_FILE=''
  # The database's own value of the setting, if it has one, to restore it.
  if ! PGLOG_PREVIOUS=$(psql_bench -Atc "
      SELECT coalesce(max(substr(c, length('log_min_duration_statement=') + 1)), '')
      FROM pg_db_role_setting s, unnest(s.setconfig) c
      WHERE s.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database()) AND s.setrole = 0
        AND c LIKE 'log_min_duration_statement=%'" 2>&1); then
    PGLOG_ERROR="reading the database's settings failed: $PGLOG_PREVIOUS"
    return 1
  fi
  local err
  if ! err=$(psql_bench -qc "ALTER DATABASE \"$BENCH_DB\" SET log_min_duration_statement = 0" 2>&1); then
    PGLOG_ERROR="ALTER DATABASE $BENCH_DB SET log_min_duration_statement failed: $err"
    return 1
  fi
  PGLOG_ALTERED=true
  PGLOG_MARKER="bench-marker-$$-$RANDOM$RANDOM-$(date +%s%N)"
  # A new session, so it is logged.
  if ! err=$(psql_bench -Atc "SELECT '$PGLOG_MARKER'" 2>&1); then
    PGLOG_ERROR="the marker statement failed: $err"
    return 1
  fi
}

# pglog_mark VAR: a new marker statement, in a new session (so it is logged
# while the setting is on), once whatever was logged before it is in the log
# (e.g. between two requests: the statements of the first are logged before
# its response). Its text goes into the variable VAR; pglog_statements
# lists it like any statement (`statement: SELECT 'bench-mark-…'`), and
# pglog_between reads between two of them.
pglog_mark() {
  local mark err
  mark="bench-mark-$$-$RANDOM$RANDOM-$(date +%s%N)"
  if ! err=$(psql_bench -Atc "SELECT '$mark'" 2>&1); then
    PGLOG_ERROR="the marker statement failed: $err"
    return 1
  fi
  printf -v "$1" '%s' "$mark"
}

pglog_end() {
  [ "$PGLOG_ALTERED" = true ] || return 0
  local sql="ALTER DATABASE \"$BENCH_DB\" RESET log_min_duration_statement" err
  [ -n "$PGLOG_PREVIOUS" ] && sql="ALTER DATABASE \"$BENCH_DB\" SET log_min_duration_statement = '$PGLOG_PREVIOUS'"
  if ! err=$(psql_bench -qc "$sql" 2>&1); then
    PGLOG_ERROR="restoring log_min_duration_statement failed ($sql): $err"
    return 1
  fi
  PGLOG_ALTERED=false
}

# pglog_find: sets PGLOG_FILE to the log file holding the marker.
pglog_find() {
  local candidates=() current dir f unreadable=() searched=()
  if [ -n "${BENCH_PG_LOG:-}" ]; then
    candidates=("$BENCH_PG_LOG")
  else
    current=$(psql_bench -Atc "SELECT pg_current_logfile('stderr')" 2> /dev/null || true)
    if [ -n "$current" ]; then
      if [ "${current#/}" = "$current" ]; then
        dir=$(psql_bench -Atc "SHOW data_directory" 2> /dev/null || true)
        current=$dir/$current
      fi
      candidates+=("$current")
    fi
    # shellcheck disable=SC2012 # file names without newlines; newest first
    mapfile -t -O "${#candidates[@]}" candidates < <(ls -1t /var/log/postgresql/postgresql-*-main.log 2> /dev/null || true)
  fi
  if [ ${#candidates[@]} = 0 ]; then
    PGLOG_ERROR="no server log found: pg_current_logfile() is empty (logging_collector off) and there is no /var/log/postgresql/postgresql-*-main.log; set BENCH_PG_LOG"
    return 1
  fi
  # With logging_collector on, the collector writes a moment later.
  for _ in $(seq 1 25); do
    unreadable=() searched=()
    for f in "${candidates[@]}"; do
      if [ ! -r "$f" ]; then unreadable+=("$f"); continue; fi
      if grep -qF "$PGLOG_MARKER" "$f"; then PGLOG_FILE=$f; return 0; fi
      searched+=("$f")
    done
    [ ${#searched[@]} = 0 ] && break
    sleep 0.2
  done
  if [ ${#unreadable[@]} -gt 0 ] && [ ${#searched[@]} = 0 ]; then
    PGLOG_ERROR="the server log is not readable by $(id -un): ${unreadable[*]} (set BENCH_PG_LOG, or run as a member of group adm)"
  else
    PGLOG_ERROR="the marker is in none of the server logs searched (${searched[*]}${unreadable[*]:+; not readable: ${unreadable[*]}}): set BENCH_PG_LOG"
  fi
  return 1
}

# pglog_statements OUT-DIR: the statements executed (extended protocol:
# `LOG:  duration: … ms  execute NAME: SQL`, the SQL continued on
# tab-indented lines, then `DETAIL:  parameters: $1 = '…', …`; simple
# protocol: `statement: SQL`) after the marker, by any session of any
# database, in log order. Writes OUT-DIR/NN.sql, each statement with its
# parameters substituted as the SQL literals the log shows them as (NULL
# stays NULL) and ending in `;`, after a comment line
# `-- NN: execute NAME, D ms, session PID` (or `statement`, for the simple
# protocol), NN.logged and NN.params (the statement and
# its parameters as logged), and OUT-DIR/all.sql: every statement as
# logged, with its session, duration and parameters, then substituted.
# The marker's own statement is left out.
pglog_statements() {
  local out=$1 start n
  pglog_find || return 1
  mkdir -p "$out"
  rm -f "$out"/[0-9]*.sql "$out"/[0-9]*.logged "$out"/[0-9]*.params "$out/all.sql"
  start=$(grep -nF "$PGLOG_MARKER" "$PGLOG_FILE" | head -1 | cut -d: -f1)
  if ! n=$(tail -n +"$((start + 1))" "$PGLOG_FILE" | perl -e '
      use strict; use warnings;
      my ($out, $file) = @ARGV;
      # Messages: a line that is not tab-indented starts one.
      my @msgs;
      while (my $line = <STDIN>) {
        chomp $line;
        if ($line =~ /^\t/ && @msgs) { $msgs[-1] .= "\n" . substr($line, 1); }
        else { push @msgs, $line; }
      }
      my (@stmts, %last_exec);
      for my $m (@msgs) {
        my ($prefix, $level, $text) = $m =~ /^(.*?)\b(LOG|DETAIL|ERROR|WARNING|STATEMENT|HINT|CONTEXT|NOTICE|FATAL|PANIC|INFO|DEBUG\d?):  (.*)$/s
          or next;
        my ($pid) = $prefix =~ /\[(\d+)\]/;
        $pid //= "";
        if ($level eq "LOG" && $text =~ /^duration: ([0-9.]+) ms  (execute ([^:]*)|statement): (.*)$/s) {
          my %s = (duration => $1, kind => $2, sql => $4, pid => $pid, params => {}, detail => "");
          push @stmts, \%s;
          $last_exec{$pid} = \%s;
          next;
        }
        if ($level eq "DETAIL" && $text =~ /^parameters: (.*)$/s && $last_exec{$pid}) {
          my $s = $last_exec{$pid};
          $s->{detail} = $1;
          while ($s->{detail} =~ /\$(\d+) = (NULL|\x27(?:[^\x27]|\x27\x27)*\x27)/g) { $s->{params}{$1} = $2; }
        }
        delete $last_exec{$pid};
      }
      my $n = 0;
      open(my $all, ">", "$out/all.sql") or die "$out/all.sql: $!";
      print $all "-- Statements executed after the marker in $file, in log order.\n\n";
      for my $s (@stmts) {
        $n++;
        my $sql = $s->{sql};
        my %p = %{$s->{params}};
        # One pass: $10 is never read as $1 followed by 0.
        (my $subst = $sql) =~ s/\$(\d+)/exists $p{$1} ? $p{$1} : "\$$1"/ge;
        $subst =~ s/\s*;?\s*$/;\n/;
        my $base = sprintf("%s/%02d", $out, $n);
        my $head = sprintf("-- %02d: %s, %s ms, session %s\n", $n, $s->{kind}, $s->{duration}, $s->{pid} || "?");
        for (["sql", $head . $subst], ["logged", "$sql\n"], ["params", $s->{detail} eq "" ? "" : "$s->{detail}\n"]) {
          open(my $f, ">", "$base.$_->[0]") or die "$base.$_->[0]: $!";
          print $f $_->[1];
          close $f;
        }
        (my $logged = $sql) =~ s/^/--   /mg;
        print $all $head, $logged, "\n";
        print $all "-- parameters: $s->{detail}\n" if $s->{detail} ne "";
        print $all $subst, "\n";
      }
      close $all;
      print "$n\n";
    ' "$out" "$PGLOG_FILE"); then
    PGLOG_ERROR="parsing $PGLOG_FILE failed"
    return 1
  fi
  if [ "$n" = 0 ]; then
    PGLOG_ERROR="no statement logged after the marker in $PGLOG_FILE"
    return 1
  fi
}

# pglog_pick OUT-DIR REGEX [KIND]: prints the path of the last statement in
# OUT-DIR (written by pglog_statements) that matches the extended REGEX and
# is no transaction control or set_config call; with KIND (execute or
# statement), only statements logged as that.
pglog_pick() {
  local f picked=
  while IFS= read -r f; do
    [ -z "${3:-}" ] || head -1 "$f" | grep -qE "^-- [0-9]+: $3[ ,]" || continue
    sed 1d "$f" | grep -qiE '^[[:space:]]*(begin|commit|rollback|select[[:space:]]+set_config)\b' && continue
    sed 1d "$f" | grep -qE "$2" && picked=$f
  done < <(pglog_files "$1")
  [ -n "$picked" ] || { PGLOG_ERROR="no statement matching /$2/ among the $(find "$1" -name '[0-9]*.sql' | wc -l) logged (see $1/all.sql)"; return 1; }
  echo "$picked"
}

# pglog_files OUT-DIR: the paths of the statements pglog_statements wrote
# there (NN.sql), in log order (numerically: 100.sql after 99.sql).
pglog_files() {
  find "$1" -maxdepth 1 -name '[0-9]*.sql' -printf '%f\n' | grep -E '^[0-9]+\.sql$' | sort -n | sed "s|^|$1/|"
}

# pglog_between OUT-DIR FROM TO EXCLUDE: sets the array PGLOG_PICKED to the
# paths (in OUT-DIR, written by pglog_statements) of the statements
# executed between the marks FROM and TO (pglog_mark), in log order, taken
# by transaction: a session's statements from BEGIN (or START TRANSACTION)
# to COMMIT, ROLLBACK or END are one, any other statement is one by itself.
# It keeps the transactions that began after FROM and ended before TO and
# none of whose statements matches the regular expression EXCLUDE (Perl's,
# case insensitive; an extended one reads the same; empty: none excluded).
# So, for a request made between the marks, the work of the server's other
# sessions (background tasks) is left out by EXCLUDE, their transaction
# control too, and what began before FROM (the end of a background
# transaction) or was still open at TO is left out whatever it contains.
# A session executes one statement at a time and the log has each when it
# ended, so the log's order is the order executed. Fails if a mark is not
# in the log or nothing is left.
PGLOG_PICKED=()
pglog_between() {
  local out=$1 from=$2 to=$3 exclude=$4 picked
  PGLOG_PICKED=()
  if ! picked=$(pglog_files "$out" | perl -e '
      use strict; use warnings;
      my ($from, $to, $exclude) = @ARGV;
      my ($phase, %open, @units) = (0);   # phase: 0 before FROM, 1 between, 2 at TO
      while (my $path = <STDIN>) {
        chomp $path;
        open(my $f, "<", $path) or die "$path: $!";
        my $head = <$f>;
        my $sql = do { local $/; <$f> };
        close $f;
        my ($pid) = $head =~ /, session (\S+)$/;
        $pid //= "?";
        if (index($sql, "\x27$from\x27") >= 0) { $phase = 1; next; }
        if (index($sql, "\x27$to\x27") >= 0) { $phase = 2; last; }
        my $u = $open{$pid};
        unless ($u) { $u = { began => $phase, done => 0, excluded => 0, paths => [] }; push @units, $u; }
        push @{$u->{paths}}, $path;
        $u->{excluded} = 1 if $exclude ne "" && $sql =~ /$exclude/i;
        if ($sql =~ /^\s*(BEGIN|START\s+TRANSACTION)\b/i) { $open{$pid} = $u; }
        elsif ($sql =~ /^\s*(COMMIT|END|ABORT|ROLLBACK(?!\s+TO\b))\b/i) { delete $open{$pid}; $u->{done} = 1; }
        elsif (!$open{$pid}) { $u->{done} = 1; }
      }
      $phase == 2 or die "the mark " . ($phase == 0 ? $from : $to) . " is not among the statements logged\n";
      print "$_\n" for map { @{$_->{paths}} } grep { $_->{began} == 1 && $_->{done} && !$_->{excluded} } @units;
    ' "$from" "$to" "$exclude" 2> "$out/between.err"); then
    PGLOG_ERROR="reading $out between the marks failed: $(head -c 300 "$out/between.err")"
    return 1
  fi
  # The units were listed in the order they began: back to log order.
  picked=$(printf '%s\n' "$picked" | sed '/^$/d' | awk -F/ '{ n = $NF; sub(/\.sql$/, "", n); print n + 0, $0 }' | sort -n | cut -d' ' -f2-)
  if [ -z "$picked" ]; then
    PGLOG_ERROR="no statement between the marks but excluded ones (see $out/all.sql)"
    return 1
  fi
  # shellcheck disable=SC2034 # the caller's
  mapfile -t PGLOG_PICKED <<< "$picked"
}

# --- By itself -------------------------------------------------------------------
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  cd "$(dirname "$0")/.."
  # shellcheck source=bench/env.sh
  source bench/env.sh
  usage() { echo "usage: bash bench/pglog.sh [--requests N] OUT-DIR URL BODY.json [TOKEN] -- SERVER-COMMAND [ARGS...]" >&2; exit 2; }
  requests=1
  if [ "${1:-}" = --requests ]; then requests=${2:-}; shift 2 || usage; fi
  [[ "$requests" =~ ^[1-9][0-9]*$ ]] || usage
  [ $# -ge 5 ] || usage
  out=$1 url=$2 body=$3 token=
  shift 3
  if [ "$1" != -- ]; then token=$1; shift; fi
  [ "${1:-}" = -- ] || usage
  shift
  [ $# -gt 0 ] || usage
  mkdir -p "$out"
  server=
  trap 'if [ -n "$server" ]; then kill "$server" 2> /dev/null || true; fi; pglog_end || echo "$PGLOG_ERROR" >&2' EXIT
  trap 'exit 130' INT TERM
  pglog_begin || { echo "$PGLOG_ERROR" >&2; exit 1; }
  "$@" > "$out/server.log" 2>&1 &
  server=$!
  for _ in $(seq 1 240); do
    code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -d '{"query":"{ __typename }"}' "$url" || true)
    [ "$code" != 000 ] && break
    kill -0 "$server" 2> /dev/null || { echo "the server exited; see $out/server.log" >&2; exit 1; }
    sleep 0.5
  done
  auth=()
  [ -n "$token" ] && auth=(-H "Authorization: Bearer $token")
  for i in $(seq 1 "$requests"); do
    code=$(curl -sS -m 30 -o "$out/response.json" -w '%{http_code}' -H 'Content-Type: application/json' "${auth[@]}" \
      --data-binary "@$body" "$url" || true)
    [ "$requests" = 1 ] || cp "$out/response.json" "$out/response-$i.json"
  done
  kill "$server" 2> /dev/null || true
  wait "$server" 2> /dev/null || true
  server=
  pglog_end || { echo "$PGLOG_ERROR" >&2; exit 1; }
  echo "HTTP $code (the last of $requests), response in $out/response.json: $(head -c 200 "$out/response.json")"
  pglog_statements "$out" || { echo "$PGLOG_ERROR" >&2; exit 1; }
  echo "log $PGLOG_FILE: $(find "$out" -name '[0-9]*.sql' | wc -l) statements after the marker; see $out/all.sql"
fi
