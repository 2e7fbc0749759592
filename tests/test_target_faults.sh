#!/usr/bin/env bash
# test_target_faults.sh - memdeltad against misbehaving targets
# (docs/reliability.md, "Faults: targets"), with a real daemon on 127.0.0.1
# (a free port) and real child processes:
#
# 1. churn (CHURN_S, default 30 s): churners (tests/churner: 300 to 3,000
#    regions, mapping and unmapping, exiting at a random moment within 3 s)
#    start every 0.15 s under one target read in full every tick.  The daemon
#    stays up; every stored snapshot has regions, totals that add up to its
#    region count, as many region versions valid at it as it has regions, and
#    is complete: its highest region is the top of the address space; exits
#    are logged at debug level only (no warning, no error line).
# 2. pid reuse, inside a new pid namespace (unshare --pid --fork --mount-proc,
#    skipped where not permitted): a grower that grew is quit, the namespace's
#    ns_last_pid is set so that the next grower gets the same pid; it is a new
#    instance (same pid, another start time) and its trend starts afresh: the
#    alert engine has no fit for it yet and /trend fits only its own samples.
# 3. a 60,000-region grower watched by two targets, one with the default
#    budget (2 s: collected whole) and one with budget_ms = 20 (flagged
#    truncated, one warning), beside three ordinary growers whose snapshots
#    keep their 1 s interval while the big one is collected.  The scheduler
#    has one thread: a tick of the big one delays the others by at most its
#    budget, so no gap may exceed interval + budget + 1 s (MAX_GAP_MS,
#    default 4,000 ms), but for the one stall of the big one's first
#    snapshot (60,000 region rows written in one transaction; MAX_STALL_MS,
#    default 6,000 ms).  The figures printed show how far under that it was.
set -u
. "$(dirname "$0")/lib.sh"
abs_builddir
CHURNER="$B/tests/churner"
CHURN_S=${CHURN_S:-30}
MAX_GAP_MS=${MAX_GAP_MS:-4000}
MAX_STALL_MS=${MAX_STALL_MS:-6000}
HTTP_TIMEOUT=10

get() { http_body "$1" 2>/dev/null; }
# js PATH EXPR: evaluate the Python expression EXPR on the JSON of PATH (as d).
js() { field "$1" "$2"; }
q() { sqlite3 -readonly "$DB" "$1"; }

# ---- 2, inside the pid namespace: "$0 --pidns DIR PORT" ---------------------------
if [ "${1:-}" = --pidns ]; then
  T=$2 PORT=$3 DB="$2/reuse.db"
  GN="mdreuse$$x"
  ln -s "$GROWER" "$T/$GN"
  cat >"$T/reuse.conf" <<EOF
[memdeltad]
interval = 1
full_read_every = 1

[alerts]
warmup = 1s
window = 60s
min_span = 5s
step = 1s
min_window = 0
eval_interval = 1s
min_mb_per_h = 0.001
min_pct_per_h = 0.001
map_count_fraction = 0

[target reuse]
name = $GN
EOF
  mkfifo "$T/g2.in"
  start_daemon "$T/reuse.log" -c "$T/reuse.conf" --db "$DB"
  start_grower "$GN" g1.in g1.out 7
  P1=$GPID
  grower_ready g1.out || { echo "FAIL - grower 1 did not start"; exit 1; }
  for _ in $(seq 16); do echo "private 1M" >&7; sleep 0.5; done
  TID=$(js /api/v1/targets "[t['id'] for t in d['targets'] if t['name'] == 'reuse'][0]")
  slope() { js /api/v1/targets "[t for t in d['targets'] if t['name'] == 'reuse'][0]['runtime']['trend_slope_bytes_per_h']"; }
  fitted() { s=$(slope); [ -n "$s" ] && [ "$s" != None ]; }
  if wait_for 15 fitted; then ok "pid $P1 grew: the alert engine fitted a trend ($(slope) B/h)"
  else fail "no trend fitted for the first instance (runtime slope: $(slope))"; fi
  exec 7>&-
  wait "$P1"
  # The next pid handed out in this namespace is ns_last_pid + 1.  Nothing
  # else forks here meanwhile (the daemon's threads all exist already).
  P2='' tries=0
  while [ "$tries" -lt 5 ]; do
    tries=$((tries + 1))
    if ! echo $((P1 - 1)) >/proc/sys/kernel/ns_last_pid 2>/dev/null; then
      echo "SKIP: cannot write /proc/sys/kernel/ns_last_pid in a new pid namespace"
      exit 77
    fi
    "$T/$GN" <"$T/g2.in" >"$T/g2.out" 2>&1 &
    P2=$!
    exec 8>"$T/g2.in"
    [ "$P2" = "$P1" ] && break
    exec 8>&-
    wait "$P2"
  done
  if [ "$P2" != "$P1" ]; then echo "SKIP: pid $P1 not handed out again (got $P2)"; exit 77; fi
  ok "pid $P1 recycled for a second grower"
  two() { [ "$(js "/api/v1/targets/$TID/instances" "len(d['instances'])")" = 2 ]; }
  wait_for 10 two || fail "no second instance: $(get "/api/v1/targets/$TID/instances")"
  # At once, while the new instance is younger than min_span: no fit, or
  # the old instance's points were carried over.
  s=$(slope)
  if [ "$s" = None ]; then ok "the trend restarts: no fit yet for the new instance (runtime slope null)"
  else fail "the new instance has a trend slope at once ($s): its series is not reset"; fi
  get "/api/v1/targets/$TID/instances" >"$T/inst.json"
  get "/api/v1/targets/$TID/trend" >"$T/trend.json"
  get "/api/v1/targets/$TID/timeline" >"$T/timeline.json"
  if python3 - "$T" "$P1" <<'EOF'; then ok "same pid, two instances; /trend and the timeline's restart follow the new one"; else fail "instances / trend after pid reuse"; fi
