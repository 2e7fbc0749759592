#!/usr/bin/env bash
# test_daemon.sh - memdeltad end to end: a real daemon on a scratch database
# and a free port watches $MD_BUILDDIR/tests/grower by name every second
# (under a name of its own, so that concurrent tests' growers stay out).
# Asserts: snapshots appear (memdelta list, and /healthz over bash's /dev/tcp
# unless MD_TEST_NO_WEB=1), a grower restart is a new instance of the same
# target, SIGHUP with a good file adds a target, SIGHUP with a bad file keeps
# the daemon running and logs FILE:LINE, --check-config names the bad line
# and exits 2, a malformed file refuses to start, the systemd notify socket
# receives READY=1, RELOADING=1 and STOPPING=1, SIGTERM exits 0 and the
# database passes PRAGMA integrity_check.  Then a second daemon with
# full_read_every = 1000 and map_check_every = 3 watches an idle grower: its
# snapshots keep coming from probe hits (full_reads stays put, the versions
# and counters tables do not grow), a 4 MiB allocation is read in full at the
# next tick, and a read-only file mapping made inaccessible (mprotect
# PROT_NONE: no memory total changes) is read in full within 3 ticks, with
# the region's new protection.
set -u
. "$(dirname "$0")/lib.sh"

need_built "$MDD" "$MD" "$GROWER"
need_cmd python3 "python3 needed (notify listener, free port)"
need_cmd sqlite3 "sqlite3 CLI needed (.ci/deps)"

scratch_dir daemon
DPID='' LPID='' SPID=''
CLEANUP_FDS="3 4" CLEANUP_PIDS="DPID LPID SPID"

# count_snapshots TARGET: snapshots of TARGET in the database.
count_snapshots() {
  "$MD" list --db "$T/db" --target "$1" 2>/dev/null | awk 'NR > 1 { n++ } END { print n + 0 }'
}
# pids_of TARGET: distinct pids in TARGET's snapshots.
pids_of() {
  "$MD" list --db "$T/db" --target "$1" 2>/dev/null | awk 'NR > 1 { print $3 }' | sort -u
}
has_snapshots() { [ "$(count_snapshots "$1")" -ge "$2" ]; }
log_has() { grep -qE -- "$1" "$T/log"; }
notified() { grep -qx -- "$1" "$T/notify.log" 2>/dev/null; }

# The grower runs under a name of its own (a symlink: comm and argv[0] are
# "mdgrowPID"), so that the growers of tests running at the same time are
# not matches of the target.
G="mdgrow$$"

# A grower whose stdin is fd 3 (closing fd 3 ends it).
grower() {
  start_grower "$G" gin gout 3 && grower_ready gout
}

# ---- --check-config and a malformed file ------------------------------------
printf '[memdeltad]\ninterval = 1\n\n[target g]\nname = grower\nbudget_ms = soon\n' >"$T/bad.conf"
rc=0
"$MDD" --check-config -c "$T/bad.conf" >"$T/out" 2>"$T/err" || rc=$?
if [ "$rc" -eq 2 ] && grep -q "bad.conf:6: budget_ms: 'soon'" "$T/err"; then
  ok "--check-config names the bad line and exits 2"
else fail "--check-config on a bad file (exit $rc: $(cat "$T/err"))"; fi
rc=0
"$MDD" -f -c "$T/bad.conf" --db "$T/never.db" >"$T/out" 2>"$T/err" || rc=$?
if [ "$rc" -ne 0 ] && grep -q "bad.conf:6:" "$T/err" && [ ! -e "$T/never.db" ]; then
  ok "a malformed file refuses to start, naming the line"
else fail "malformed file at start (exit $rc: $(cat "$T/err"))"; fi
printf '[memdeltad]\ninterval = 1\n' >"$T/md.conf"
if "$MDD" --check-config -c "$T/md.conf" --db "$T/x.db" >"$T/out" 2>&1 && grep -q OK "$T/out"; then
  ok "--check-config accepts a good file"
else fail "--check-config on a good file: $(cat "$T/out")"; fi

