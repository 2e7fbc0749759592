#!/usr/bin/env bash
# daemon_load.sh - memdeltad under load (issue 3): 50 processes of 2,000
# regions each (bench/regions_target), watched at a 10 s interval; over the
# run it samples the daemon's CPU time (utime + stime of /proc/PID/stat) and
# its resident memory (VmRSS of /proc/PID/status, every SAMPLE_S seconds)
# and reports the CPU share of one core, over the whole run and after a
# warm-up (the first full read of every target writes all its regions), and
# the average and peak RSS.  In
# the same run, with the same 50 processes, it measures the floor: the CPU
# cost of reading their 50 smaps files once (bench/smaps_floor, CPU time of
# ITER reads per process from GNU time, divided by ITER) and the cost of the
# probe memdeltad takes instead (bench/probe_cost).  Then a second, shorter
# run with full_read_every = 1 (smaps read in full every tick) shows what the
# probe saves.
#
# Usage: bench/daemon_load.sh BUILDDIR
#   BUILDDIR: a built tree (memdeltad, bench/regions_target,
#   bench/smaps_floor, bench/probe_cost), configured for release (-O2, no
#   sanitizers).
# Environment: DURATION (s, default 600), FULL_DURATION (s, default 120; 0
#   skips the full-read run), FULL_EVERY (full_read_every of the main run;
#   default: memdeltad's default), WARMUP (s, default 3 x INTERVAL),
#   TARGETS (50), REGIONS (2000), INTERVAL (10),
#   SAMPLE_S (5), ITER (100 floor reads per process), DOC (a file whose
#   "## The daemon under load" section is replaced by the report; unset:
#   print only).
# Run it as root or as the owner of the targets (smaps needs ptrace-read
# access).  It prints a markdown report on stdout.
set -eu

B=${1:?usage: daemon_load.sh BUILDDIR}
B=$(cd "$B" && pwd)
DURATION=${DURATION:-600}
FULL_DURATION=${FULL_DURATION:-120}
TARGETS=${TARGETS:-50}
REGIONS=${REGIONS:-2000}
INTERVAL=${INTERVAL:-10}
SAMPLE_S=${SAMPLE_S:-5}
WARMUP=${WARMUP:-$((3 * INTERVAL))}
FULL_EVERY=${FULL_EVERY:-}
ITER=${ITER:-100}
DOC=${DOC:-}
for f in memdeltad bench/regions_target bench/smaps_floor bench/probe_cost; do
  [ -x "$B/$f" ] || { echo "daemon_load.sh: $B/$f is not built" >&2; exit 2; }
done
[ -x /usr/bin/time ] || { echo "daemon_load.sh: needs GNU time (/usr/bin/time, package time)" >&2; exit 2; }
command -v python3 >/dev/null || { echo "daemon_load.sh: needs python3" >&2; exit 2; }