import json, sys
t, pid = sys.argv[1], int(sys.argv[2])
inst = json.load(open(t + "/inst.json"))["instances"]
tr = json.load(open(t + "/trend.json"))
tl = json.load(open(t + "/timeline.json"))
a, b = sorted(inst, key=lambda i: i["id"])
print(f"instances: {a['id']} pid {a['pid']} start {a['start_time']} snapshots {a['snapshots']};"
      f" {b['id']} pid {b['pid']} start {b['start_time']} snapshots {b['snapshots']}")
print(f"trend: instance {tr['instance']} samples {tr['samples']} ok {tr['ok']};"
      f" restarts {tl['restarts']}")
good = (a["pid"] == b["pid"] == pid and a["start_time"] != b["start_time"]
        and b["first_time_ms"] > a["last_time_ms"] and a["snapshots"] >= 6
        and tr["instance"] == b["id"] and tr["instance_start_ms"] == b["start_time_ms"]
        and 1 <= tr["samples"] <= b["snapshots"] + 2 and tr["samples"] < a["snapshots"]
        and not tr["ok"]
        and any(r["instance"] == b["id"] and r["pid"] == pid for r in tl["restarts"]))
sys.exit(0 if good else 1)
EOF
  exec 8>&-
  kill "$DPID"
  wait
  # The growth may well fire an alert (logged as a warning): that one is fine.
  grep -E '^(error|warning)' "$T/reuse.log" | grep -v -E '^warning: [a-z_]+: alert: reuse ' \
    && fail "warnings or errors in the log"
  echo "inner: $passes passed, $fails failed"
  exit $((fails > 0))
fi

# ---- the outer test -----------------------------------------------------------------
need_built "$MDD" "$GROWER" "$CHURNER"
[ -r /proc/self/smaps ] || skip "no /proc/self/smaps (Linux only)"
for c in python3 sqlite3; do
  need_cmd $c "$c needed"
done

scratch_dir tfaults
DPID='' PIDS=''
CLEANUP_FDS="5 6" CLEANUP_PIDS="PIDS GPIDS DPID"
# start_daemon_on CONF DB LOG: memdeltad on a free port; waits for /healthz.
start_daemon_on() {
  PORT=$(free_port)
  start_daemon "$3" -c "$1" --db "$2"
  wait_for 10 get /healthz >/dev/null || { fail "memdeltad did not start: $(tail -3 "$3")"; exit 1; }
}

# ---- 1. churn --------------------------------------------------------------------------
CN="mdchurn$$"
ln -s "$CHURNER" "$T/$CN"
printf '[memdeltad]\ninterval = 1\nfull_read_every = 1\nlog_level = debug\n\n[target churn]\nname = %s\n' \
  "$CN" >"$T/churn.conf"
DB="$T/churn.db"
start_daemon_on "$T/churn.conf" "$DB" "$T/churn.log"
: >"$T/churners"
end=$(($(date +%s) + CHURN_S))
while [ "$(date +%s)" -lt "$end" ]; do
  r=$((300 + RANDOM % 2701))
  "$T/$CN" 3000 "$r" 200 &
  echo "$! $r" >>"$T/churners"
  sleep 0.15