# ---- a running daemon ----------------------------------------------------------
PORT=$(free_port)
NOTIFY="$T/notify.sock"
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as out:
    out.write("LISTENING\n")
    while True:
        for line in s.recv(4096).decode().split("\n"):
            out.write(line + "\n")
' "$NOTIFY" "$T/notify.log" &
LPID=$!
wait_for 5 notified LISTENING || fail "notify listener did not start"

grower || fail "grower did not start"
G1=$GPID
NOTIFY_SOCKET="$NOTIFY" WATCHDOG_USEC=1000000 "$MDD" -c "$T/md.conf" --db "$T/db" --listen "127.0.0.1:$PORT" \
  --watch-name "$G" --interval 1 2>"$T/log" 3>&- &
DPID=$!

if wait_for 10 notified READY=1; then ok "READY=1 on \$NOTIFY_SOCKET"
else fail "no READY=1 (log: $(tail -5 "$T/log"))"; fi
if wait_for 3 notified WATCHDOG=1; then ok "WATCHDOG=1 when \$WATCHDOG_USEC asks for it"
else fail "no WATCHDOG=1"; fi
if wait_for 10 has_snapshots "$G" 3; then ok "snapshots of grower appear"
else fail "no snapshots of grower (log: $(tail -5 "$T/log"))"; fi
if pids_of "$G" | grep -qx "$G1"; then ok "the snapshots are of the grower ($G1)"
else fail "grower's pid $G1 not in $(pids_of "$G" | tr '\n' ' ')"; fi

# The web server, through bash's /dev/tcp (curl may not be installed).
web=1
[ "${MD_TEST_NO_WEB:-0}" = 1 ] && web=0 && echo "# web checks skipped (MD_TEST_NO_WEB=1)"
if [ "$web" = 1 ]; then
  http_raw /healthz >"$T/healthz" 2>/dev/null
  if head -1 "$T/healthz" | grep -q ' 200' &&
    grep -qE '"snapshots_written": *[1-9]' "$T/healthz"; then
    ok "/healthz answers on the chosen port with snapshots written"
  else fail "/healthz: $(head -c 400 "$T/healthz")"; fi
  http_raw /api/v1/targets >"$T/targets" 2>/dev/null
  if sed '1,/^\r*$/d' "$T/targets" | python3 -c '
import json, sys
t = [t for t in json.load(sys.stdin)["targets"] if t["name"] == sys.argv[1]][0]
r = t["runtime"]
sys.exit(0 if r["ticks"] >= 2 and r["interval_s"] == 1 and r["watching"] else 1)' "$G"; then
    ok "/api/v1/targets shows the scheduler's figures of grower"
  else fail "targets runtime: $(head -c 600 "$T/targets")"; fi
fi

# ---- a restart of the grower is a new instance of the same target ---------------
exec 3>&-
gone() { ! kill -0 "$1" 2>/dev/null; }
wait_for 5 gone "$G1" || fail "the grower did not exit when its stdin closed"
grower || fail "second grower did not start"
G2=$GPID
has_pid() { pids_of "$G" | grep -qx "$1"; }
if wait_for 10 has_pid "$G2"; then
  ok "a restarted grower ($G2) is watched on the same target"
else fail "restart not followed: G2=$G2, pids $(pids_of "$G" | tr "\n" " ")"; ps -o pid,ppid,comm,args -p "$G2" || true; fi
ninst=$(sqlite3 "$T/db" "SELECT count(*) FROM instances i JOIN targets t ON t.id = i.target_id WHERE t.name = '$G'" 2>/dev/null || echo '?')
ntgt=$(sqlite3 "$T/db" "SELECT count(*) FROM targets WHERE name = '$G'" 2>/dev/null || echo '?')
if [ "$ninst" = 2 ] && [ "$ntgt" = 1 ]; then ok "one target, two instances"
else fail "by SQL: $ninst instance(s) of $ntgt target(s) named $G"; fi

