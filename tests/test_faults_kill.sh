#!/usr/bin/env bash
# test_faults_kill.sh - kill -9 of memdeltad at random moments while it
# writes snapshots (issue 6, "Faults").  A real memdeltad on a scratch
# database watches eight targets, each a tests/grower child under a name of
# its own, every second with full reads at every tick (full_read_every = 1),
# at log level debug, where it logs "snapshot ID committed: pid P, N regions"
# once store_put_snapshot has returned from COMMIT.  Between two runs each
# grower maps 100 one-page regions or unmaps them again, so that every run
# writes new region versions and closes old ones.  The daemon is killed with
# SIGKILL after a random 50-400 ms, $MD_FAULT_KILLS times (default 200), and
# after each kill:
#   - PRAGMA integrity_check answers "ok";
#   - every snapshot that run logged as committed is in the database with
#     the logged region count;
#   - every snapshot new in the database (logged or not) is complete: the
#     region count of its totals rows, and the region versions valid at it
#     (each with a counters row), equal its n_regions.
# Then $MD_FAULT_KILLS_REPEAT (default 20) more kills, 1.0-2.5 s after start,
# with the default full_read_every, whose later ticks store repeated
# snapshots from the probe (tick_repeat); the same checks after each.
# No restart's start-up check takes the killed database for a damaged one.
# At the end every snapshot ever logged is still there, and the snapshots
# logged last are rebuilt by `memdelta show` with their logged region count.
# Prints the figures docs/reliability.md records.
set -u
. "$(dirname "$0")/lib.sh"
KILLS=${MD_FAULT_KILLS:-200}
NG=8

need_built "$MDD" "$MD" "$GROWER"
need_cmd python3 "python3 needed (checks, free port)"
python3 -c 'import sqlite3' 2>/dev/null || skip "python3 without sqlite3"

scratch_dir kill
DPID='' GPIDS='' CPID=''
CLEANUP_FDS="3 4 5 6 7 8 9 10 11 12" CLEANUP_PIDS="GPIDS CPID"
# A memdeltad left running is killed as the test kills it.
cleanup_first() {
  [ -n "$DPID" ] && kill -9 "$DPID" 2>/dev/null
}

# $NG growers, each under its own name (comm and argv[0]: a symlink), stdin
# on fds 3..(NG+2).
{
  echo "[memdeltad]"
  echo "log_level = debug"
  echo "interval = 1"
  echo "full_read_every = 1"
} >"$T/md.conf"
for i in $(seq 1 $NG); do
  start_grower "mdfk$i-$$" "gin$i" "gout$i" $((i + 2))
  printf '[target fk%s]\nname = mdfk%s-%s\n' "$i" "$i" "$$" >>"$T/md.conf"
done
for i in $(seq 1 $NG); do
  grower_ready "gout$i" || { echo "FAIL - grower $i did not start"; exit 1; }
done

PORT=$(free_port)

# The checker, one python process for all runs (its start-up costs more
# than a check): integrity_check, the snapshots a run's log says were
# committed, and every snapshot with an id above the last one checked.
cat >"$T/check.py" <<'EOF'
import re, sqlite3, sys

db = sys.argv[1]
checked_max = 0
logged = {}
line_re = re.compile(r"snapshot (\d+) committed: pid (\d+), (\d+) regions$")

def complete(con, sid, inst, n, problems):
    tot = con.execute('SELECT coalesce(sum(regions), 0) FROM totals WHERE snapshot_id = ?',
                      (sid,)).fetchone()[0]
    ver = con.execute(
        'SELECT count(*) FROM versions AS v WHERE v.instance_id = ?1 AND v.first_snapshot <= ?2'
        ' AND (v.last_snapshot IS NULL OR v.last_snapshot >= ?2)'
        ' AND EXISTS (SELECT 1 FROM counters AS c WHERE c.version_id = v.id'
        '             AND c.snapshot_id <= ?2)', (inst, sid)).fetchone()[0]
    if tot != n or ver != n:
        problems.append('snapshot %d half-written: n_regions %d, totals %d, versions %d'
                        % (sid, n, tot, ver))