done
sleep 3.5 # the last churners exit
if kill -0 "$DPID" 2>/dev/null && [ "$(js /healthz "d['status']")" = ok ]; then
  ok "memdeltad up after $(wc -l <"$T/churners") churners in $CHURN_S s"
else fail "memdeltad died or is unhealthy: $(tail -3 "$T/churn.log")"; fi
stop_daemon
ns=$(q "SELECT count(*) FROM snapshots")
ni=$(q "SELECT count(*) FROM instances")
bad0=$(q "SELECT count(*) FROM snapshots WHERE n_regions <= 0")
badt=$(q "SELECT count(*) FROM snapshots s WHERE s.n_regions != (SELECT sum(regions) FROM totals t WHERE t.snapshot_id = s.id)")
badv=$(q "SELECT count(*) FROM snapshots s WHERE s.n_regions != (SELECT count(*) FROM versions v WHERE v.instance_id = s.instance_id AND v.first_snapshot <= s.id AND (v.last_snapshot IS NULL OR v.last_snapshot >= s.id))")
if [ "$ns" -ge 20 ] && [ "$bad0" = 0 ] && [ "$badt" = 0 ] && [ "$badv" = 0 ]; then
  ok "$ns snapshots of $ni churner instances: all with regions, totals and versions that add up"
else fail "snapshots $ns: $bad0 without regions, $badt with totals off, $badv with versions off"; fi
# Completeness: a read cut short loses the last records of smaps, so the
# highest region of every snapshot must be the same one (the top of every
# churner's address space: [vsyscall], or [vdso] where there is none; the
# store keeps addresses as two's complement, so the highest sort first among
# the negative ones).  (A
# region count cannot tell: the daemon may read a churner while it is still
# mapping its regions.)
q "SELECT (SELECT coalesce(d.text, '') FROM versions v LEFT JOIN strings d ON d.id = v.detail_id WHERE v.instance_id = s.instance_id AND v.first_snapshot <= s.id AND (v.last_snapshot IS NULL OR v.last_snapshot >= s.id) ORDER BY v.base < 0 DESC, v.base DESC LIMIT 1) AS top, count(*) FROM snapshots s GROUP BY top" >"$T/tops"
echo "# highest region of the snapshots (detail|count): $(tr '\n' ' ' <"$T/tops")"
if [ "$(wc -l <"$T/tops")" = 1 ] && grep -q '^\[v' "$T/tops"; then
  ok "every stored churner snapshot is complete (ends with $(cut -d'|' -f1 "$T/tops"))"
else fail "partial snapshots stored: highest regions $(tr '\n' ' ' <"$T/tops")"; fi
nexit=$(grep -c '^debug: .*exited' "$T/churn.log")
nwarn=$(grep -cE '^(warning|error)' "$T/churn.log")
if [ "$nwarn" = 0 ] && [ "$nexit" -ge 1 ]; then
  ok "$nexit exits logged at debug level, no warning or error line"
else fail "$nwarn warning/error lines ($(grep -E '^(warning|error)' "$T/churn.log" | head -3)), $nexit debug exits"; fi

# ---- 2. pid reuse in a pid namespace ------------------------------------------------------
PORT=$(free_port)
if ! unshare --pid --fork --mount-proc true 2>/dev/null; then
  echo "# pid reuse skipped: unshare --pid --fork --mount-proc not permitted"

else
  out=$(unshare --pid --fork --mount-proc bash "$0" --pidns "$T" "$PORT" 2>&1)
  rc=$?
  echo "$out" | sed 's/^/  /'
  if [ "$rc" = 77 ]; then echo "# pid reuse skipped: $(echo "$out" | grep SKIP)"
  elif [ "$rc" = 0 ]; then ok "pid reuse: new instance, trend restarted"
  else fail "pid reuse (inner test failed)"; fi
fi

# ---- 3. a 60,000-region target beside ordinary ones ------------------------------------
BN="mdbig$$"
ON="mdord$$"
ln -s "$GROWER" "$T/$ON"
start_grower "$BN" big.in big.out 5
echo "regions 60000" >&5
# The ordinary growers read one fifo: closing fd 6 ends all three.
mkfifo "$T/ord.in"
for _ in 1 2 3; do
  "$T/$ON" <"$T/ord.in" >/dev/null 2>&1 &
  PIDS="$PIDS $!"