# ---- SIGHUP with a good file adds a target ------------------------------------------
sleep 300 3>&- &
SPID=$!
# 20,000 one-page regions take far more than 1 ms to read: the "budget"
# target (the same grower, budget_ms = 1) stores truncated snapshots.
echo "regions 20000" >&3
printf '[memdeltad]\ninterval = 1\n\n[target sleeper]\npid = %s\n[target budget]\nname = %s\nbudget_ms = 1\n' "$SPID" "$G" >"$T/md.conf"
kill -HUP "$DPID"
if wait_for 10 has_snapshots sleeper 2; then ok "SIGHUP with a good file adds a target"
else fail "no snapshots of the new target (log: $(tail -5 "$T/log"))"; fi
truncated() { "$MD" list --db "$T/db" --target budget 2>/dev/null | grep -q truncated; }
if wait_for 5 truncated; then ok "budget_ms = 1 truncates the snapshots of a 20,000-region process"
else fail "no truncated snapshot under budget_ms = 1: $("$MD" list --db "$T/db" --target budget | tail -2)"; fi
if wait_for 5 notified RELOADING=1; then ok "RELOADING=1 on reload"
else fail "no RELOADING=1"; fi
before=$(count_snapshots "$G")
if wait_for 5 has_snapshots "$G" $((before + 2)); then ok "grower (a flag target) still sampled after the reload"
else fail "grower not sampled after reload"; fi

# ---- SIGHUP with a bad file keeps the old configuration -------------------------------
printf '[memdeltad]\ninterval = 1\n[target sleeper]\npid = %s\nfrequency = 3\n' "$SPID" >"$T/md.conf"
kill -HUP "$DPID"
if wait_for 5 log_has "md.conf:5: unknown key 'frequency'"; then ok "a bad reload logs FILE:LINE"
else fail "bad reload not logged with its line (log: $(tail -5 "$T/log"))"; fi
before=$(count_snapshots sleeper)
if kill -0 "$DPID" 2>/dev/null && wait_for 5 has_snapshots sleeper $((before + 2)); then
  ok "after a bad reload the daemon runs on with the old targets"
else fail "daemon stopped or lost its targets after a bad reload"; fi

# ---- missed ticks: a daemon stopped for 3 s misses about 3 ticks per process ----------
if [ "$web" = 1 ]; then
  kill -STOP "$DPID"
  sleep 3.5
  kill -CONT "$DPID"
  sleep 1.5
  missed=$(http_raw /healthz 2>/dev/null | sed -n 's/.*"ticks_missed": *\([0-9]*\).*/\1/p')
  if [ "${missed:-0}" -ge 2 ]; then ok "ticks missed while stopped are counted ($missed)"
  else fail "ticks_missed after a 3.5 s stop: '${missed:-}'"; fi
fi

# ---- SIGTERM: exit 0, a sound database ---------------------------------------------------
rc=0
stop_daemon || rc=$?
if [ "$rc" -eq 0 ]; then ok "SIGTERM exits 0"; else fail "SIGTERM: exit $rc (log: $(tail -5 "$T/log"))"; fi
if wait_for 3 notified STOPPING=1; then ok "STOPPING=1 on stop"; else fail "no STOPPING=1"; fi
ic=$(sqlite3 "$T/db" 'PRAGMA integrity_check' 2>&1)
if [ "$ic" = ok ]; then ok "integrity_check: ok"; else fail "integrity_check: $ic"; fi
if grep -E '^error' "$T/log" | grep -qv 'bad configuration'; then fail "errors in the log: $(grep -E '^error' "$T/log" | head -3)"
else ok "no error lines in the log"; fi

