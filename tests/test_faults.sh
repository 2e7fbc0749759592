#!/usr/bin/env bash
# test_faults.sh - storage faults of issue 6 besides kill -9
# (test_faults_kill.sh) and the full disk (test_faults_full.sh), against a
# real memdeltad on scratch databases and a free port:
#
# 1. A damaged database at start: random bytes, a text file, a valid SQLite
#    file with someone else's tables, a real memdelta database cut in the
#    middle of a page, one with a page overwritten by zeros, and one with
#    pages overwritten by zeros and a -wal and -shm beside it.  Each time
#    memdeltad logs one "DATABASE DAMAGED" error line, the file is moved
#    aside to DB.corrupt-<time> with its -wal (both byte for byte unchanged:
#    sha256 before and after) and -shm, a fresh memdelta database is created
#    in its place and /healthz answers "ok".  A healthy database with
#    snapshots is left where it is, snapshots and all.
# 2. Another process (python3 sqlite3) holds the write lock with BEGIN
#    EXCLUSIVE for 10 s while memdeltad samples two growers every second:
#    GET /api/v1/targets keeps answering 200 all along (its maximum latency
#    is measured), snapshots wait for the busy timeout and are then counted
#    as dropped (/healthz snapshots_dropped, /metrics
#    memdelta_snapshots_dropped_total), and snapshots are stored again after
#    the lock is released.
# 3. db_max_mb = 1 (SQLite's max_page_count): growers mapping thousands of
#    regions fill the database to the cap; /healthz says storage "full", one
#    error line, the daemon runs and the API answers; restarted without the
#    cap, the same database takes snapshots again.
set -u
. "$(dirname "$0")/lib.sh"

need_built "$MDD" "$GROWER"
need_cmd python3 "python3 needed (sqlite3, HTTP, free port)"
python3 -c 'import sqlite3' 2>/dev/null || skip "python3 without sqlite3"
need_cmd sha256sum "sha256sum needed"

scratch_dir faults
DPID='' GPIDS='' LPID=''
CLEANUP_FDS="3 4" CLEANUP_PIDS="DPID GPIDS LPID"

PORT=$(free_port)

healthy() { [ "$(field /healthz 'j["storage"]')" = ok ]; }
# sql DB QUERY: the first column of the first row.
sql() {
  python3 -c 'import sqlite3,sys; r=sqlite3.connect(sys.argv[1], timeout=10).execute(sys.argv[2]).fetchone(); print(r[0] if r else "")' "$1" "$2" 2>&1
}

start_grower "mdflt1-$$" gin1 gout1 3
start_grower "mdflt2-$$" gin2 gout2 4
printf '[memdeltad]\ninterval = 1\nfull_read_every = 1\n[target f1]\nname = mdflt1-%s\n[target f2]\nname = mdflt2-%s\n' \
  "$$" "$$" >"$T/md.conf"
for i in 1 2; do
  grower_ready "gout$i" || { echo "FAIL - grower $i did not start"; exit 1; }
done

# start DB LOG: memdeltad on DB; waits until /healthz answers.
start() {
  start_daemon "$2" -c "$T/md.conf" --db "$1"
  wait_for 15 healthy
}
# stop: SIGTERM; memdeltad must exit 0 (under ASan a leak or an error
# makes it exit non-zero and print a report into its log).
stop() {
  local rc
  stop_daemon
  rc=$?
  [ "$rc" -eq 0 ] || { n_bad_exit=$((n_bad_exit + 1)); echo "# memdeltad exit status $rc"; }
}
n_bad_exit=0

# ---- 1. damaged databases at start ------------------------------------------

# A real memdelta database with snapshots, left as kill -9 leaves it (WAL
# and shm beside it), in $T/real/db.
mkdir "$T/real"
start_daemon "$T/real/log" -c "$T/md.conf" --db "$T/real/db"
has_snaps() { [ "$(sql "file:$T/real/db?mode=ro" 'select count(*) from snapshots')" -ge 6 ] 2>/dev/null; }
wait_for 20 has_snaps || fail "no snapshots in the real database (log: $(tail -3 "$T/real/log"))"
kill -9 "$DPID"; wait "$DPID" 2>/dev/null; DPID=''
[ -s "$T/real/db-wal" ] || fail "kill -9 left no WAL beside the real database"

