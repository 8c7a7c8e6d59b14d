#!/usr/bin/env bash
# The CSV import's speed: generates a file of N valid community rows, imports
# it into a fresh SQLite database and a fresh PostgreSQL database, then
# imports it again (every row unchanged), and prints the seconds of each.
#
#   bash bench/import.sh [--rows N] BIN [BIN...]
#
# e.g. compare two builds of the service (each binary runs the same file):
#   bash bench/import.sh --rows 20000 /tmp/before/release/api target/release/api
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/env.sh

rows=20000 bins=()
while [ $# -gt 0 ]; do
  case "$1" in
    --rows) rows=$2; shift 2 ;;
    -*) echo "usage: bash bench/import.sh [--rows N] BIN [BIN...]" >&2; exit 2 ;;
    *) bins+=("$1"); shift ;;
  esac
done
[ ${#bins[@]} -gt 0 ] || { echo "give at least one service binary" >&2; exit 2; }
out=$(mktemp -d)
trap 'rm -rf "$out"; psql_admin -qc "DROP DATABASE IF EXISTS bench_import" >/dev/null 2>&1 || true' EXIT
csv="$out/communities.csv"
python3 - "$rows" "$csv" <<'PY'
import csv, sys
rows, path = int(sys.argv[1]), sys.argv[2]
provinces = ["TH-10", "TH-30", "TH-40", "TH-50", "TH-57", "TH-90"]
with open(path, "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["code", "name_th", "name_en", "province", "district", "subdistrict", "village_no", "households", "tier"])
    for i in range(rows):
        w.writerow([f"IMPORT-{i:07d}", f"ชุมชนทดสอบ {i}", f"Test community {i}", provinces[i % 6],
                    "อำเภอ", "ตำบล", i % 20 + 1, 50 + i % 400, "ABCD"[i % 4] if i % 5 else ""])
PY

import() { # BIN DATABASE_URL
  local start end
  start=$(date +%s.%N)
  APP_ENV=development JWT_SECRET="$BENCH_JWT_SECRET" DATA_DIR="$out" DATABASE_URL="$2" RUST_LOG=warn \
    "$1" import communities "$csv" > "$out/import.log" 2>&1 || { cat "$out/import.log" >&2; exit 1; }
  end=$(date +%s.%N)
  python3 -c "print(f'{$end - $start:.1f}')"
}

printf '%-45s %-10s %8s %10s\n' binary engine first-s re-run-s
for bin in "${bins[@]}"; do
  rm -f "$out/import.db"*
  sqlite="sqlite://$out/import.db?mode=rwc"
  first=$(import "$bin" "$sqlite"); again=$(import "$bin" "$sqlite")
  printf '%-45s %-10s %8s %10s\n' "$bin" sqlite "$first" "$again"
  psql_admin -qc "DROP DATABASE IF EXISTS bench_import" -c "CREATE DATABASE bench_import" >/dev/null
  pg="postgres://$BENCH_PG_USER@$BENCH_PG_HOST:$BENCH_PG_PORT/bench_import"
  first=$(import "$bin" "$pg"); again=$(import "$bin" "$pg")
  printf '%-45s %-10s %8s %10s\n' "$bin" postgresql "$first" "$again"
done
