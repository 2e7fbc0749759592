#!/usr/bin/env bash
# test_sinks_reload.sh - a hung alert command never delays sampling, SIGHUP
# included (docs/alerts.md, "Sinks"): a real memdeltad watches a real grower
# with a threshold alert low enough to fire at once and an exec sink whose
# command hangs (sleep 3600) with exec_timeout = 600 s, far beyond the test.
# While the command hangs:
#   - SIGHUP replaces the sinks: the reload is logged within 5 s, and the
#     snapshots go on every tick across it (no gap of 4 s or more between
#     consecutive snapshots from before the SIGHUP to 8 s after it; at
#     least 5 new ones in those 8 s), the old command still running
#     (retired, not killed: its own timeout still holds it);
#   - SIGTERM: memdeltad exits within 25 s (10 s of grace for the alert in
#     delivery, then the command is killed), and the command is gone.
# Before sinks_retire, the SIGHUP would have waited for the 600 s timeout.
set -u
. "$(dirname "$0")/lib.sh"
abs_builddir

need_built "$MDD" "$GROWER"
need_cmd python3 "python3 needed (free port)"
need_cmd sqlite3 "sqlite3 CLI needed (.ci/deps)"

scratch_dir sinkhup
DPID='' GPIDS='' HPID=''
CLEANUP_FDS=5 CLEANUP_PIDS="DPID GPIDS HPID"

# shellcheck disable=SC2016 # the script's own $$ and $1
printf '#!/bin/sh\necho $$ >> "$1"\nexec sleep 3600\n' >"$T/hang.sh"
chmod +x "$T/hang.sh"

NAME="mdahup$$"
GROWER_DIR="$T" start_grower "$NAME" g.in g.out 5
grower_ready g.out || { fail "the grower did not start"; summary; exit 1; }

PORT=$(free_port)
{
  printf '[memdeltad]\ninterval = 1\n\n'
  printf '[alerts]\nthreshold_mb = 4\nmap_count_fraction = 0\n'
  printf 'exec = %s/hang.sh\nexec_args = "%s/pids"\nexec_timeout = 600s\n\n' "$T" "$T"
  printf '[target hup]\nname = %s\n' "$NAME"
} >"$T/md.conf"
start_daemon "$T/log" -c "$T/md.conf" --db "$T/db"
if wait_for 10 grep -qs 'watching process' "$T/log"; then ok "memdeltad watches the grower"
else fail "memdeltad did not start: $(tail -5 "$T/log")"; summary; exit 1; fi

# past the 4 MiB threshold: the alert fires and the command starts, hanging
echo "private 16M" >&5
command_runs() { [ -s "$T/pids" ]; }
if wait_for 20 command_runs; then
  HPID=$(head -1 "$T/pids")
  ok "the alert fired and its command hangs (pid $HPID)"
else
  fail "no alert command started: $(grep -i alert "$T/log" | tail -3)"; summary; exit 1
fi
sleep 2 # some ticks before the SIGHUP, with the command in delivery

q() { sqlite3 "$T/db" "$1"; }
now_ms() { python3 -c 'import time; print(int(time.time() * 1000))'; }
t_hup=$(now_ms)
n0=$(q "SELECT count(*) FROM snapshots")
kill -HUP "$DPID"
if wait_for 5 grep -q 'configuration reloaded' "$T/log"; then
  ok "SIGHUP reloads within 5 s while the old sinks' command hangs"
else fail "no reload within 5 s of SIGHUP: $(tail -3 "$T/log")"; fi
sleep 8
n1=$(q "SELECT count(*) FROM snapshots")
# the largest gap between consecutive snapshots from 3 s before the SIGHUP
gap=$(q "SELECT coalesce(max(d), -1) FROM (SELECT time_ms - lag(time_ms) OVER (ORDER BY time_ms) AS d FROM snapshots WHERE time_ms >= $((t_hup - 3000)))")
if [ $((n1 - n0)) -ge 5 ] && [ "$gap" -ge 0 ] && [ "$gap" -lt 4000 ]; then
  ok "sampling went on across the SIGHUP: $((n1 - n0)) snapshots in 8 s, largest gap $gap ms"
else
  fail "sampling stalled: $((n1 - n0)) snapshots in 8 s after SIGHUP, largest gap $gap ms"
fi
if kill -0 "$HPID" 2>/dev/null; then ok "the retired sinks' command still runs (its timeout holds)"
else fail "the command $HPID was killed at the SIGHUP"; fi

t0=$(now_ms)
rc=0
stop_daemon || rc=$?
took=$(($(now_ms) - t0))
if [ "$rc" = 0 ] && [ "$took" -lt 25000 ]; then ok "memdeltad stopped in $took ms (exit 0)"
else fail "memdeltad stop: exit $rc after $took ms: $(tail -5 "$T/log")"; fi
gone() { ! kill -0 "$HPID" 2>/dev/null; }
if wait_for 5 gone; then ok "the hung command was killed at the stop"
else fail "the command $HPID outlived memdeltad"; fi
if grep -q 'still running when memdeltad stops: killed' "$T/log"; then ok "the log says why"
else fail "no log line for the killed command"; fi

summary
