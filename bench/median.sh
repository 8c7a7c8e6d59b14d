#!/usr/bin/env bash
# The median of several runs of bench/run.sh, in Markdown (issue 13 judges
# the median of three full runs in one sitting):
#
#   bash bench/median.sh RESULTS1.jsonl RESULTS2.jsonl RESULTS3.jsonl
#
# Each run keeps its results as bench/out/runs/<UTC start>.jsonl (run.sh's
# bench/out/results.jsonl is overwritten by the next run), so after three
# runs in a row: bash bench/median.sh bench/out/runs/*.jsonl (the last three
# files, in time order, if there are more). Prints, for each workload and
# engine, every run's req/s and p99 and their median, and the median server
# CPU per request; then the targets, each as a ratio of medians (e.g. the
# median of ours' W1 req/s over the median of PostGraphile's), with each
# run's own ratio beside it. The W1 raw-SQL ceiling is the faster of the
# medians of its two rows (our statements, PostGraphile's statement). Any
# number of runs works; an even number takes the mean of the middle two.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: bash bench/median.sh RESULTS1.jsonl RESULTS2.jsonl RESULTS3.jsonl" >&2; exit 2; }
for f in "$@"; do [ -r "$f" ] || { echo "cannot read $f" >&2; exit 1; }; done

# One array of every row, each with the index of its run.
all=$(i=0; for f in "$@"; do jq -c --argjson run "$i" '. + {run: $run}' "$f"; i=$((i + 1)); done | jq -sc .)
# A run's name: its file name without directory and .jsonl.
names=$(for f in "$@"; do basename "$f" .jsonl; done | jq -R . | jq -sc .)

