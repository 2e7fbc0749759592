#!/usr/bin/env bash
# test_detach.sh - memdeltad without -f (memdeltad(8), -f): it detaches
# (fork, setsid, fork, chdir /) and its parent exits 0 only once the daemon
# is ready.  Asserts:
#   - the command returns 0, and /healthz answers at once (no wait: ready
#     means the port is bound);
#   - the daemon is another process, in a session of its own that it does
#     not lead, its working directory /, its standard streams /dev/null;
#   - it samples its target (snapshots grow) and SIGTERM ends it;
#   - when the daemon cannot start (its port is taken), the command returns
#     non-zero instead of 0.
# Runs without NOTIFY_SOCKET (with it, memdeltad stays in the foreground).
set -u
. "$(dirname "$0")/lib.sh"

need_built "$MDD" "$GROWER"
need_cmd python3 "python3 needed (free port, JSON)"

scratch_dir detach
DPID='' HOLD=''
CLEANUP_FDS="3" CLEANUP_PIDS="DPID GPIDS HOLD"
unset NOTIFY_SOCKET WATCHDOG_USEC

G="mddetach$$"
start_grower "$G" gin gout 3
grower_ready gout || { fail "the grower did not start"; summary; exit 1; }

PORT=$(free_port)
cat >"$T/md.conf" <<EOF
[memdeltad]
interval = 1
log = stderr

[target grower]
name = $G
EOF

# The command itself: it must return once the daemon is ready.
"$MDD" -c "$T/md.conf" --db "$T/db" --listen "127.0.0.1:$PORT" >"$T/out" 2>&1 3>&-
rc=$?
if [ "$rc" = 0 ]; then ok "memdeltad without -f returned 0"
else fail "memdeltad without -f returned $rc: $(cat "$T/out")"; fi

if body=$(http_body /healthz); then ok "/healthz answers as soon as the command returned: $(echo "$body" | cut -c1-60)"
else fail "/healthz does not answer right after the command returned"; fi

# pids_with_db DB: the processes whose arguments include "--db DB".
pids_with_db() {
  python3 - "$1" <<'PY'
import os, sys
for d in os.listdir('/proc'):
    if not d.isdigit():
        continue
    try:
        args = open('/proc/%s/cmdline' % d, 'rb').read().split(b'\0')
    except OSError:
        continue
    if any(a == b'--db' and b == sys.argv[1].encode() for a, b in zip(args, args[1:])):
        print(d)
PY
}

# The daemon: the process whose command line names this test's database.
DPID=$(pids_with_db "$T/db" | head -1)
my_sid=$(awk '{ print $6 }' /proc/$$/stat)
if [ -n "$DPID" ]; then
  sid=$(awk '{ print $6 }' "/proc/$DPID/stat")
  cwd=$(readlink "/proc/$DPID/cwd")
  out0=$(readlink "/proc/$DPID/fd/0") out2=$(readlink "/proc/$DPID/fd/2")
  # setsid in the first child, then a second fork: a session of its own, of
  # which it is not the leader (so it never gets a controlling terminal).
  if [ "$sid" != "$my_sid" ] && [ "$sid" != "$DPID" ] && [ "$cwd" = / ] &&
    [ "$out0" = /dev/null ] && [ "$out2" = /dev/null ]; then
    ok "the daemon (pid $DPID) runs in a session of its own ($sid, not the test's $my_sid, not led by it), in /, stdin and stderr on /dev/null"
  else fail "daemon pid $DPID: session $sid (the test's: $my_sid), cwd $cwd, stdin $out0, stderr $out2"; fi
else
  fail "no process runs with --db $T/db"
fi

snaps() { http_body /api/v1/targets | python3 -c '
import json, sys
t = [t for t in json.load(sys.stdin)["targets"] if t["name"] == "grower"]
print(t[0]["last_snapshot"] if t else 0)'; }
s1=$(snaps)
sleep 3
s2=$(snaps)
if [ "${s2:-0}" -gt "${s1:-0}" ] 2>/dev/null; then ok "the detached daemon samples its target (last snapshot $s1 -> $s2)"
else fail "no new snapshot in 3 s ($s1 -> $s2)"; fi

if [ -n "$DPID" ]; then
  kill "$DPID"
  gone() { [ ! -e "/proc/$DPID" ]; }
  if wait_for 10 gone; then ok "SIGTERM ends it"; else fail "still running 10 s after SIGTERM"; fi
  DPID=''
fi

# A port already taken: the daemon fails before it is ready, and the
# command says so.
PORT=$(free_port)
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1)
print("held", flush=True); time.sleep(60)' "$PORT" >"$T/hold" 2>&1 3>&- &
HOLD=$!
wait_for 5 grep -q held "$T/hold" || fail "could not hold port $PORT"
"$MDD" -c "$T/md.conf" --db "$T/db2" --listen "127.0.0.1:$PORT" >"$T/out2" 2>&1 3>&-
rc=$?
if [ "$rc" != 0 ]; then ok "with its port taken, the command returns $rc, not 0"
else fail "with its port taken, the command returned 0"; fi
left=$(pids_with_db "$T/db2")
if [ -z "$left" ]; then ok "and no daemon is left behind"
else fail "a daemon is left behind: $left"; kill $left 2>/dev/null; fi

summary