# case NAME: the damaged file is prepared in $T/NAME/db (maybe with -wal, -shm).
case_damaged() {
  local name=$1 d="$T/$1" f h_before h_after moved n_lines
  local -A sums
  for f in db db-wal db-shm; do
    [ -e "$d/$f" ] && sums[$f]=$(sha256sum <"$d/$f" | cut -d' ' -f1)
  done
  start "$d/db" "$d/log" || fail "$name: memdeltad did not come up (log: $(tail -3 "$d/log"))"
  n_lines=$(grep -c 'error: .*DATABASE DAMAGED' "$d/log")
  [ "$n_lines" -eq 1 ] && ok "$name: one loud error line: $(grep -o 'DATABASE DAMAGED: [^;]*' "$d/log" | sed "s|$d/||")" ||
    fail "$name: $n_lines DATABASE DAMAGED lines (log: $(head -3 "$d/log"))"
  moved=$(ls "$d" | grep -E '^db\.corrupt-[0-9]{8}T[0-9]{6}Z$')
  if [ -n "$moved" ]; then
    for f in "${!sums[@]}"; do
      h_after=$(sha256sum <"$d/$moved${f#db}" 2>/dev/null | cut -d' ' -f1)
      if [ "$f" = db-shm ]; then
        # The -shm is SQLite's index of the WAL, rebuilt by any reader
        # (the check's read-only one included): moved, not compared.
        [ -n "$h_after" ] && ok "$name: $f moved aside to $moved${f#db}" ||
          fail "$name: $f not moved aside ($moved${f#db})"
        continue
      fi
      [ "$h_after" = "${sums[$f]}" ] && ok "$name: $f moved aside to $moved${f#db}, sha256 unchanged" ||
        fail "$name: $f: moved copy differs or is missing ($moved${f#db})"
    done
  else fail "$name: nothing moved aside ($(ls "$d" | tr '\n' ' '))"; fi
  [ "$(sql "$d/db" 'pragma application_id')" = 1835297908 ] && [ "$(sql "$d/db" 'pragma user_version')" -ge 1 ] &&
    [ "$(sql "$d/db" 'pragma quick_check')" = ok ] &&
    ok "$name: a fresh memdelta database in its place" || fail "$name: the new database: $(sql "$d/db" 'pragma application_id')"
  healthy && ok "$name: /healthz storage ok" || fail "$name: /healthz: $(field /healthz 'j')"
  stop
}

mkdir "$T/random" "$T/text" "$T/foreign" "$T/versioned" "$T/truncated" "$T/wal" "$T/zeroed" "$T/healthy"
head -c 65536 /dev/urandom >"$T/random/db"
printf 'memdelta\nis not a text file\n' >"$T/text/db"
python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("create table notes(x)"); c.execute("insert into notes values (1)"); c.commit()' "$T/foreign/db"
# Someone else's database with a schema version of its own (and no
# application id): as foreign as the one without.
python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("create table notes(x)"); c.execute("insert into notes values (1)"); c.execute("pragma user_version = 2"); c.commit()' "$T/versioned/db"
# A checkpointed copy in WAL mode, then one more transaction left in its
# -wal and -shm (the writer exits without closing, as after kill -9), then
# pages 3 to 6 of the main file overwritten by zeros.  (Damage to pages the
# WAL holds is no damage: they are read from the WAL.)
python3 - "$T/real/db" "$T/wal/db" <<'EOF'
import os, sqlite3, sys
src = sqlite3.connect('file:%s?mode=ro' % sys.argv[1], uri=True)
dst = sqlite3.connect(sys.argv[2])
src.backup(dst)
dst.execute('pragma journal_mode=wal')
dst.close()
dst = sqlite3.connect(sys.argv[2])
dst.execute("insert into strings (text) values ('left in the WAL')")
dst.commit()
os._exit(0)
EOF
dd if=/dev/zero of="$T/wal/db" bs=4096 seek=2 count=4 conv=notrunc 2>/dev/null
# A checkpointed copy in WAL mode (a cut file whose pages all sit in the
# WAL reads fine: that is no damage), cut in the middle of a page.
python3 - "$T/real/db" "$T/truncated/db" <<'EOF'
import sqlite3, sys
src = sqlite3.connect('file:%s?mode=ro' % sys.argv[1], uri=True)
dst = sqlite3.connect(sys.argv[2])
src.backup(dst)
dst.execute('pragma journal_mode=wal')
dst.close()
EOF
truncate -s $(($(stat -c %s "$T/truncated/db") / 2 + 1000)) "$T/truncated/db"
# A checkpointed copy with page 3 overwritten by zeros.
python3 - "$T/real/db" "$T/zeroed/db" <<'EOF'
import sqlite3, sys
src = sqlite3.connect('file:%s?mode=ro' % sys.argv[1], uri=True)
dst = sqlite3.connect(sys.argv[2])
src.backup(dst)
dst.execute('pragma journal_mode=delete')
dst.close()
with open(sys.argv[2], 'r+b') as f:
    f.seek(4096 * 2)
    f.write(b'\0' * 4096)
