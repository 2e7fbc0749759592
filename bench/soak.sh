#!/usr/bin/env bash
# soak.sh - memdeltad for a long while (30 minutes by default) with targets
# starting and exiting all the time (docs/reliability.md, "Faults: targets").
# Not part of make check: it takes half an hour.
#
# Usage: bench/soak.sh BUILDDIR [MINUTES]
#   BUILDDIR holds a built memdeltad and the test helpers tests/churner and
#   tests/grower (make tests/churner tests/grower).
#
# What runs:
#   - memdeltad, interval 1 s, full_read_every 3, log_level debug, a raw
#     retention cap of RAW_CAP_MB MiB (default 4), on 127.0.0.1 (free port);
#   - target "churn": churners (tests/churner) started one every 0.25 s, each
#     with 50 to 2,000 regions, mapping and unmapping until it exits at a
#     random moment within 8 s (about 15 alive at a time);
#   - target "grow": a grower restarted every 2 minutes that maps 256 KiB
#     more every 2 s (a new instance each time, a rising series in each).
# Every 10 s it samples memdeltad's RSS (VmRSS) and open file descriptors,
# the database file and its WAL, the bytes the database uses (pages not on
# the freelist: what the retention cap is checked against), the snapshots
# and instances stored, and /healthz (snapshots written, ticks missed).
# The samples go to $OUT (default: soak.csv in the scratch directory,
# printed as they come).  The summary compares the figures after a warm-up
# (WARMUP_S, default 300 s: the store's caches fill, and the alert engine
# keeps an exited process for 3 x eval_interval) with the last ones.
# KEEP=1 keeps the scratch directory (database, log).
#
# Verdict (exit 0 when all hold, 1 otherwise):
#   - memdeltad ran throughout;
#   - RSS grew by at most max(2 MiB, 10 %) from the end of the warm-up to the
#     end, and open fds varied by at most 2;
#   - the database's used bytes stayed under the cap plus SLACK_MB (default
#     8 MiB): retention is checked every 10 s, and this churn writes about
#     3 MiB in 10 s;
#   - no "error" line in the log and no "warning" line about a process.
set -u

B=${1:?usage: soak.sh BUILDDIR [MINUTES]}
MIN=${2:-30}
RAW_CAP_MB=${RAW_CAP_MB:-4}
SLACK_MB=${SLACK_MB:-8}
WARMUP_S=${WARMUP_S:-300}
B=$(cd "$B" && pwd)
MDD="$B/memdeltad"
CH="$B/tests/churner"
GR="$B/tests/grower"
for f in "$MDD" "$CH" "$GR"; do
  [ -x "$f" ] || { echo "soak.sh: $f not built (make memdeltad tests/churner tests/grower)"; exit 2; }
done
for c in python3 sqlite3 curl; do
  command -v $c >/dev/null || { echo "soak.sh: $c needed"; exit 2; }
done

