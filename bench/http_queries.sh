#!/usr/bin/env bash
# http_queries.sh - the web UI's queries end to end over HTTP (issue 3): on a
# database holding 24 hours of 10-second snapshots of a 2,000-region process
# (restarted halfway) and 49 more targets (bench/store_queries --build-only,
# the generator of bench/store_queries.c), it starts memdeltad's web server
# alone (bench/http_serve: web_start on the database, read-only handles, no
# scheduler) on 127.0.0.1 and times with curl, one curl process per query
# kind and RUNS requests on one kept-alive connection, curl's time_total
# (request sent to last byte received) of:
#   - the target page's timeline: /api/v1/targets/ID/timeline?points=500
#     (what the UI asks for: the whole stored range, 500 points);
#   - the same over the exact 24 hours (from=&to=);
#   - the diff of two snapshots 12 hours apart: /api/v1/diff?a=&b=;
#   - the overview: /api/v1/targets (50 targets); the whole overview page,
#     /api/v1/targets?spark=80 (the list with the 50 sparklines, one request,
#     what the UI asks for); and, for comparison, the page as the UI built it
#     before ?spark=: /api/v1/targets plus 50 x
#     /api/v1/targets/ID/timeline?points=80, one after the other;
#   - one snapshot: /api/v1/snapshots/ID (2,000 regions).
# It reports the median and the 90th percentile of RUNS requests after one
# warm-up request each (the first request of a server thread opens its
# SQLite handle), and then, in the same run, bench/store_queries on the same
# file: the same queries at the store level, without HTTP and JSON.
#
# Usage: bench/http_queries.sh BUILDDIR
# Environment: RUNS (default 50), DB (a database built earlier by
#   `bench/store_queries --build-only DB`, reused; default: built in a
#   temporary directory, about a minute), DOC (a file whose
#   "bench/http_queries.sh results" section is replaced; unset: print only).
set -eu

B=${1:?usage: http_queries.sh BUILDDIR}
B=$(cd "$B" && pwd)
RUNS=${RUNS:-50}
DOC=${DOC:-}
for f in bench/store_queries bench/http_serve; do
  [ -x "$B/$f" ] || { echo "http_queries.sh: $B/$f is not built" >&2; exit 2; }
done
for c in curl python3; do
  command -v "$c" >/dev/null || { echo "http_queries.sh: needs $c" >&2; exit 2; }
done

T=$(mktemp -d "${TMPDIR:-/tmp}/memdelta-http-XXXXXX")
SPID=''
cleanup() {
  exec 5>&- 2>/dev/null || true
  [ -n "$SPID" ] && kill "$SPID" 2>/dev/null
  wait 2>/dev/null || true
  rm -rf "$T"
}
trap cleanup EXIT INT TERM

DB=${DB:-$T/day.db}
reused=0
[ -e "$DB" ] && reused=1
t0=$(date +%s)
"$B/bench/store_queries" --build-only "$DB" >"$T/build" || {
  echo "store_queries --build-only failed" >&2
  exit 1
}
build_s=$(($(date +%s) - t0))
val() { sed -n "s/^$1=//p" "$T/build"; }
APP=$(val app_target) A=$(val diff_a) BB=$(val diff_b) FROM=$(val from_ms) TO=$(val to_ms)
db_mb=$(python3 -c "print(f'{$(val db_bytes) / 1048576:.0f}')")

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkfifo "$T/hold"
exec 5<>"$T/hold"
"$B/bench/http_serve" "$DB" "$PORT" <"$T/hold" >"$T/serve" 2>&1 5>&- &
SPID=$!
n=0
until grep -q '^listening' "$T/serve"; do
  n=$((n + 1))
  [ "$n" -lt 100 ] || { echo "http_serve did not start: $(cat "$T/serve")" >&2; exit 1; }
  sleep 0.1
done
BASE="http://127.0.0.1:$PORT"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

# times URL...: one curl process, one request per URL on a kept-alive
# connection; prints each request's time_total in ms, checks for 200.
req_times() {
  local args=()
  for u in "$@"; do args+=(-o /dev/null "$u"); done
  curl -s -w '%{http_code} %{time_total}\n' "${args[@]}" >"$T/times"
  if grep -qv '^200 ' "$T/times"; then
    echo "a request failed: $(grep -v '^200 ' "$T/times" | head -1) ($1)" >&2
    exit 1
  fi
  awk '{ printf "%.3f\n", $2 * 1000 }' "$T/times"
}
# stats: median and 90th percentile of the numbers on stdin (skips the first: warm-up).
stats() {
  tail -n +2 | sort -n | awk '{ v[NR] = $1 } END { printf "%.1f %.1f %d\n", v[int((NR + 1) / 2)], v[int(NR * 0.9 + 0.5)], NR }'
}
# bytes URL: size of the response body.
bytes() { curl -s -o /dev/null -w '%{size_download}' "$1"; }
# repeat N URL: URL N times.
repeat() { local i; for i in $(seq 1 "$1"); do echo "$2"; done; }