# ---- probe hits: an idle process is stored again without reading smaps ---------------
if [ "$web" = 1 ]; then
  exec 3>&-
  grower || fail "grower for the probe test did not start"
  printf '[memdeltad]\ninterval = 1\n\n[target idle]\nname = %s\nfull_read_every = 1000\nmap_check_every = 3\n' "$G" >"$T/probe.conf"
  start_daemon "$T/probe.log" -c "$T/probe.conf" --db "$T/probe.db"
  # runtime FIELD: the idle target's runtime figure (or its private_committed).
  runtime() {
    http_raw /api/v1/targets 2>/dev/null | sed '1,/^\r*$/d' | python3 -c '
import json, sys
t = [t for t in json.load(sys.stdin)["targets"] if t["name"] == "idle"][0]
print(t[sys.argv[1]] if sys.argv[1] in t else t["runtime"][sys.argv[1]])' "$1" 2>/dev/null
  }
  db_rows() { sqlite3 "$T/probe.db" "SELECT (SELECT count(*) FROM versions) || ' ' || (SELECT count(*) FROM counters)" 2>/dev/null; }
  snaps() { sqlite3 "$T/probe.db" "SELECT count(*) FROM snapshots" 2>/dev/null || echo 0; }
  hits_at_least() { [ "$(runtime probe_hits || echo 0)" -ge "$1" ]; }
  if wait_for 10 hits_at_least 1; then
    full1=$(runtime full_reads) hits1=$(runtime probe_hits) rows1=$(db_rows) snaps1=$(snaps)
    wait_for 10 hits_at_least $((hits1 + 4))
    full2=$(runtime full_reads) hits2=$(runtime probe_hits) rows2=$(db_rows) snaps2=$(snaps)
    if [ "$full2" = "$full1" ] && [ "$hits2" -ge $((hits1 + 4)) ] &&
      [ "$snaps2" -ge $((snaps1 + 4)) ] && [ "$rows2" = "$rows1" ]; then
      ok "an idle process is stored by probe hits: snapshots $snaps1 -> $snaps2, full reads stay $full2, (versions, counters) rows stay $rows2"
    else fail "probe hits: full_reads $full1 -> $full2, probe_hits $hits1 -> $hits2, snapshots $snaps1 -> $snaps2, rows '$rows1' -> '$rows2'"; fi
    pc1=$(runtime private_committed)
    echo "private 4M" >&3
    wait_for 5 grep -q '^ok 0x' "$T/gout"
    full_more() { [ "$(runtime full_reads)" -gt "$full2" ]; }
    if wait_for 3 full_more; then
      sleep 0.3
      pc2=$(runtime private_committed)
      if [ $((pc2 - pc1)) -ge $((4 << 20)) ]; then
        ok "a 4 MiB allocation is read in full at the next tick (private committed +$(( (pc2 - pc1) >> 10 )) KiB)"
      else fail "full read after the allocation, but private committed $pc1 -> $pc2"; fi
    else fail "no full read within 3 s of a 4 MiB allocation (full_reads $(runtime full_reads))"; fi
    # A structure change that moves no total: seen by the map check.  A
    # read-only file mapping (its own full read: VmSize moves), then PROT_NONE.
    gsend() { # gsend CMD: its reply line
      local n
      n=$(wc -l <"$T/gout")
      echo "$1" >&3
      answered() { [ "$(wc -l <"$T/gout")" -gt "$n" ]; }
      wait_for 5 answered
      tail -n +$((n + 1)) "$T/gout" | head -1
    }
    addr=$(gsend "mapped 1M" | awk '/^ok 0x/ { print $2 }')
    prot_of() { sqlite3 "$T/probe.db" "SELECT protection & 7 FROM versions WHERE base = $((addr)) AND last_snapshot IS NULL" 2>/dev/null; }
    readable() { [ "$(prot_of)" = 1 ]; }
    if [ -n "$addr" ] && wait_for 4 readable; then
      full3=$(runtime full_reads)
      reply=$(gsend noaccess)
      hidden() { [ "$(runtime full_reads)" -gt "$full3" ] && [ "$(prot_of)" = 0 ]; }
      if [ "${reply#ok}" = "$reply" ]; then fail "grower noaccess: $reply"
      elif wait_for 6 hidden; then
        ok "a mapping made inaccessible, no total changed, is read in full within map_check_every ticks (full reads $full3 -> $(runtime full_reads), r--p -> ---p at $addr)"
      else fail "mapping at $addr made inaccessible: full reads $full3 -> $(runtime full_reads), protection bits now '$(prot_of)'"; fi
    else fail "the read-only mapping ${addr:-?} never showed in a snapshot (protection '$(prot_of)')"; fi
  else fail "no probe hit on an idle process (log: $(tail -5 "$T/probe.log"))"; fi
  stop_daemon
fi

summary