T=$(mktemp -d "${TMPDIR:-/tmp}/memdelta-soak-XXXXXX")
OUT=${OUT:-$T/soak.csv}
DPID='' CHURN='' GROW=''
cleanup() {
  for p in $CHURN $GROW; do kill "$p" 2>/dev/null; done
  [ -n "$DPID" ] && kill "$DPID" 2>/dev/null
  wait 2>/dev/null
  [ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT

CN="mdsoakc$$"
GN="mdsoakg$$"
ln -s "$CH" "$T/$CN"
ln -s "$GR" "$T/$GN"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$T/md.conf" <<EOF
[memdeltad]
interval = 1
full_read_every = 3
log_level = debug
retention_raw_max_mb = $RAW_CAP_MB

[target churn]
name = $CN

[target grow]
name = $GN
EOF
"$MDD" -f -c "$T/md.conf" --db "$T/db" --listen "127.0.0.1:$PORT" 2>"$T/log" &
DPID=$!

# The churn: one new churner every 0.25 s.
(
  trap 'kill $(jobs -p) 2>/dev/null; exit 0' TERM
  while :; do
    "$T/$CN" 8000 $((50 + RANDOM % 1951)) 2000 &
    sleep 0.25
  done
) &
CHURN=$!
# The growers: one at a time, replaced every 2 minutes.  Each runs in the
# background of this subshell (bash runs a trap only once the foreground
# command is done): the trap kills it and its feeder.
(
  trap 'kill $(jobs -p) $(cat "$T/grower.pid" 2>/dev/null) 2>/dev/null; exit 0' TERM
  while :; do
    {
      for _ in $(seq 60); do echo "private 256K"; sleep 2; done
      echo quit
    } | GROWER_DIR="$T" "$T/$GN" >/dev/null 2>&1 &
    echo $! >"$T/grower.pid"
    wait $!
  done
) &
GROW=$!

q() { sqlite3 -readonly "$T/db" "$1" 2>/dev/null; }
echo "t_s,rss_kb,fds,db_bytes,wal_bytes,used_bytes,snapshots,instances,written,missed" >"$OUT"
start=$(date +%s)
end=$((start + MIN * 60))
alive=1
while [ "$(date +%s)" -lt "$end" ]; do
  sleep 10
  if ! kill -0 "$DPID" 2>/dev/null; then alive=0; break; fi
  t=$(($(date +%s) - start))
  rss=$(awk '/^VmRSS/{print $2}' "/proc/$DPID/status")
  fds=$(ls "/proc/$DPID/fd" | wc -l)
  dbb=$(stat -c %s "$T/db" 2>/dev/null || echo 0)
  wal=$(stat -c %s "$T/db-wal" 2>/dev/null || echo 0)
  used=$(q "SELECT (p.page_count - f.freelist_count) * z.page_size FROM pragma_page_count AS p, pragma_freelist_count AS f, pragma_page_size AS z")
  ns=$(q "SELECT count(*) FROM snapshots")
  ni=$(q "SELECT count(*) FROM instances")
  hz=$(curl -s "http://127.0.0.1:$PORT/healthz")
  wr=$(printf '%s' "$hz" | sed -n 's/.*"snapshots_written": *\([0-9]*\).*/\1/p')
  mi=$(printf '%s' "$hz" | sed -n 's/.*"ticks_missed": *\([0-9]*\).*/\1/p')
  echo "$t,$rss,$fds,$dbb,$wal,${used:-0},${ns:-0},${ni:-0},${wr:-0},${mi:-0}" | tee -a "$OUT"
done
kill "$CHURN" "$GROW" 2>/dev/null

python3 - "$OUT" "$WARMUP_S" "$RAW_CAP_MB" "$alive" "$T/log" "$SLACK_MB" <<'EOF'
import csv, re, sys
rows = list(csv.DictReader(open(sys.argv[1])))
warm, cap, alive, log = int(sys.argv[2]), int(sys.argv[3]) << 20, sys.argv[4] == "1", sys.argv[5]
slack = int(sys.argv[6]) << 20
if not rows:
    print("no samples"); sys.exit(1)
num = lambda r, k: int(r[k] or 0)
after = [r for r in rows if num(r, "t_s") >= warm] or rows
first, last = after[0], rows[-1]
rss_w, rss_e = num(first, "rss_kb"), num(last, "rss_kb")
rss_max = max(num(r, "rss_kb") for r in after)
fds = [num(r, "fds") for r in after]
used_max = max(num(r, "used_bytes") for r in rows)
file_max = max(num(r, "db_bytes") + num(r, "wal_bytes") for r in rows)
lines = open(log, errors="replace").read().splitlines()
errors = [l for l in lines if l.startswith("error")]
pwarn = [l for l in lines if l.startswith("warning") and "process" in l]
exits = sum(1 for l in lines if l.startswith("debug") and "exited" in l)
watched = sum(1 for l in lines if "watching process" in l)
print()
print(f"duration              {num(last, 't_s')} s, {len(rows)} samples, memdeltad alive: {alive}")
print(f"RSS after {warm} s      {rss_w} KiB -> end {rss_e} KiB (max {rss_max} KiB)")
print(f"open fds              min {min(fds)}, max {max(fds)}, end {num(last, 'fds')}")
used_after = [num(r, "used_bytes") for r in after]
print(f"database used bytes   max {used_max} (cap {cap} + slack {slack}); after warm-up"
      f" median {sorted(used_after)[len(used_after) // 2]}; file + WAL max {file_max}")
print(f"snapshots written     {num(last, 'written')}, stored now {num(last, 'snapshots')}, instances {num(last, 'instances')}")
print(f"ticks missed          {num(last, 'missed')}")
print(f"processes watched     {watched}; exits seen mid-tick (debug lines) {exits}")
print(f"log                   {len(errors)} error line(s), {len(pwarn)} warning line(s) about a process")
bad = []
if not alive: bad.append("memdeltad died")
if rss_e - rss_w > max(2048, rss_w // 10): bad.append("RSS grew")
if max(fds) - min(fds) > 2: bad.append("fd count moved")
if used_max > cap + slack: bad.append("database over its cap")
if errors or pwarn: bad.append("error/warning lines: " + "; ".join((errors + pwarn)[:3]))
print("verdict               " + ("ok" if not bad else "FAIL: " + ", ".join(bad)))
sys.exit(1 if bad else 0)
EOF
