#!/usr/bin/env bash
# Renders bench/out/results.jsonl (written by bench/run.sh) as Markdown:
# the figures table, the ratios and the targets.
#   bash bench/report.sh RESULTS.jsonl "MACHINE" "SETTINGS" W1_SAME [W5_SAME]
set -euo pipefail
results=$1 machine=$2 settings=$3 w1_same=$4 w5_same=${5:-unknown}

# get WORKLOAD ENGINE FIELD: one figure, or "null".
get() { jq -rs --arg w "$1" --arg e "$2" --arg f "$3" \
  'map(select(.workload == $w and .engine == $e)) | (.[0][$f] // null)' "$results"; }
# ratio A B [DIGITS]: A / B, or "n/a".
ratio() { awk -v a="$1" -v b="$2" -v d="${3:-2}" 'BEGIN {
  if (a == "null" || b == "null" || a == "" || b == "" || b + 0 == 0) print "n/a"; else printf "%.*f", d, a / b }'; }
verdict() { # VALUE OP LIMIT
  awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN {
    if (v == "n/a") { print "not measured"; exit }
    ok = (op == ">=") ? (v + 0 >= l + 0) : (v + 0 <= l + 0); print ok ? "**met**" : "**not met**" }'; }

echo "## Results ($(date -u +%Y-%m-%d' '%H:%M' UTC'))"
echo
echo "- Machine: $machine"
echo "- Load: $settings"
echo "- Data: 100,000 communities, 1,000,000 enrolments and their change feed (bench/generate.sh)"
echo
echo "| workload | engine | req/s | p50 ms | p99 ms | peak RSS MB | server CPU % | errors | probes | load avg |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |"
jq -rs '.[] | select((.engine | startswith("PostgreSQL (EXPLAIN") | not) and .workload != "W3 feed delay" and .workload != "webhook backlog") | "| \(.workload) | \(.engine) | \(if .rps then (.rps * 10 | round / 10) else "-" end) | \(.p50_ms // "-") | \(.p99_ms // "-") | \(if .rss_kb then (.rss_kb / 1024 * 10 | round / 10) else "-" end) | \(.cpu_pct // "-") | \(.errors // "-")\(if (.conflicts // 0) > 0 then " (\(.conflicts) CONFLICT)" else "" end) | \(.probes // "-") | \(.load1 // "-") |"' "$results"
echo

w1_ours=$(get W1 ours-postgres rps); w1_pgl=$(get W1 postgraphile rps); w1_raw=$(get W1 "raw SQL (pgbench)" rps)
w1_ours_p99=$(get W1 ours-postgres p99_ms); w1_pgl_p99=$(get W1 postgraphile p99_ms)
w1_sqlite=$(get W1 ours-sqlite rps)
w4f=$(get "W4 first" ours-postgres p50_ms); w4d=$(get "W4 deep" ours-postgres p50_ms)
w4f99=$(get "W4 first" ours-postgres p99_ms); w4d99=$(get "W4 deep" ours-postgres p99_ms)
pw4f=$(get "W4 first" postgraphile p50_ms); pw4d=$(get "W4 deep" postgraphile p50_ms)
w2_ours=$(get W2 ours-postgres rps); w2_pgl=$(get W2 postgraphile rps)
rss_of() { jq -rs --arg e "$1" '[.[] | select(.engine == $e) | .rss_kb // 0] | max // 0 | . / 1024 | . * 10 | round / 10' "$results"; }
rss_pg=$(rss_of ours-postgres); rss_sqlite=$(rss_of ours-sqlite)

cpu_per() { jq -rs --arg w "$1" --arg e "$2" 'map(select(.workload == $w and .engine == $e)) | .[0] |
  if .cpu_pct and .rps and .rps > 0 then (.cpu_pct / 100 * 1000 / .rps * 100 | round / 100) else "n/a" end' "$results"; }
r_pgl=$(ratio "$w1_ours" "$w1_pgl"); r_p99=$(ratio "$w1_ours_p99" "$w1_pgl_p99"); r_raw=$(ratio "$w1_ours" "$w1_raw")
r_deep=$(ratio "$w4d" "$w4f"); r_deep99=$(ratio "$w4d99" "$w4f99")
s4f=$(get "W4 first c=1" ours-postgres p50_ms); s4d=$(get "W4 deep c=1" ours-postgres p50_ms); r_serial=$(ratio "$s4d" "$s4f")
q4f=$(get "W4 SQL" "PostgreSQL (EXPLAIN ANALYZE, median of 15)" first_ms); q4d=$(get "W4 SQL" "PostgreSQL (EXPLAIN ANALYZE, median of 15)" deep_ms)
echo "### Ratios"
echo
echo "- W1 ours/PostGraphile: **${r_pgl}×** the req/s, p99 **${r_p99}×** PostGraphile's (ours $w1_ours_p99 ms, PostGraphile $w1_pgl_p99 ms)."
echo "- W1 ours/raw SQL (pgbench, the same five statements per transaction): **${r_raw}×** the ceiling's req/s (its latencies are database-side only: no HTTP, no JSON)."
echo "- Server CPU per W1 request: ours $(cpu_per W1 ours-postgres) ms, PostGraphile $(cpu_per W1 postgraphile) ms (process CPU time / requests)."
echo "- W1 ours on SQLite/ours on PostgreSQL: $(ratio "$w1_sqlite" "$w1_ours")× the req/s."
echo "- W2 ours/PostGraphile: $(ratio "$w2_ours" "$w2_pgl")× the req/s."
echo "- W4 deep page/first page, ours under load: p50 ${r_deep}×, p99 ${r_deep99}×; PostGraphile: p50 $(ratio "$pw4d" "$pw4f")×."
echo "- W4 deep page/first page, ours with one connection (no queueing): p50 **${r_serial}×** ($s4d ms vs $s4f ms)."
echo "- W4 in the database alone (the service's page query, EXPLAIN ANALYZE median): deep $q4d ms vs first $q4f ms ($(ratio "$q4d" "$q4f")×)."
echo "- W1 answers identical in ours and PostGraphile (codes, statuses, programmes, MOUs): $w1_same."
w3_applied=$(get W3 ours-postgres applied); w3_req=$(get W3 ours-postgres requests)
echo "- W3: $w3_req requests, $w3_applied transitions applied in the database (warm-up and probes included), $(get W3 ours-postgres conflicts) CONFLICT, $(get W3 ours-postgres exhausted) requests past the fresh ids; all undone after the run."

w5_ours=$(get W5 ours-postgres rps); w5_pgl=$(get W5 postgraphile rps)
w5_ours_p99=$(get W5 ours-postgres p99_ms); w5_pgl_p99=$(get W5 postgraphile p99_ms)
w3_ours=$(get W3 ours-postgres rps); w3_raw=$(get W3 "raw SQL (pgbench)" rps); r_w3=$(ratio "$w3_ours" "$w3_raw")
echo
echo "### Change feed and webhooks"
echo
echo "- W5 (changes(first: 100) after a cursor 90% into a feed of $(get "W5 SQL" "PostgreSQL (EXPLAIN ANALYZE, median of 15)" feed_events) events, as GSB, which may not read $(get "W5 SQL" "PostgreSQL (EXPLAIN ANALYZE, median of 15)" hidden_events) of them: events of the unsigned MOUs, their commitments, curricula) ours/PostGraphile: **$(ratio "$w5_ours" "$w5_pgl")×** the req/s ($w5_ours vs $w5_pgl), p99 $(ratio "$w5_ours_p99" "$w5_pgl_p99")× ($w5_ours_p99 vs $w5_pgl_p99 ms); the page's rows in the database alone $(get "W5 SQL" "PostgreSQL (EXPLAIN ANALYZE, median of 15)" page_ms) ms; the same 100 events in both answers: $w5_same."
echo "- W3 / raw-SQL ceiling (pgbench, the statements of one transitionEnrolment per transaction, $(get W3 "raw SQL (pgbench)" applied) applied): **$(awk -v r="$r_w3" 'BEGIN { if (r == "n/a") print r; else printf "%.0f%%", r * 100 }')** ($w3_ours req/s vs $w3_raw tx/s, p99 $(get W3 ours-postgres p99_ms) vs $(get W3 "raw SQL (pgbench)" p99_ms) ms)."
echo "- Feed sequencing delay over the W3 phase (write to feed position, \`feed_sequencing_delay_seconds\`, bucket-interpolated): p50 **$(get "W3 feed delay" ours-postgres p50_ms) ms**, p99 **$(get "W3 feed delay" ours-postgres p99_ms) ms** over $(get "W3 feed delay" ours-postgres observed) events ($(get "W3 feed delay" ours-postgres events) in the feed; check: $(get "W3 feed delay" ours-postgres probes))."
hook() { jq -rs --arg w "$1" --arg f "$2" 'map(select(.workload == $w)) | (.[0].webhook[$f] // null)' "$results"; }
for w in "W3 + webhook" "W3 paced + webhook"; do
  [ "$(hook "$w" events)" = null ] && continue
  echo "- Webhooks, $w (W3's mutation at $(get "$w" ours-postgres rps) req/s, one subscription to Enrolment events, Node receiver): $(hook "$w" delivered) of $(hook "$w" events) events delivered ($(hook "$w" distinct_cursors) distinct cursors, $(hook "$w" duplicates) repeats) at **$(hook "$w" delivered_per_s) events/s**; receivedAt − event.at p50 **$(hook "$w" lat_p50_ms) ms**, p99 **$(hook "$w" lat_p99_ms) ms**; the last arrived $(hook "$w" after_load_ms) ms after the writes ended; check: $(get "$w" ours-postgres probes)."
done
back() { jq -rs --arg e "$1" --arg f "$2" 'map(select(.workload == "webhook backlog" and .engine == $e)) | (.[0][$f] // null)' "$results"; }
for e in "ours-postgres, 1 subscription" "ours-postgres, 4 subscriptions"; do
  [ "$(back "$e" events)" = null ] && continue
  echo "- Webhook backlog ($e): $(back "$e" events) events drained in **$(back "$e" drain_s) s = $(back "$e" rps) events/s** ($(back "$e" distinct_cursors) distinct cursors$( [ "$(back "$e" per_subscription)" = null ] || echo ", per subscription $(back "$e" per_subscription | xargs | tr ' ' '/')"), $(back "$e" duplicates) repeats; server CPU $(back "$e" cpu_s) s); receivedAt − resume p50 $(back "$e" p50_ms) ms, p99 $(back "$e" p99_ms) ms; check: $(back "$e" probes)."
done
echo
echo "### Targets"
echo
echo "| target | measured | verdict |"
echo "| --- | --- | --- |"
echo "| W1 ≥ 3× PostGraphile req/s | ${r_pgl}× | $(verdict "$r_pgl" ">=" 3) |"
echo "| W1 p99 ≤ 1/3 of PostGraphile's | ${r_p99}× | $(verdict "$r_p99" "<=" 0.3334) |"
echo "| W1 ≥ 60% of the raw-SQL ceiling | $(awk -v r="$r_raw" 'BEGIN { if (r == "n/a") print r; else printf "%.0f%%", r * 100 }') | $(verdict "$r_raw" ">=" 0.6) |"
echo "| deep page ≤ 1.2× first-page latency (p50, one connection) | ${r_serial}× | $(verdict "$r_serial" "<=" 1.2) |"
echo "| deep page ≤ 1.2× first-page latency (p50, 32 connections) | ${r_deep}× | $(verdict "$r_deep" "<=" 1.2) |"
echo "| RSS ≤ 64 MB under load: ours on PostgreSQL (peak of its phases) | ${rss_pg} MB | $(verdict "$rss_pg" "<=" 64) |"
echo "| RSS ≤ 64 MB under load: ours on SQLite (W1) | ${rss_sqlite} MB | $(verdict "$rss_sqlite" "<=" 64) |"
echo "| W3 ≥ 25% of its raw-SQL ceiling | $(awk -v r="$r_w3" 'BEGIN { if (r == "n/a") print r; else printf "%.0f%%", r * 100 }') | $(verdict "$r_w3" ">=" 0.25) |"
