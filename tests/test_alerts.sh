#!/usr/bin/env bash
# test_alerts.sh - leak alerts end to end: a real memdeltad watches seven
# real grower processes (tests/grower) and sends its alerts to an exec sink
# and a webhook sink (tests/hook_receiver, libmicrohttpd on 127.0.0.1).
#
# The detector is scaled down so that the test runs in about a minute
# (docs/alerts.md has the production defaults):
#   interval 1 s, warmup 5 s, window 60 s, min_span 10 s, step 1 s,
#   min_window 5 s (longer than the 4 s sawtooth period), eval_interval 1 s,
#   fire_after 3, resolve_after 5, min_mb_per_h 1, map_count_fraction 0.
#
# Leaking for 30 s at about 1 MiB/s each (after the warm-up):
#   private data (private 512K every 0.5 s), heap (heap 512K), thread stacks
#   (threads 1), mapped files (mappedw 512K: MAP_PRIVATE rw, written)
#   -> each exactly one fired alert, naming private / heap / stack / mapped;
# and, for the same time, no fired alert for:
#   sawtooth (private 2M four times, then free four times, over and over),
#   warm-up then plateau (48 MiB within the first seconds, then nothing),
#   a 4 GiB reservation (reserve 128M every 0.5 s, PROT_NONE: flat commit).
# The private-data target's name holds ; $(...) quotes and the exec sink's
# script lives under a directory named "; $(x) ' \"": the alert JSON must
# reach the script's stdin and the webhook byte-exact, parse, and carry that
# name unchanged; the receiver fails the first POST so the retry is seen.
# Last, SIGHUP with the webhook removed replaces the sinks and sampling goes on.
set -u
. "$(dirname "$0")/lib.sh"
abs_builddir
RECV="$B/tests/hook_receiver"

need_built "$MDD" "$GROWER" "$RECV"
need_cmd python3 "python3 needed (free port, JSON checks)"
need_cmd sqlite3 "sqlite3 CLI needed (.ci/deps)"

scratch_dir alerts
DPID='' RPID='' GPIDS=''
CLEANUP_FDS=5 CLEANUP_PIDS="DPID RPID GPIDS"

# ---- the sinks -----------------------------------------------------------------
HD="$T/; \$(x) ' \""
mkdir -p "$HD" "$T/hooks"
# shellcheck disable=SC2016 # the script's own $1
printf '#!/bin/sh\ncat >> "$1"\n' >"$HD/hook.sh"
chmod +x "$HD/hook.sh"
: >"$HD/exec.jsonl"

exec 5> >(exec "$RECV" "$T/hooks" 1 >"$T/recv.out" 2>&1)
RPID=$!
wait_for 5 grep -q '^port ' "$T/recv.out" || { echo "FAIL - the hook receiver did not start"; exit 1; }
HPORT=$(awk '/^port /{print $2}' "$T/recv.out")

# ---- the growers ---------------------------------------------------------------
# Each runs under a name of its own (a symlink), so concurrent tests' growers
# are no matches.  fd ${FD[KEY]} (10 to 16; fd 5 is the receiver's) writes
# its commands.
declare -A FD
nfd=10
grower() { # KEY
  FD[$1]=$nfd
  GROWER_DIR="$T" start_grower "mda$1$$" "$1.in" "$1.out" "$nfd"
  nfd=$((nfd + 1))
  grower_ready "$1.out" || fail "grower $1 did not start"
}
cmd() { echo "$2" >&"${FD[$1]}"; }

KEYS="priv heap thr map saw flat resv"
for k in $KEYS; do grower "$k"; done
# warm-up then plateau: all of it now, inside the 5 s warm-up
for i in 1 2 3 4 5 6; do cmd flat "private 8M"; done