echo "## Median of $# runs"
echo
echo "Runs: $(for f in "$@"; do printf '%s ' "\`$f\`"; done | sed 's/ $//; s/ /, /g')."
echo
jq -nr --argjson all "$all" --argjson names "$names" '
  def fixed($d): if . == null then "-" else (. * pow(10; $d) | round) as $n
    | ($n / pow(10; $d) | floor | tostring) + (if $d > 0 then "." + ($n % pow(10; $d) | tostring | ("0" * ($d - length)) + .) else "" end) end;
  def median: map(select(. != null)) | sort | if length == 0 then null
    elif length % 2 == 1 then .[(length - 1) / 2] else (.[length / 2 - 1] + .[length / 2]) / 2 end;
  def cpu: if .cpu_pct != null and (.rps // 0) > 0 then .cpu_pct / 100 * 1000 / .rps else null end;
  ($names | length) as $n
  | [range(0; $n)] as $runs
  | def row($r; $w; $e): first($all[] | select(.run == $r and .workload == $w and .engine == $e)) // null;
    def val($r; $w; $e; $f): row($r; $w; $e) | if . == null then null else .[$f] end;
    def med($w; $e; $f): [$runs[] as $r | val($r; $w; $e; $f)] | median;
  # The rows, in the order they first appear.
    ([$all[] | select((.engine | startswith("PostgreSQL (EXPLAIN")) | not) | select(.rps != null or .p99_ms != null)
      | [.workload, .engine]] | reduce .[] as $k ([]; if index([$k]) then . else . + [$k] end)) as $keys
  | "| workload | engine | " + ([$runs[] | "req/s \($names[.])"] | join(" | ")) + " | **req/s median** | "
      + ([$runs[] | "p99 ms \($names[.])"] | join(" | ")) + " | **p99 ms median** | CPU ms/req median |",
    "| --- | --- | " + ([$runs[], $runs[] | "---:"] | join(" | ")) + " | ---: | ---: | ---: |",
    ($keys[] as [$w, $e]
      | [$runs[] as $r | val($r; $w; $e; "rps")] as $rps
      | [$runs[] as $r | val($r; $w; $e; "p99_ms")] as $p99
      | [$runs[] as $r | row($r; $w; $e) | if . == null then null else cpu end] as $cpu
      | "| \($w) | \($e) | " + ($rps | map(fixed(1)) | join(" | ")) + " | **\($rps | median | fixed(1))** | "
        + ($p99 | map(fixed(1)) | join(" | ")) + " | **\($p99 | median | fixed(1))** | \($cpu | median | fixed(2)) |"),
    "",
    "### Targets on the medians",
    "",
    "| target | " + ([$runs[] | $names[.]] | join(" | ")) + " | **on the medians** | verdict (medians) |",
    "| --- | " + ([$runs[] | "---:"] | join(" | ")) + " | ---: | --- |",
    ( # Each target: a numerator and a denominator ([workload, engine, field]; a
      # list of them is the largest), how to show the ratio, the comparison.
      "raw SQL (pgbench), PostGraphile'"'"'s statement" as $pgl_raw
      | { name: "W1 ≥ 3× PostGraphile'"'"'s req/s", num: [["W1", "ours-postgres", "rps"]], den: [["W1", "postgraphile", "rps"]], show: "x", op: ">=", limit: 3 },
        { name: "W1 p99 ≤ 1/3 of PostGraphile'"'"'s", num: [["W1", "ours-postgres", "p99_ms"]], den: [["W1", "postgraphile", "p99_ms"]], show: "x", op: "<=", limit: 0.3334 },
        { name: "W1 ≥ 25% of the raw-SQL ceiling (the faster of ours and PostGraphile'"'"'s statement; long-term goal 60%)",
          num: [["W1", "ours-postgres", "rps"]], den: [["W1", "raw SQL (pgbench)", "rps"], ["W1", $pgl_raw, "rps"]], show: "%", op: ">=", limit: 0.25 },
        { name: "W1 / raw SQL, our statements (for scale)", num: [["W1", "ours-postgres", "rps"]], den: [["W1", "raw SQL (pgbench)", "rps"]], show: "%" },
        { name: "W1 / raw SQL, PostGraphile'"'"'s statement (for scale)", num: [["W1", "ours-postgres", "rps"]], den: [["W1", $pgl_raw, "rps"]], show: "%" },
        { name: "W4 first page ≥ 1.5× PostGraphile'"'"'s req/s", num: [["W4 first", "ours-postgres", "rps"]], den: [["W4 first", "postgraphile", "rps"]], show: "x", op: ">=", limit: 1.5 },
        { name: "W4 deep page ≥ 1.5× PostGraphile'"'"'s req/s", num: [["W4 deep", "ours-postgres", "rps"]], den: [["W4 deep", "postgraphile", "rps"]], show: "x", op: ">=", limit: 1.5 },
        { name: "W2 ≥ 10× PostGraphile'"'"'s req/s", num: [["W2", "ours-postgres", "rps"]], den: [["W2", "postgraphile", "rps"]], show: "x", op: ">=", limit: 10 },
        { name: "W1 on SQLite within 1.5× of PostgreSQL (SQLite req/s ÷ PostgreSQL req/s ≥ 1/1.5 = 0.67)",
          num: [["W1", "ours-sqlite", "rps"]], den: [["W1", "ours-postgres", "rps"]], show: "x", op: ">=", limit: 0.6667 },
        { name: "deep page ≤ 1.2× first-page latency (p50, one connection)", num: [["W4 deep c=1", "ours-postgres", "p50_ms"]], den: [["W4 first c=1", "ours-postgres", "p50_ms"]], show: "x", op: "<=", limit: 1.2 },
        { name: "deep page ≤ 1.2× first-page latency (p50, 32 connections)", num: [["W4 deep", "ours-postgres", "p50_ms"]], den: [["W4 first", "ours-postgres", "p50_ms"]], show: "x", op: "<=", limit: 1.2 },
        { name: "W3 ≥ 25% of its raw-SQL ceiling", num: [["W3", "ours-postgres", "rps"]], den: [["W3", "raw SQL (pgbench)", "rps"]], show: "%", op: ">=", limit: 0.25 }
      | . as $t
      # A side is the largest of its figures; "partial" when one of several is missing
      # (then the ceiling may be higher: the ratio is an upper bound, shown as "≤").
      | def side_of: {v: (map(select(. != null)) | max), partial: (length > 1 and any(.[]; . == null))};
        def side($r; $list): [$list[] as [$w, $e, $f] | val($r; $w; $e; $f)] | side_of;
        def side_med($list): [$list[] as [$w, $e, $f] | med($w; $e; $f)] | side_of;
        def ratio($a; $b): if $a.v == null or $b.v == null or $b.v == 0 then {v: null}
          else {v: ($a.v / $b.v), partial: ($a.partial or $b.partial)} end;
        def shown: if .v == null then "n/a"
          else (if .partial then "≤ " else "" end) + (.v | if $t.show == "%" then (. * 100 | fixed(0)) + "%" else fixed(2) + "×" end) end;
        def verdict: if $t.op == null then "-" elif .v == null then "not measured"
          elif ($t.op == ">=" and .v >= $t.limit) or ($t.op == "<=" and .v <= $t.limit) then
            (if .partial then "not measured (a ceiling is missing)" else "**met**" end)
          else "**not met**" end;
        ratio(side_med($t.num); side_med($t.den)) as $m
      | "| \($t.name) | " + ([$runs[] as $r | ratio(side($r; $t.num); side($r; $t.den)) | shown] | join(" | "))
        + " | **\($m | shown)** | \($m | verdict) |"),
    ( # Memory: the peak of every phase of every run.
      ["ours-postgres", "ours-sqlite"][] as $e
      | [$runs[] as $r | [$all[] | select(.run == $r and .engine == $e) | .rss_kb // empty] | max | if . == null then null else . / 1024 end] as $peaks
      | ($peaks | map(select(. != null)) | max) as $top
      | "| RSS ≤ 64 MB under load: \($e) (peak of its phases) | " + ($peaks | map(if . == null then "n/a" else fixed(1) + " MB" end) | join(" | "))
        + " | **\(if $top == null then "n/a" else ($top | fixed(1)) + " MB" end)** (highest) | \(if $top == null then "not measured" elif $top <= 64 then "**met**" else "**not met**" end) |"),
    "",
    "A ratio on the medians divides two medians (each taken over the runs); the runs'"'"' columns are each run'"'"'s own ratio. The W1 ceiling is the faster of the two raw-SQL medians; \"≤\" where one of them is missing (the ratio is then an upper bound). RSS: the highest peak of all runs."
'