EOF
python3 - "$T/real/db" "$T/healthy/db" <<'EOF'
import sqlite3, sys
src = sqlite3.connect('file:%s?mode=ro' % sys.argv[1], uri=True)
dst = sqlite3.connect(sys.argv[2])
src.backup(dst)
dst.close()
EOF
for c in random text foreign versioned truncated wal zeroed; do case_damaged "$c"; done

n0=$(sql "$T/healthy/db" 'select count(*) from snapshots')
start "$T/healthy/db" "$T/healthy/log" || fail "healthy: memdeltad did not come up"
stop
n1=$(sql "$T/healthy/db" 'select count(*) from snapshots')
if ! grep -q 'DATABASE DAMAGED' "$T/healthy/log" && [ -z "$(ls "$T/healthy" | grep corrupt)" ] && [ "$n1" -ge "$n0" ] && [ "$n0" -ge 6 ]; then
  ok "a healthy database stays in place with its $n0 snapshots ($n1 after the run)"
else fail "healthy database: $(grep DAMAGED "$T/healthy/log") $(ls "$T/healthy") snapshots $n0 -> $n1"; fi

# ---- 2. another process holds the write lock for 10 s ---------------------------

mkdir "$T/lock"
start "$T/lock/db" "$T/lock/log" || fail "lock: memdeltad did not come up"
written() { field /healthz 'j["snapshots_written"]'; }
written_at_least() { [ "$(written)" -ge "$1" ] 2>/dev/null; }
wait_for 15 written_at_least 4 || fail "lock: no snapshots before the lock"

: >"$T/lock/holder"
python3 - "$T/lock/db" >"$T/lock/holder" 2>&1 <<'EOF' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
c.execute('BEGIN EXCLUSIVE')
print('locked %.3f' % time.time(), flush=True)
time.sleep(10)
c.execute('COMMIT')
print('released %.3f' % time.time(), flush=True)
EOF
LPID=$!
wait_for 10 grep -q locked "$T/lock/holder" || fail "lock: the holder did not get the lock: $(cat "$T/lock/holder")"
w_locked=$(written)
# Poll /api/v1/targets and /healthz while the lock is held.
python3 - "http://127.0.0.1:$PORT" "$T/lock/holder" >"$T/lock/probe" 2>&1 <<'EOF'
import json, sys, time, urllib.request
base, holder = sys.argv[1:3]
lat, errors, busy_seen, n = [], 0, 0, 0
while 'released' not in open(holder).read():
    t0 = time.monotonic()
    try:
        with urllib.request.urlopen(base + '/api/v1/targets', timeout=30) as r:
            body = json.load(r)
            if r.status != 200 or len(body['targets']) != 2:
                errors += 1
    except Exception:
        errors += 1
    lat.append(time.monotonic() - t0)
    try:
        with urllib.request.urlopen(base + '/healthz', timeout=30) as r:
            busy_seen += json.load(r)['storage'] == 'busy'
    except Exception:
        errors += 1
    n += 1
    time.sleep(0.1)
print('requests %d errors %d max_ms %.1f busy_seen %d' % (n, errors, 1000 * max(lat), busy_seen))
EOF
wait "$LPID"; LPID=''
read -r _ n_req _ n_errors _ max_ms _ busy_seen <"$T/lock/probe"
[ "${n_req:-0}" -ge 20 ] && [ "$n_errors" = 0 ] && ok "lock: /api/v1/targets answered all $n_req requests during the 10 s lock (max latency $max_ms ms)" ||
  fail "lock: $(cat "$T/lock/probe")"
python3 -c "import sys; sys.exit(0 if float('$max_ms') < 2000 else 1)" 2>/dev/null &&
  ok "lock: max latency $max_ms ms < 2000 ms" || fail "lock: max latency $max_ms ms"
[ "${busy_seen:-0}" -ge 1 ] && ok "lock: /healthz said storage \"busy\" during the lock ($busy_seen polls)" || fail "lock: /healthz never said busy"
dropped=$(field /healthz 'j["snapshots_dropped"]')
[ "${dropped:-0}" -ge 1 ] && ok "lock: $dropped snapshot(s) counted as dropped in /healthz" || fail "lock: snapshots_dropped '$dropped'"
metric=$(python3 -c 'import sys,urllib.request; print([l.split()[1] for l in urllib.request.urlopen(sys.argv[1]).read().decode().splitlines() if l.startswith("memdelta_snapshots_dropped_total ")][0])' "http://127.0.0.1:$PORT/metrics" 2>&1)
[ "$metric" = "$dropped" ] && ok "lock: /metrics memdelta_snapshots_dropped_total $metric" || fail "lock: /metrics dropped '$metric', /healthz '$dropped'"
if wait_for 15 written_at_least $((w_locked + 4)) && wait_for 5 healthy; then
  ok "lock: sampling resumes after the lock ($w_locked snapshots when locked, $(written) now; storage ok)"