# (libinih keeps section names under 50 bytes: "target " and 42 more)
PNAME="p; \$(touch pwned) 'q' \"d\""
PORT=$(free_port)
{
  printf '[memdeltad]\ninterval = 1\n\n'
  printf '[alerts]\nwarmup = 5s\nwindow = 60s\nmin_span = 10s\nstep = 1s\nmin_window = 5s\n'
  printf 'eval_interval = 1s\nfire_after = 3\nresolve_after = 5\nmin_mb_per_h = 1\n'
  printf 'map_count_fraction = 0\n'
  printf 'exec = %s/hook.sh\n' "$HD"
  printf 'exec_args = "%s/exec.jsonl"\n' "$(printf '%s' "$HD" | sed 's/[\\"]/\\&/g')"
  printf 'exec_timeout = 10s\n'
  printf 'webhook = http://127.0.0.1:%s/alert\nwebhook_retries = 3\nwebhook_timeout = 5s\n\n' "$HPORT"
  printf '[target %s]\nname = mdapriv%s\n' "$PNAME" $$
  for k in heap thr map saw flat resv; do printf '[target %s]\nname = mda%s%s\n' "$k" "$k" $$; done
} >"$T/md.conf"

(cd "$T" && exec "$MDD" -f -c "$T/md.conf" --db "$T/db" --listen "127.0.0.1:$PORT" 2>"$T/log") &
DPID=$!
if wait_for 10 grep -q 'watching process' "$T/log"; then ok "memdeltad watches the growers"
else fail "memdeltad did not start: $(tail -5 "$T/log")"; exit 1; fi

# ---- 6 s of warm-up, then 30 s of growth ------------------------------------------
sleep 6
GROW_MS=$(date +%s%3N)
for i in $(seq 0 59); do
  cmd priv "private 512K"
  cmd heap "heap 512K"
  cmd thr "threads 1"
  cmd map "mappedw 512K"
  if [ $((i % 8)) -lt 4 ]; then cmd saw "private 2M"; else cmd saw "free"; fi
  [ "$i" -lt 32 ] && cmd resv "reserve 128M"
  sleep 0.5
done
# time for the last evaluations and the sinks
sleep 4

q() { sqlite3 "$T/db" "$1"; }
fired_of() { # TARGET -> fired alerts
  q "SELECT count(*) FROM alerts a JOIN targets t ON t.id = a.target_id WHERE t.name = '$(printf '%s' "$1" | sed "s/'/''/g")' AND a.fired_ms > 0"
}