def check(log, final):
    global checked_max
    problems = []
    con = sqlite3.connect('file:%s?mode=ro' % db, uri=True, timeout=10)
    ic = [r[0] for r in con.execute('PRAGMA integrity_check')]
    if ic != ['ok']:
        problems.append('integrity_check: %s' % ic[:5])
    # Only whole lines: a line cut by the kill is not a claim.
    new_logged = {}
    with open(log, encoding='utf-8', errors='replace') as f:
        for line in f:
            if not line.endswith('\n'):
                continue
            m = line_re.search(line.rstrip('\n'))
            if m:
                new_logged[int(m.group(1))] = int(m.group(3))
    logged.update(new_logged)
    for sid, n in (logged if final else new_logged).items():
        row = con.execute('SELECT n_regions FROM snapshots WHERE id = ?', (sid,)).fetchone()
        if row is None:
            problems.append('snapshot %d logged as committed is missing' % sid)
        elif row[0] != n:
            problems.append('snapshot %d: %d regions stored, %d logged' % (sid, row[0], n))
    rows = con.execute('SELECT id, instance_id, n_regions FROM snapshots WHERE id > ?'
                       ' ORDER BY id', (0 if final else checked_max,)).fetchall()
    for sid, inst, n in rows:
        complete(con, sid, inst, n, problems)
    if rows:
        checked_max = max(checked_max, rows[-1][0])
    total = con.execute('SELECT count(*) FROM snapshots').fetchone()[0]
    con.close()
    print('%s logged_now %d logged_all %d checked %d total %d %s' % (
        'bad' if problems else 'good', len(new_logged), len(logged), len(rows), total,
        '; '.join(problems[:5])), flush=True)

# One request a line: "check LOG", "final", or "logged" (the last 20
# logged snapshots as ID:REGIONS).
for req in sys.stdin:
    req = req.rstrip('\n')
    try:
        if req.startswith('check '):
            check(req[6:], False)
        elif req == 'final':
            check('/dev/null', True)
        elif req == 'logged':
            print(' '.join('%d:%d' % (k, logged[k]) for k in sorted(logged)[-20:]), flush=True)
    except Exception as e:  # a damaged database must not end the checker
        print('bad exception %r' % (e,), flush=True)
EOF
mkfifo "$T/cin" "$T/cout"
python3 "$T/check.py" "$T/db" <"$T/cin" >"$T/cout" &
CPID=$!
exec 11>"$T/cin" 12<"$T/cout"
ask() { echo "$1" >&11; read -r -t 60 answer <&12 || answer="bad no answer from the checker"; }

# kill_run CONF DELAY_MS: start memdeltad on CONF, SIGKILL it DELAY_MS
# later (exited_early=1 when it had already exited), add its log to
# log.all and have the checker check the run: its verdict is in $answer.
kill_run() {
  start_daemon "$T/log.run" -c "$1" --db "$T/db"
  sleep "$(printf '%d.%03d' $(($2 / 1000)) $(($2 % 1000)))"
  exited_early=0
  kill -0 "$DPID" 2>/dev/null && kill -9 "$DPID" || exited_early=1
  wait "$DPID" 2>/dev/null
  DPID=''
  cat "$T/log.run" >>"$T/log.all"
  ask "check $T/log.run"
}

start=$(date +%s)
runs=0 bad_runs=0 no_start=0 first_bad=''
for k in $(seq 1 "$KILLS"); do
  # Change the growers' layout: 100 new one-page regions, or those freed.
  for i in $(seq 1 $NG); do
    if [ $((k % 2)) -eq 1 ]; then echo "regions 100" >&$((i + 2)); else echo "free last" >&$((i + 2)); fi
  done
  delay=$((50 + RANDOM % 351))
  kill_run "$T/md.conf" "$delay"
  if [ "$exited_early" = 1 ]; then
    no_start=$((no_start + 1))
    echo "# run $k: memdeltad had exited before the kill: $(tail -2 "$T/log.run")"
  fi
  runs=$((runs + 1))
  case $answer in
  good*) ;;
  *) bad_runs=$((bad_runs + 1)); echo "# run $k (kill after $delay ms): $answer"
     [ -n "$first_bad" ] || first_bad=$k ;;
  esac
done
elapsed=$(($(date +%s) - start))

if [ "$bad_runs" -eq 0 ]; then
  ok "$runs kill -9 at random moments (50-400 ms after start): integrity_check ok and every logged snapshot present and complete after each"
else fail "$bad_runs of $runs runs found a damaged database or a missing or half-written snapshot (first: run $first_bad)"; fi
[ "$no_start" -eq 0 ] && ok "memdeltad was running at every kill" || fail "$no_start runs: memdeltad had exited before the kill"
# The start-up check never takes a killed database for a damaged one.
n_damaged=$(grep -c 'DATABASE DAMAGED' "$T/log.all")
[ "$n_damaged" -eq 0 ] && [ -z "$(ls "$T" | grep corrupt)" ] && ok "no restart found the database damaged (nothing moved aside)" ||
  fail "$n_damaged restarts moved the database aside: $(grep -m1 'DATABASE DAMAGED' "$T/log.all")"