row() { # NAME URL
  local s
  mapfile -t urls < <(repeat $((RUNS + 1)) "$2")
  s=$(req_times "${urls[@]}" | stats)
  echo "| $1 | \`${2#"$BASE"}\` | $(echo "$s" | awk '{ print $1 " | " $2 " | " $3 }') | $(bytes "$2") |"
}

TL="$BASE/api/v1/targets/$APP/timeline?points=500"
TL24="$BASE/api/v1/targets/$APP/timeline?from=$FROM&to=$TO&points=500"
DIFF="$BASE/api/v1/diff?a=$A&b=$BB"
TGTS="$BASE/api/v1/targets"
SNAP="$BASE/api/v1/snapshots/$BB"
ids=$(curl -s "$TGTS" | python3 -c 'import json, sys; print(" ".join(str(t["id"]) for t in json.load(sys.stdin)["targets"]))')
n_targets=$(echo "$ids" | wc -w)

# The overview page: the target list, then one sparkline per target.
overview_page() {
  local urls=("$TGTS") k
  for k in $ids; do urls+=("$BASE/api/v1/targets/$k/timeline?points=80"); done
  req_times "${urls[@]}" | awk '{ s += $1 } END { printf "%.3f\n", s }'
}

{
  echo "<!-- bench/http_queries.sh results -->"
  echo "Measured $(date -u '+%Y-%m-%d %H:%M') UTC by \`bench/http_queries.sh\` on Linux $(uname -r)," \
    "$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //') ($(nproc) CPUs); memdelta" \
    "$(git -C "$(dirname "$0")" rev-parse --short HEAD 2>/dev/null || echo unknown), built -O2;" \
    "$(curl --version | head -1 | cut -d' ' -f1-2). Load average $load_start at the start" \
    "(a shared machine)."
  echo
  echo "Database: $(val snapshots) snapshots of the 2,000-region target over 24 hours (restarted" \
    "halfway) and $((n_targets - 1)) other targets, ${db_mb} MB ($([ "$reused" = 1 ] && echo "built by an earlier run" || echo "built in ${build_s} s"))." \
    "Server: \`bench/http_serve\` (web_start on the file, its default 2 threads, read-only" \
    "handles). Each figure: curl's \`time_total\` of $RUNS requests on one kept-alive" \
    "connection, after one warm-up request."
  echo
  echo "| query | request | median ms | p90 ms | requests | response bytes |"
  echo "|---|---|---:|---:|---:|---:|"
  row "timeline, target page (all stored data, 500 points)" "$TL"
  row "timeline, the 24 hours (500 points)" "$TL24"
  row "diff of two snapshots 12 h apart" "$DIFF"
  row "overview: target list ($n_targets targets)" "$TGTS"
  row "overview page: target list with the $n_targets sparklines (what the UI asks for)" "$TGTS?spark=80"
  row "one snapshot (2,000 regions)" "$SNAP"
  for i in $(seq 0 10); do overview_page; done | stats >"$T/ov"
  echo "| the overview page as the UI built it before \`?spark=\`: target list + $n_targets sparklines, one after the other | \`/api/v1/targets\` + $n_targets x \`timeline?points=80\` | $(awk '{ print $1 " | " $2 " | " $3 }' "$T/ov") pages | - |"
  kill "$SPID" 2>/dev/null && { wait "$SPID" 2>/dev/null || true; }
  SPID=''
  "$B/bench/store_queries" "$DB" >"$T/store" 2>&1 || true
  sq() { sed -n "s/^$1=//p" "$T/store"; }
  echo
  echo "The same queries at the store level right after (\`bench/store_queries\` on the same file," \
    "median of 15, no HTTP, no JSON): timeline $(sq timeline_24h_500_ms) ms," \
    "two snapshots 12 h apart read and diffed $(sq get2_diff_12h_ms) ms," \
    "50 target summaries $(sq target_summaries_50_ms) ms. Load average then $(cut -d' ' -f1-3 /proc/loadavg)."
  echo "<!-- bench/http_queries.sh results: end -->"
} | tee "$T/report.md"

if [ -n "$DOC" ]; then
  python3 - "$DOC" "$T/report.md" <<'EOF'
import sys
doc, rep = sys.argv[1], open(sys.argv[2]).read()
text = open(doc).read()
b, e = "<!-- bench/http_queries.sh results -->", "<!-- bench/http_queries.sh results: end -->"
if e not in rep:
    sys.exit("report incomplete: %s left alone" % doc)
start, end = text.find(b), text.find(e)
if start >= 0 and end > start:
    text = text[:start] + rep + text[end + len(e) + 1:]
else:
    text = text.rstrip("\n") + "\n\n## HTTP queries\n\n" + rep
open(doc, "w").write(text)
EOF
fi