else fail "lock: no snapshots after the lock ($w_locked, then $(written))"; fi
[ "$(grep -c 'cannot store a snapshot' "$T/lock/log")" -ge 1 ] && [ "$(grep -c 'storage works again' "$T/lock/log")" -ge 1 ] &&
  ok "lock: logged when storing stopped and when it worked again" || fail "lock: log: $(grep -E 'store|storage' "$T/lock/log")"
kill -0 "$DPID" && ok "lock: memdeltad still runs" || fail "lock: memdeltad died"
stop
[ "$(sql "$T/lock/db" 'pragma integrity_check')" = ok ] && ok "lock: integrity_check ok" || fail "lock: integrity_check"

# ---- 3. the database cap (db_max_mb: SQLite's max_page_count) -----------------

mkdir "$T/cap"
sed 's/^full_read_every = 1$/full_read_every = 1\ndb_max_mb = 1/' "$T/md.conf" >"$T/cap.conf"
start_daemon "$T/cap/log" -c "$T/cap.conf" --db "$T/cap/db"
wait_for 15 healthy || fail "cap: memdeltad did not come up (log: $(tail -3 "$T/cap/log"))"
# Thousands of new regions per tick until the 1 MiB cap is reached.
storage_full() { [ "$(field /healthz 'j["storage"]')" = full ]; }
cap_hit() { grep -q 'cannot store a snapshot' "$T/cap/log"; }
for round in $(seq 1 40); do
  echo "regions 2000" >&3; echo "regions 2000" >&4
  sleep 1.2
  cap_hit && break
  echo "free last" >&3; echo "free last" >&4
  sleep 1.2
  cap_hit && break
done
if wait_for 5 storage_full; then ok "cap: /healthz storage \"full\" once the database reaches db_max_mb = 1, after $round rounds ($(field /healthz 'j["storage_error"]'))"
else fail "cap: storage '$(field /healthz 'j["storage"]')' after $round rounds (db $(stat -c %s "$T/cap/db") bytes)"; fi
cap_bytes=$(( $(stat -c %s "$T/cap/db") ))
cap_pages=$(sql "file:$T/cap/db?mode=ro" 'pragma page_count')
[ "${cap_pages:-999999}" -le 256 ] && ok "cap: the database holds $cap_pages pages of 4 KiB (at most 1 MiB)" || fail "cap: $cap_pages pages"
sleep 3
[ "$(grep -c 'cannot store a snapshot' "$T/cap/log")" -eq 1 ] && kill -0 "$DPID" &&
  [ "$(field /api/v1/targets 'len(j["targets"])')" = 2 ] &&
  ok "cap: one error line, still running, the API answers" || fail "cap: $(grep -c 'cannot store' "$T/cap/log") error lines; $(tail -2 "$T/cap/log")"
stop
# Without the cap the same database takes snapshots again.
n_cap=$(sql "$T/cap/db" 'select count(*) from snapshots')
start "$T/cap/db" "$T/cap/log2" || fail "cap: no restart without the cap"
more_snaps() { [ "$(sql "file:$T/cap/db?mode=ro" 'select count(*) from snapshots')" -ge $((n_cap + 4)) ] 2>/dev/null; }
wait_for 15 more_snaps && ok "cap: without the cap snapshots are stored again ($n_cap, then $(sql "file:$T/cap/db?mode=ro" 'select count(*) from snapshots'))" ||
  fail "cap: no new snapshots without the cap"
stop

[ "$n_bad_exit" -eq 0 ] && ok "every memdeltad stopped by SIGTERM exited 0" || fail "$n_bad_exit memdeltad runs exited non-zero"
if grep -lE 'runtime error|AddressSanitizer|LeakSanitizer' "$T"/*/log* >/dev/null 2>&1; then
  fail "sanitizer reports: $(grep -lE 'runtime error|AddressSanitizer|LeakSanitizer' "$T"/*/log*)"
else ok "no sanitizer report in any log"; fi

echo "# figures: lock 10 s: $n_req API requests, $n_errors errors, max latency $max_ms ms, $dropped snapshots dropped"
summary