# Phase 2: the default settings (a full read every 30th tick, the cheap
# probe in between).  The first tick of each target reads it in full; the
# growers stay idle, so the next ticks store the previous snapshot again
# with the new time (tick_repeat in daemon/scheduler.c).  Kills after 1.0
# to 2.5 s land among those writes; the same checks follow each.
REPEAT_KILLS=${MD_FAULT_KILLS_REPEAT:-20}
grep -v '^full_read_every' "$T/md.conf" >"$T/md2.conf"
start2=$(date +%s)
runs2=0 bad2=0 first_bad2='' repeat_commits=0
for k in $(seq 1 "$REPEAT_KILLS"); do
  delay=$((1000 + RANDOM % 1501))
  kill_run "$T/md2.conf" "$delay"
  runs2=$((runs2 + 1))
  case $answer in
  good*) ;;
  *) bad2=$((bad2 + 1)); echo "# default settings, run $k (kill after $delay ms): $answer"
     [ -n "$first_bad2" ] || first_bad2=$k ;;
  esac
  # Commits after the first full read of each of the $NG targets: repeats.
  n_run=$(echo "$answer" | sed -n 's/.*logged_now \([0-9]*\) .*/\1/p')
  [ "${n_run:-0}" -gt "$NG" ] && repeat_commits=$((repeat_commits + n_run - NG))
done
elapsed2=$(($(date +%s) - start2))
if [ "$bad2" -eq 0 ]; then
  ok "$runs2 kill -9 with the default settings (1.0-2.5 s after start): integrity_check ok and every logged snapshot present and complete after each"
else fail "default settings: $bad2 of $runs2 runs found a damaged database or a missing or half-written snapshot (first: run $first_bad2)"; fi
[ "$repeat_commits" -gt 0 ] && ok "those runs committed $repeat_commits snapshots after the first full read of each target (idle growers: the probe's repeats)" ||
  fail "the default-settings runs committed no repeated snapshot: the kills never met tick_repeat's writes"

ask final
final_answer=$answer
case $answer in
good*) ok "at the end: every snapshot ever logged is still there, every stored snapshot complete ($answer)" ;;
*) fail "at the end: $answer" ;;
esac
ask logged
pairs=$answer
n_logged=$(echo "$final_answer" | sed -n 's/.*logged_all \([0-9]*\) .*/\1/p')
# Every commit line, cut ones included (a cut line still comes after COMMIT),
# names a snapshot of the database, and no id is logged twice.
ids_check=$(grep -o 'snapshot [0-9]* committed' "$T/log.all" | awk '{ print $2 }' | python3 -c '
import collections, sqlite3, sys
ids = [int(x) for x in sys.stdin.read().split()]
con = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
have = {r[0] for r in con.execute("select id from snapshots")}
dup = [i for i, c in collections.Counter(ids).items() if c > 1]
missing = [i for i in ids if i not in have]
print("lines %d distinct %d duplicates %s missing %s" % (len(ids), len(set(ids)), dup[:5], missing[:5]))
' "$T/db" 2>&1)
case $ids_check in
*"duplicates [] missing []") ok "every commit line, cut ones included, names a stored snapshot, none twice ($ids_check)" ;;
*) fail "commit lines against the database: $ids_check" ;;
esac
[ "${n_logged:-0}" -ge $((KILLS / 4)) ] && ok "$n_logged snapshots logged as committed over the runs (at least one per four kills)" ||
  fail "only $n_logged snapshots committed over $KILLS runs: the kills did not hit writes"

# The store's own rebuild of the last 20 logged snapshots.
rebuilt=0 rebuild_bad=0
for pair in $pairs; do
  sid=${pair%%:*} n=${pair#*:}
  got=$("$MD" show --db "$T/db" "$sid" --format=json 2>/dev/null |
    python3 -c 'import json,sys; print(len(json.load(sys.stdin)["regions"]))' 2>/dev/null)
  if [ "$got" = "$n" ]; then rebuilt=$((rebuilt + 1)); else
    rebuild_bad=$((rebuild_bad + 1)); echo "# snapshot $sid: rebuilt $got regions, logged $n"; fi
done
[ "$rebuild_bad" -eq 0 ] && [ "$rebuilt" -gt 0 ] && ok "memdelta show rebuilds the last $rebuilt logged snapshots with their logged region counts" ||
  fail "$rebuild_bad rebuilds differ from the log ($rebuilt right)"

total=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from snapshots").fetchone()[0])' "$T/db")
echo "# figures: $runs kills, $bad_runs integrity or completeness failures, $n_logged logged snapshots verified, $total snapshots in the database, $elapsed s; default settings: $runs2 kills, $bad2 failures, $repeat_commits repeated snapshots committed, $elapsed2 s"
summary