T=$(mktemp -d "${TMPDIR:-/tmp}/memdelta-load-XXXXXX")
TPIDS=() DPID=''
cleanup() {
  [ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
  exec 5>&- 2>/dev/null || true
  for p in "${TPIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$T"
}
trap cleanup EXIT INT TERM

HZ=$(getconf CLK_TCK)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- the targets: one fifo holds their stdin; closing fd 5 ends them all -------
mkfifo "$T/hold"
exec 5<>"$T/hold"
for i in $(seq 1 "$TARGETS"); do
  "$B/bench/regions_target" "$REGIONS" <"$T/hold" >"$T/rt$i" 2>&1 5>&- &
  TPIDS+=("$!")
done
for i in $(seq 1 "$TARGETS"); do
  n=0
  until grep -q '^ready' "$T/rt$i"; do
    n=$((n + 1))
    [ "$n" -lt 300 ] || { echo "target $i did not start: $(cat "$T/rt$i")" >&2; exit 1; }
    sleep 0.1
  done
done
total_regions=$(awk '{ s += $3 } END { print s }' "$T"/rt*)

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# stat_cpu PID: utime + stime in clock ticks.
stat_cpu() { sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
stat_ut_st() { sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12, $13 }'; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# run_daemon NAME FULL_READ_EVERY SECONDS: run memdeltad on a fresh database
# (FULL_READ_EVERY empty: its default) and write to $T/NAME.res "cpu_ticks
# utime stime rss_avg_kb rss_max_kb samples snapshots full_reads probe_hits
# wall_s steady_cpu_ticks steady_s".
run_daemon() {
  local name=$1 every=$2 secs=$3 port conf cpu0 cpuw='' tw='' t0 now end samples=0 sum=0 max=0 r
  port=$(free_port)
  conf="$T/$name.conf"
  printf '[memdeltad]\ninterval = %s\nlog_level = warning\n' "$INTERVAL" >"$conf"
  [ -n "$every" ] && printf 'full_read_every = %s\n' "$every" >>"$conf"
  for i in $(seq 1 "$TARGETS"); do
    printf '\n[target rt%02d]\npid = %s\n' "$i" "$(awk '{ print $2 }' "$T/rt$i")" >>"$conf"
  done
  "$B/memdeltad" -f -c "$conf" --db "$T/$name.db" --listen "127.0.0.1:$port" \
    2>"$T/$name.log" 5>&- &
  DPID=$!
  sleep 0.5
  kill -0 "$DPID" 2>/dev/null || { echo "memdeltad did not start: $(cat "$T/$name.log")" >&2; exit 1; }
  cpu0=$(stat_cpu "$DPID")
  read -r ut0 st0 < <(stat_ut_st "$DPID")
  t0=$(date +%s.%N)
  end=$(awk -v a="$t0" -v b="$secs" 'BEGIN { printf "%.3f", a + b }')
  while :; do
    sleep "$SAMPLE_S"
    r=$(rss_kb "$DPID")
    samples=$((samples + 1)) sum=$((sum + r))
    [ "$r" -gt "$max" ] && max=$r
    now=$(date +%s.%N)
    if [ -z "$cpuw" ] && awk -v a="$now" -v b="$t0" -v w="$WARMUP" 'BEGIN { exit !(a - b >= w) }'; then
      cpuw=$(stat_cpu "$DPID") tw=$now
    fi
    awk -v a="$now" -v b="$end" 'BEGIN { exit !(a >= b) }' && break
  done
  local cpu1 ut1 st1 wall figures
  cpu1=$(stat_cpu "$DPID")
  read -r ut1 st1 < <(stat_ut_st "$DPID")
  now=$(date +%s.%N)
  wall=$(awk -v a="$now" -v b="$t0" 'BEGIN { printf "%.1f", a - b }')
  local steady_s
  steady_s=$(awk -v a="$now" -v b="${tw:-$now}" 'BEGIN { printf "%.1f", a - b }')
  figures=$(python3 -c '
import json, sys, urllib.request
t = json.load(urllib.request.urlopen("http://127.0.0.1:%s/api/v1/targets" % sys.argv[1]))["targets"]
rt = [x["runtime"] for x in t if "runtime" in x]
print(sum(x["full_reads"] for x in rt), sum(x["probe_hits"] for x in rt))' "$port")
  local snaps
  kill -TERM "$DPID"
  wait "$DPID" || true
  DPID=''
  snaps=$(python3 -c '
import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM snapshots").fetchone()[0])' "$T/$name.db")
  echo "$((cpu1 - cpu0)) $((ut1 - ut0)) $((st1 - st0)) $((sum / samples)) $max $samples $snaps $figures $wall $((cpu1 - ${cpuw:-$cpu1})) $steady_s" >"$T/$name.res"
}

# ---- the floor, and the probe, on the same 50 processes --------------------------
# cpu_of CMD...: user + system CPU seconds of CMD (GNU time).
cpu_of() { /usr/bin/time -f '%U %S' -o "$T/time" "$@" >/dev/null && awk '{ print $1 + $2 }' "$T/time"; }
measure_floor() {
  local tot=0 ptot=0 mtot=0 c
  for i in $(seq 1 "$TARGETS"); do
    p=$(awk '{ print $2 }' "$T/rt$i")
    c=$(cpu_of "$B/bench/smaps_floor" "$p" "$ITER")
    tot=$(awk -v a="$tot" -v b="$c" 'BEGIN { print a + b }')
    c=$("$B/bench/probe_cost" "$p" "$ITER" totals | sed -n 's/.*cpu_ns_mean=\([0-9]*\).*/\1/p')
    ptot=$(awk -v a="$ptot" -v b="$c" 'BEGIN { print a + b }')
    c=$("$B/bench/probe_cost" "$p" "$ITER" map | sed -n 's/.*cpu_ns_mean=\([0-9]*\).*/\1/p')
    mtot=$(awk -v a="$mtot" -v b="$c" 'BEGIN { print a + b }')
  done
  # CPU ms for one read of every target's smaps, for one totals probe of
  # each, and for one probe of each with the structure
  awk -v a="$tot" -v b="$ptot" -v m="$mtot" -v n="$ITER" \
    'BEGIN { printf "%.2f %.2f %.2f\n", a * 1000 / n, b / 1e6, m / 1e6 }'
}

run_daemon probe "$FULL_EVERY" "$DURATION"
read -r -a probe <"$T/probe.res"
read -r floor_ms probe_ms map_ms < <(measure_floor)
probe_line=$("$B/bench/probe_cost" "$(awk '{ print $2 }' "$T/rt1")" 200 totals)
map_line=$("$B/bench/probe_cost" "$(awk '{ print $2 }' "$T/rt1")" 200 map)
floor_line=$("$B/bench/smaps_floor" "$(awk '{ print $2 }' "$T/rt1")" 200)
full=()
if [ "$FULL_DURATION" -gt 0 ]; then
  run_daemon full 1 "$FULL_DURATION"
  read -r -a full <"$T/full.res"
fi
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

pct() { awk -v t="$1" -v s="$2" -v hz="$HZ" 'BEGIN { if (s > 0) printf "%.2f", t / hz / s * 100; else printf "n/a" }'; }
secs() { awk -v t="$1" -v hz="$HZ" 'BEGIN { printf "%.2f", t / hz }'; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
per10() { awk -v ms="$1" -v i="$INTERVAL" 'BEGIN { printf "%.2f", ms / (i * 1000) * 100 }'; }

report() {
  local cpu_pct full_pct steady_pct every_label dflt mdflt
  cpu_pct=$(pct "${probe[0]}" "${probe[9]}")
  steady_pct=$(pct "${probe[10]}" "${probe[11]}")
  dflt=$(sed -n 's/^#define CONFIG_DEFAULT_FULL_READ_EVERY *//p' "$(dirname "$0")/../daemon/daemon_config.h")
  mdflt=$(sed -n 's/^#define CONFIG_DEFAULT_MAP_CHECK_EVERY *//p' "$(dirname "$0")/../daemon/daemon_config.h")
  if [ -n "$FULL_EVERY" ]; then every_label="\`full_read_every = $FULL_EVERY\`, \`map_check_every = $mdflt\`"
  else every_label="\`full_read_every = $dflt\`, \`map_check_every = $mdflt\` (defaults)"; fi
  echo "## The daemon under load"
  echo
  echo "<!-- bench/daemon_load.sh results -->"
  echo "Measured $(date -u '+%Y-%m-%d %H:%M') UTC by \`bench/daemon_load.sh\` on Linux $(uname -r)," \
    "$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //') ($(nproc) CPUs); memdelta" \
    "$(git -C "$(dirname "$0")" rev-parse --short HEAD 2>/dev/null || echo unknown), built -O2." \
    "Load average $load_start at the start, $load_end at the end (a shared machine)."
  echo
  echo "$TARGETS processes of $REGIONS regions each ($total_regions regions; \`bench/regions_target\`:" \
    "one-page VMAs, idle once set up), watched by one memdeltad at a ${INTERVAL} s interval," \
    "each as a \`[target]\` by pid, database and web server on. CPU is utime + stime of the" \
    "daemon from /proc/PID/stat over the run (start-up and the first full read of every" \
    "target included); RSS is VmRSS sampled every ${SAMPLE_S} s."
  echo
  echo "| run | seconds | CPU, % of one core | the same after the first ${WARMUP} s | user s | system s | RSS average MB | RSS peak MB | snapshots stored | full reads | probe hits |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  echo "| $every_label | ${probe[9]} | $cpu_pct | $steady_pct | $(secs "${probe[1]}") | $(secs "${probe[2]}") | $(mb "${probe[3]}") | $(mb "${probe[4]}") | ${probe[6]} | ${probe[7]} | ${probe[8]} |"
  if [ "${#full[@]}" -gt 0 ]; then
    full_pct=$(pct "${full[0]}" "${full[9]}")
    echo "| \`full_read_every = 1\` (smaps every tick) | ${full[9]} | $full_pct | $(pct "${full[10]}" "${full[11]}") | $(secs "${full[1]}") | $(secs "${full[2]}") | $(mb "${full[3]}") | $(mb "${full[4]}") | ${full[6]} | ${full[7]} | ${full[8]} |"
  fi
  echo
  echo "The floor, on the same processes in the same run: CPU time of reading all $TARGETS smaps" \
    "files once is $floor_ms ms (\`smaps_floor PID $ITER\` per process, user + system from" \
    "GNU time, divided by $ITER), i.e. **$(per10 "$floor_ms") % of one core** at one read per" \
    "${INTERVAL} s. The probe memdeltad takes instead costs $probe_ms ms of CPU for all $TARGETS" \
    "with the totals only (\`probe_cost PID $ITER totals\` per process, its own CPU clock;" \
    "$(per10 "$probe_ms") % of a core per ${INTERVAL} s) and $map_ms ms with the structure" \
    "(\`probe_cost PID $ITER map\`; $(per10 "$map_ms") % of a core if it were taken every tick)."
  echo "One target, in-process: \`$probe_line\`; \`$map_line\`; \`$floor_line\`."
  echo
  echo "Goals (issue 3), first row: at most 1 % of one core over the run:" \
    "$(awk -v p="$cpu_pct" 'BEGIN { print (p <= 1.0) ? "met" : "MISSED" }') ($cpu_pct %);" \
    "at most 40 MB resident on average: $(awk -v k="${probe[3]}" 'BEGIN { print (k <= 40 * 1024) ? "met" : "MISSED" }') ($(mb "${probe[3]}") MB)."
  echo "<!-- bench/daemon_load.sh results: end -->"
}

report | tee "$T/report.md"
if [ -n "$DOC" ]; then
  python3 - "$DOC" "$T/report.md" <<'EOF'
import re, sys
doc, rep = sys.argv[1], open(sys.argv[2]).read()
text = open(doc).read()
if "<!-- bench/daemon_load.sh results: end -->" not in rep:
    sys.exit("report incomplete: %s left alone" % doc)
start = text.find("<!-- bench/daemon_load.sh results -->")
end = text.find("<!-- bench/daemon_load.sh results: end -->")
body = rep[rep.find("<!-- bench/daemon_load.sh results -->"):]
if start >= 0 and end > start:
    end += len("<!-- bench/daemon_load.sh results: end -->\n")
    text = text[:start] + body + text[end:]
else:
    text = text.rstrip("\n") + "\n\n" + rep
open(doc, "w").write(text)
EOF
fi