done
exec 6>"$T/ord.in"
wait_for 30 grep -q '^ok' "$T/big.out" || { fail "the big grower did not map 60,000 regions: $(cat "$T/big.out")"; exit 1; }
cat >"$T/big.conf" <<EOF
[memdeltad]
interval = 1

[target big]
name = $BN

[target bigcut]
cmdline = /$BN\$
budget_ms = 20

[target ord]
name = $ON
EOF
DB="$T/big.db"
start_daemon_on "$T/big.conf" "$DB" "$T/big.log"
sleep 15
get /api/v1/targets >"$T/targets.json"
stop_daemon
q "SELECT t.name, i.pid, s.time_ms, s.n_regions, s.flags, s.collect_ns FROM snapshots s JOIN instances i ON i.id = s.instance_id JOIN targets t ON t.id = i.target_id ORDER BY s.id" >"$T/big.rows"
if python3 - "$T/big.rows" "$MAX_GAP_MS" "$MAX_STALL_MS" <<'EOF'; then ok "60,000 regions: collected in budget or flagged; ordinary ticks on time"; else fail "60,000-region target"; fi
import collections, sys
rows = [l.strip().split("|") for l in open(sys.argv[1])]
max_gap, max_stall = int(sys.argv[2]), int(sys.argv[3])
by = collections.defaultdict(list)
for name, pid, t, n, flags, ns in rows:
    by[name].append((int(pid), int(t), int(n), int(flags), int(ns)))
good = True
big = by["big"]
whole = [r for r in big if not r[3] & 1]
print(f"big: {len(big)} snapshots, {len(whole)} whole, regions {sorted({r[2] for r in big})[:3]},"
      f" collect ms max {max((r[4] for r in big), default=0) / 1e6:.0f}")
if not whole or any(r[2] < 60000 for r in whole) or any(r[4] > 2000e6 for r in whole if r[2] >= 60000):
    print("FAIL: big: no whole snapshot of 60,000 regions within its 2 s budget"); good = False
cut = by["bigcut"]
full = [r for r in cut if r[2] > 0]
print(f"bigcut: {len(cut)} snapshots, truncated {sum(1 for r in cut if r[3] & 1)},"
      f" regions {sorted({r[2] for r in cut})[:3]}")
if not cut or any(not r[3] & 1 or r[2] >= 60000 for r in cut):
    print("FAIL: bigcut: snapshots under budget_ms = 20 not all flagged truncated"); good = False
# The first snapshot of the big process writes 60,000 region rows in one
# transaction, on the scheduler's thread: one stall, allowed up to
# MAX_STALL_MS.  Every other gap stays under interval + budget + 1 s
# (MAX_GAP_MS).
t_big = min((r[1] for r in big), default=0)
ords = collections.defaultdict(list)
for pid, t, *_ in by["ord"]:
    ords[pid].append(t)
gaps = [(a, b - a) for ts in ords.values() for a, b in zip(ts, ts[1:])]
stall = [g for a, g in gaps if t_big - 1000 <= a <= t_big + 2000]
steady = [g for a, g in gaps if not t_big - 1000 <= a <= t_big + 2000]
print(f"ord: {len(ords)} processes, {len(gaps) + len(ords)} snapshots; gaps ms at the big one's"
      f" first snapshot max {max(stall, default=0)}, elsewhere min {min(steady, default=0)}"
      f" max {max(steady, default=0)}")
if len(ords) != 3 or len(steady) < 3 * 8:
    print("FAIL: ordinary targets not sampled"); good = False
if max(steady, default=0) > max_gap or max(stall, default=0) > max_stall:
    print(f"FAIL: ordinary targets late (over {max_gap} ms, or {max_stall} ms at the first"
          " snapshot of the big one)"); good = False
sys.exit(0 if good else 1)
EOF
ntrunc=$(grep -c 'snapshot truncated' "$T/big.log")
if [ "$ntrunc" = 1 ] && ! grep -qE '^error' "$T/big.log"; then ok "the truncation is logged once, no error line"
else fail "$ntrunc truncation lines: $(grep -E '^(warning|error)' "$T/big.log" | head -3)"; fi
missed=$(python3 -c 'import json, sys; print([t for t in json.load(open(sys.argv[1]))["targets"] if t["name"] == "ord"][0]["runtime"]["ticks_missed"])' "$T/targets.json" 2>/dev/null)
echo "# ordinary targets: ${missed:-?} tick(s) missed in all"
echo "$passes passed, $fails failed"
[ "$fails" = 0 ] || exit 1
[ "$passes" -gt 0 ] || exit 77
exit 0
