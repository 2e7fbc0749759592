#!/usr/bin/env bash
# test_auto.sh - memdeltad with no target configured (automatic mode, issue
# 3): a real daemon on a scratch database and a free port, `auto_top = 2`,
# next to a grower holding 768 MiB of written private memory.  Asserts:
#   - memdeltad watches itself (a target named after its comm, with its pid);
#   - it watches at most auto_top + 1 processes, and at least one besides
#     itself;
#   - each process it picked ranks among the largest by VmData + VmStk (the
#     documented ranking) when the test looks, allowing for processes that
#     started or grew since the daemon chose (slack of 4 places);
#   - the grower, when it is in the top 2 of all readable processes at the
#     daemon's start and at the check, is one of them (processes built with
#     ASan, with their terabytes of shadow in VmData, can outrank it: the
#     check then says it does not apply).
# The re-evaluation every minute is not waited for here.
set -u
. "$(dirname "$0")/lib.sh"

need_built "$MDD" "$GROWER"
need_cmd python3 "python3 needed (free port, JSON, /proc ranking)"

scratch_dir auto
DPID=''
CLEANUP_FDS="3" CLEANUP_PIDS="DPID GPIDS"

G="mdauto$$"
start_grower "$G" gin gout 3
grower_ready gout || { fail "the grower did not start"; summary; exit 1; }
echo "private 768M" >&3
wait_for 10 grep -q '^ok' "$T/gout" || { fail "the grower did not allocate: $(cat "$T/gout")"; summary; exit 1; }

# rank_of PID...: the place (1 = largest) of each PID among the processes
# whose smaps this test may read, by VmData + VmStk, one per line.
rank_of() {
  python3 - "$@" <<'EOF'
import os, sys
sizes = {}
for d in os.listdir('/proc'):
    if not d.isdigit():
        continue
    try:
        with open('/proc/%s/smaps' % d, 'rb') as f:
            f.read(1)
        kb = 0
        with open('/proc/%s/status' % d) as f:
            for line in f:
                if line.startswith(('VmData:', 'VmStk:')):
                    kb += int(line.split()[1])
        sizes[int(d)] = kb
    except (OSError, ValueError):
        pass
order = sorted(sizes, key=lambda p: -sizes[p])
for a in sys.argv[1:]:
    p = int(a)
    print(order.index(p) + 1 if p in sizes else 0)
EOF
}

first_before=$(rank_of "$GPID")
PORT=$(free_port)
cat >"$T/md.conf" <<EOF
[memdeltad]
interval = 1
auto_top = 2
EOF
start_daemon "$T/log" -c "$T/md.conf" --db "$T/db"

# watched: "NAME PID" of every target the daemon samples now.
watched() {
  http_body /api/v1/targets | python3 -c '
import json, sys
for t in json.load(sys.stdin)["targets"]:
    r = t.get("runtime")
    if r and r["watching"] and t["last_snapshot"]:
        print(t["name"], t["pid"])'
}
two_watched() { [ "$(watched 2>/dev/null | wc -l)" -ge 2 ]; }
if ! wait_for 20 two_watched; then
  fail "fewer than 2 targets sampled after 20 s: $(watched 2>&1 | tr '\n' ';') (log: $(tail -3 "$T/log"))"
  summary
  exit 1
fi
sleep 2 # a second round, in case the first listing raced the first snapshots
watched >"$T/watched"
echo "# watched (name pid): $(tr '\n' ';' <"$T/watched")"
n=$(wc -l <"$T/watched")

self_comm=$(cat "/proc/$DPID/comm")
if grep -qx "$self_comm $DPID" "$T/watched"; then ok "memdeltad watches itself ($self_comm, pid $DPID)"
else fail "memdeltad ($self_comm, pid $DPID) is not among its targets"; fi

if [ "$n" -ge 2 ] && [ "$n" -le 3 ]; then ok "$n targets: at most auto_top (2) + itself, one at least besides itself"
else fail "$n targets with auto_top = 2"; fi

others=$(awk -v d="$DPID" '$2 != d { print $2 }' "$T/watched")
ranks=$(rank_of $others | tr '\n' ' ')
echo "# ranks by VmData + VmStk now of the picked processes: $ranks"
bad=0
for r in $ranks; do
  # 0: gone since; else within auto_top + 4 of the top
  [ "$r" -le 6 ] || bad=1
done
if [ "$bad" = 0 ]; then ok "the picked processes rank among the largest by VmData + VmStk ($ranks)"
else fail "a picked process ranks low by VmData + VmStk: ranks $ranks"; fi

first_after=$(rank_of "$GPID")
echo "# the grower ($GPID) ranked $first_before before the daemon started and $first_after now"
if [ "$first_before" -ge 1 ] && [ "$first_before" -le 2 ] && [ "$first_after" -ge 1 ] && [ "$first_after" -le 2 ]; then
  if grep -q " $GPID\$" "$T/watched"; then ok "the grower, in the top 2 before and after, is watched"
  else fail "the grower ranks $first_before then $first_after and is not watched"; fi
else
  echo "# another process outgrew the grower: that check does not apply to this run"
fi

stop_daemon || fail "memdeltad exit status $?"
summary