check_leak() { # TARGET SERIES TYPE
  local n series type
  n=$(fired_of "$1")
  series=$(q "SELECT a.series FROM alerts a JOIN targets t ON t.id = a.target_id WHERE t.name = '$(printf '%s' "$1" | sed "s/'/''/g")' AND a.fired_ms > 0")
  type=$(q "SELECT json_extract(a.evidence_json, '\$.type') FROM alerts a JOIN targets t ON t.id = a.target_id WHERE t.name = '$(printf '%s' "$1" | sed "s/'/''/g")' AND a.fired_ms > 0")
  if [ "$n" = 1 ] && [ "$series" = "$2" ] && [ "$type" = "$3" ]; then
    ok "$4: one alert, $series, type $type"
  else
    fail "$4: $n fired alert(s), series '$series', type '$type' (want 1, $2, $3)"
  fi
}
# Every alert row (cancelled pending ones too), for the log: seconds from
# the start of the growth to pending and to firing.
q "SELECT t.name, a.rule, a.series, round((a.started_ms - $GROW_MS) / 1000.0, 1),
          CASE WHEN a.fired_ms > 0 THEN round((a.fired_ms - $GROW_MS) / 1000.0, 1) ELSE 'never' END
   FROM alerts a JOIN targets t ON t.id = a.target_id ORDER BY a.id" |
  while IFS='|' read -r tn ru se pe fi; do
    echo "# alert: $tn $ru $se: pending at ${pe} s, fired at ${fi} s after the growth started"
  done
check_leak "$PNAME" private_committed private "private data"
check_leak heap private_committed heap "heap"
check_leak thr private_committed stack "thread stacks"
check_leak map committed:mapped mapped "mapped files"
for k in saw flat resv; do
  n=$(fired_of "$k")
  if [ "$n" = 0 ]; then ok "$k: no alert"
  else fail "$k: $n fired alert(s): $(q "SELECT a.summary FROM alerts a JOIN targets t ON t.id = a.target_id WHERE t.name = '$k'")"; fi
done

# ---- the sinks got the same alerts, byte-exact ---------------------------------------
exec_lines() { [ "$(wc -l <"$HD/exec.jsonl")" -ge "$1" ]; }
wait_for 10 exec_lines 4
if python3 - "$T/db" "$HD/exec.jsonl" "$T/hooks" "$PNAME" <<'EOF'; then
import glob, json, os, sqlite3, sys
db, execlog, hooks, pname = sys.argv[1:5]
rows = sqlite3.connect(db).execute(
    "SELECT id, evidence_json FROM alerts WHERE fired_ms > 0").fetchall()
fired = {r[0] for r in rows}
lines = open(execlog, "rb").read().split(b"\n")
assert lines[-1] == b"", "no newline after the last alert"
ex = [json.loads(l) for l in lines[:-1]]
hk = []
for f in sorted(glob.glob(os.path.join(hooks, "hook-*.json"))):
    hk.append(json.loads(open(f, "rb").read()))
    assert open(f[:-4] + "type").read() == "application/json", "content type"
for name, got in (("exec", ex), ("webhook", hk)):
    ids = {a["id"] for a in got if a["state"] == "firing"}
    assert ids == fired, "%s: firing ids %s != fired %s" % (name, ids, fired)
    for a in got:
        assert a["link"] == "/#/diff/%d/%d" % (a["baseline_snapshot_id"], a["trigger_snapshot_id"])
        assert a["regions"], "%s: no regions in %s" % (name, a["summary"])
names = {a["target"]["name"] for a in ex}
assert pname in names, "the hostile name did not arrive intact: %r" % names
# what the engine stored for a firing alert is what the command received
stored = {r[0]: r[1] for r in rows}
for a in ex:
    if a["state"] == "firing" and stored[a["id"]] is not None and json.loads(stored[a["id"]])["state"] == "firing":
        assert json.loads(stored[a["id"]]) == a
EOF
  ok "exec and webhook sinks received every fired alert's JSON byte-exact"
else fail "sinks"; fi
if [ -e "$T/pwned" ]; then fail "a target name was run by a shell"; else ok "no shell ran the target name"; fi
if [ "$(cat "$T/hooks/failed" 2>/dev/null)" = 1 ] && ls "$T/hooks"/hook-1.json >/dev/null 2>&1; then
  ok "the webhook retried after a 500"
else fail "webhook retry: failed=$(cat "$T/hooks/failed" 2>/dev/null)"; fi

# ---- SIGHUP replaces the sinks; sampling goes on -------------------------------------
n0=$(q "SELECT count(*) FROM snapshots")
grep -v '^webhook' "$T/md.conf" >"$T/md2.conf" && mv "$T/md2.conf" "$T/md.conf"
kill -HUP "$DPID"
more_snapshots() { [ "$(q "SELECT count(*) FROM snapshots")" -gt "$1" ]; }
if wait_for 10 grep -q 'configuration reloaded' "$T/log" &&
  wait_for 10 more_snapshots "$((n0 + 7))"; then
  ok "SIGHUP reloads the alert settings and sinks, sampling goes on"
else fail "SIGHUP: $(tail -3 "$T/log")"; fi

rc=0
stop_daemon || rc=$?
if [ "$rc" = 0 ]; then ok "memdeltad stops cleanly"; else fail "memdeltad exit $rc: $(tail -5 "$T/log")"; fi
if grep -q 'alert: ' "$T/log"; then ok "the log has the alerts"; else fail "no alert in the log"; fi

summary
