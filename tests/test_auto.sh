#!/usr/bin/env bash
# test_auto.sh - memdeltad with no target configured (automatic mode, issue
# 3): a real daemon on a scratch database and a free port, `auto_top = 2`,
# next to a grower holding 768 MiB of written private memory.  Asserts:
#   - memdeltad watches itself (an instance with its pid of the target named
#     after its comm, which other memdeltads of concurrent tests may share);
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
wait_for 10 grep -qs '^ok' "$T/gout" || { fail "the grower did not allocate: $(cat "$T/gout")"; summary; exit 1; }

# rank_of PID...: the place (1 = largest) of each PID among the processes
# whose smaps this test may read, by VmData + VmStk, one per line.  With
# BEFORE=PID2, only the processes started no later than PID2 count: the
# ones other tests start afterwards (say 180 churners built with ASan, each
# with terabytes of shadow in VmData) were not there when memdeltad chose.
rank_of() {
  python3 - "${BEFORE:-0}" "$@" <<'EOF'
import os, sys
def start(pid):
    with open('/proc/%s/stat' % pid) as f:
        return int(f.read().rsplit(')', 1)[1].split()[19])
limit = start(sys.argv[1]) if sys.argv[1] != '0' else None
sizes = {}
for d in os.listdir('/proc'):
    if not d.isdigit():
        continue
    try:
        if limit is not None and start(d) > limit:
            continue
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
for a in sys.argv[2:]:
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

# What it chose: its log has "target 'NAME': watching process PID (COMM)"
# for each process of the first rescan (the next one is a minute away, and
# this test is over before).  Targets are named after comm, so another
# test's memdeltad, picked for its size, is an instance of the same target
# "memdeltad" as this one: count processes, not targets.
chosen() { sed -n "s/.*: watching process \([0-9]*\) (.*/\1/p" "$T/log"; }
some_chosen() { [ "$(chosen | wc -l)" -ge 2 ]; }
if ! wait_for 20 some_chosen; then
  fail "fewer than 2 processes watched after 20 s (log: $(tail -3 "$T/log"))"
  summary
  exit 1
fi
sleep 2
chosen | sort -u >"$T/chosen"
echo "# watched processes: $(tr '\n' ' ' <"$T/chosen")"
n=$(wc -l <"$T/chosen")

if grep -qx "$DPID" "$T/chosen"; then ok "memdeltad watches itself (pid $DPID)"
else fail "memdeltad (pid $DPID) is not among the processes it watches"; fi

# The API agrees: the target named after memdeltad's comm has an instance
# with its pid, with snapshots.
self_comm=$(cat "/proc/$DPID/comm")
self_instance() {
  local id
  id=$(http_body /api/v1/targets | python3 -c '
import json, sys
print(*[t["id"] for t in json.load(sys.stdin)["targets"] if t["name"] == sys.argv[1]])' "$self_comm")
  [ -n "$id" ] && http_body "/api/v1/targets/$id/instances" | python3 -c '
import json, sys
sys.exit(0 if any(i["pid"] == int(sys.argv[1]) and i["snapshots"] > 0
                  for i in json.load(sys.stdin)["instances"]) else 1)' "$DPID"
}
if wait_for 10 self_instance; then ok "its snapshots are stored: target $self_comm has an instance with pid $DPID"
else fail "no instance with pid $DPID and snapshots under target $self_comm"; fi

if [ "$n" -ge 2 ] && [ "$n" -le 3 ]; then ok "$n processes: at most auto_top (2) + itself, one at least besides itself"
else fail "$n processes watched with auto_top = 2"; fi

others=$(grep -vx "$DPID" "$T/chosen")
ranks=$(BEFORE=$DPID rank_of $others | tr '\n' ' ')
echo "# ranks by VmData + VmStk now, among the processes started before memdeltad, of the picked ones (0: gone): $ranks"
bad=0
for r in $ranks; do
  # 0: gone since; else within auto_top + 4 of the top
  [ "$r" -le 6 ] || bad=1
done
if [ "$bad" = 0 ]; then ok "the picked processes rank among the largest by VmData + VmStk ($ranks)"
else fail "a picked process ranks low by VmData + VmStk: ranks $ranks"; fi

first_after=$(BEFORE=$DPID rank_of "$GPID")
echo "# the grower ($GPID) ranked $first_before before the daemon started and $first_after now"
if [ "$first_before" -ge 1 ] && [ "$first_before" -le 2 ] && [ "$first_after" -ge 1 ] && [ "$first_after" -le 2 ]; then
  if grep -qx "$GPID" "$T/chosen"; then ok "the grower, in the top 2 before and after, is watched"
  else fail "the grower ranks $first_before then $first_after and is not watched"; fi
else
  echo "# another process outgrew the grower: that check does not apply to this run"
fi

stop_daemon || fail "memdeltad exit status $?"
summary
