#!/usr/bin/env bash
# test_faults_full.sh - a full disk under memdeltad's database (issue 6,
# "Faults").  The database lives on a small tmpfs mounted for the test
# (needs root, or CAP_SYS_ADMIN: skips with 77 when mount is not permitted).
# A real memdeltad watches two tests/grower children every second, with an
# exec alert sink that appends each alert's JSON to a file.  Once snapshots
# are stored, a filler file takes every free byte of the tmpfs and the
# growers map new regions (so that the next snapshots need new pages).
# Asserts, while the disk is full: memdeltad keeps running (no crash, no
# restart: one start-up line), /healthz says status "degraded" and storage
# "full" with snapshots_dropped counting up, the log has one "cannot store a
# snapshot" line and one storage alert line however many ticks fail, the
# exec sink got exactly one storage alert (firing), and the API still
# answers (/api/v1/targets lists both targets).  Then the filler is deleted:
# without any action, /healthz turns ok, new snapshots appear in the
# database, the log says "storage works again" and the sink gets one
# resolved storage alert.  Last, memdeltad is started on a disk that is
# already full: it stays up, /healthz answers with the reason, and sampling
# starts by itself once the space is freed.
set -u
. "$(dirname "$0")/lib.sh"

need_built "$MDD" "$GROWER"
need_cmd python3 "python3 needed (HTTP client, free port)"

scratch_dir full
DPID='' GPIDS=''
CLEANUP_FDS="3 4" CLEANUP_PIDS="DPID GPIDS"
M="$T/mnt"
mkdir "$M"
cleanup_last() {
  umount "$M" 2>/dev/null || umount -l "$M" 2>/dev/null
}
mount -t tmpfs -o size=3m,mode=0700 memdelta-test "$M" 2>"$T/mount.err" ||
  skip "cannot mount a tmpfs (needs root): $(cat "$T/mount.err")"

cat >"$T/sink.sh" <<EOF
#!/bin/sh
cat >>"$T/alerts.jsonl"
EOF
chmod +x "$T/sink.sh"
: >"$T/alerts.jsonl"
{
  printf '[memdeltad]\ninterval = 1\nfull_read_every = 1\n'
  printf '[alerts]\nexec = %s/sink.sh\n' "$T"
} >"$T/md.conf"
for i in 1 2; do
  start_grower "mdfull$i-$$" "gin$i" "gout$i" $((i + 2))
  printf '[target full%s]\nname = mdfull%s-%s\n' "$i" "$i" "$$" >>"$T/md.conf"
done
for i in 1 2; do
  grower_ready "gout$i" || { echo "FAIL - grower $i did not start"; exit 1; }
done

PORT=$(free_port)
start_daemon "$T/log" -c "$T/md.conf" --db "$M/db"

written() { field /healthz 'j["snapshots_written"]'; }
written_at_least() { [ "$(written)" -ge "$1" ] 2>/dev/null; }
storage_is() { [ "$(field /healthz 'j["storage"]')" = "$1" ]; }
storage_is_not_ok() { local v; v=$(field /healthz 'j["storage"]'); [ -n "$v" ] && [ "$v" != ok ]; }
db_max_id() {
  python3 -c 'import sqlite3,sys; print(sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True, timeout=10).execute("select coalesce(max(id),0) from snapshots").fetchone()[0])' "$M/db" 2>/dev/null
}

if wait_for 20 written_at_least 4; then ok "snapshots are stored on the tmpfs"
else fail "no snapshots stored (log: $(tail -5 "$T/log"))"; fi

# Fill every free byte, then make the next snapshots bigger.
dd if=/dev/zero of="$M/filler" bs=4k >/dev/null 2>&1
[ "$(df --output=avail -k "$M" | tail -1 | tr -d ' ')" -le 4 ] && ok "the filler took the tmpfs ($(du -k "$M/filler" | cut -f1) KiB)" ||
  fail "the tmpfs still has room: $(df -k "$M" | tail -1)"
for i in 1 2; do echo "regions 300" >&$((i + 2)); done
full_at=$(date +%s.%N)
if wait_for 30 storage_is full; then ok "/healthz: storage \"full\" ($(python3 -c "import time; print('%.1f' % (time.time() - $full_at))") s after the disk filled)"
else fail "/healthz storage: $(field /healthz 'j["storage"], j["storage_error"]') (log: $(tail -3 "$T/log"))"; fi
[ "$(field /healthz 'j["status"]')" = degraded ] && ok "/healthz: status \"degraded\"" || fail "/healthz status: $(field /healthz 'j["status"]')"
d1=$(field /healthz 'j["snapshots_dropped"]')
sleep 4
d2=$(field /healthz 'j["snapshots_dropped"]')
[ "${d2:-0}" -gt "${d1:-0}" ] && [ "${d1:-0}" -ge 1 ] && ok "snapshots_dropped counts the failed ticks ($d1, then $d2 four seconds later)" ||
  fail "snapshots_dropped: $d1 then $d2"
n_targets=$(field /api/v1/targets 'len(j["targets"])')
[ "$n_targets" = 2 ] && ok "the API keeps answering on a full disk (/api/v1/targets: $n_targets targets)" ||
  fail "/api/v1/targets on a full disk: '$n_targets'"
ids_full=$(db_max_id)
kill -0 "$DPID" 2>/dev/null && ok "memdeltad still runs" || fail "memdeltad died on a full disk (log: $(tail -5 "$T/log"))"
n_err=$(grep -c 'cannot store a snapshot' "$T/log")
n_alert_log=$(grep -c 'alert: storage full' "$T/log")
[ "$n_err" -eq 1 ] && ok "one 'cannot store a snapshot' log line for $d2+ failed ticks" || fail "$n_err 'cannot store a snapshot' lines"
[ "$n_alert_log" -eq 1 ] && ok "one storage alert in the log" || fail "$n_alert_log storage alert log lines"
[ "$(grep -c '"rule":"storage","state":"firing","storage":"full"' "$T/alerts.jsonl")" -eq 1 ] &&
  ok "the exec sink got one storage alert (firing, full)" || fail "exec sink: $(cat "$T/alerts.jsonl")"

# Free the space: writing resumes by itself.
w_before=$(written)
rm -f "$M/filler"
if wait_for 20 storage_is ok; then ok "/healthz: storage \"ok\" again once the filler is deleted"
else fail "storage stays '$(field /healthz 'j["storage"]')' after freeing the disk"; fi
if wait_for 10 written_at_least $((w_before + 4)); then ok "snapshots are written again ($w_before, then $(written))"
else fail "no new snapshots after freeing the disk ($w_before, then $(written))"; fi
ids_after=$(db_max_id)
[ "${ids_after:-0}" -gt "${ids_full:-0}" ] && ok "new snapshots in the database (max id $ids_full, then $ids_after)" ||
  fail "no new snapshot rows (max id $ids_full, then $ids_after)"
grep -q 'storage works again' "$T/log" && ok "the log says storage works again" || fail "no 'storage works again' line"
wait_for 10 grep -q '"state":"resolved"' "$T/alerts.jsonl"
[ "$(grep -c '"rule":"storage","state":"resolved"' "$T/alerts.jsonl")" -eq 1 ] &&
  ok "the exec sink got one resolved storage alert" || fail "exec sink after recovery: $(cat "$T/alerts.jsonl")"
[ "$(grep -c 'memdeltad .*: database' "$T/log")" -eq 1 ] && ok "one start-up line: no restart" || fail "memdeltad started $(grep -c 'memdeltad .*: database' "$T/log") times"
ic=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1], timeout=10).execute("pragma integrity_check").fetchone()[0])' "$M/db" 2>&1)
[ "$ic" = ok ] && ok "integrity_check ok after the full disk" || fail "integrity_check: $ic"

if stop_daemon; then ok "SIGTERM: memdeltad exits 0"; else fail "memdeltad exit status $?"; fi

# A disk already full at start: SQLite cannot even create the -shm file, so
# the database cannot be opened.  memdeltad neither exits (a service
# manager would restart it into the same failure) nor spins: its web server
# answers, /healthz says why, one log line, and sampling starts by itself
# once there is room.
dd if=/dev/zero of="$M/filler" bs=4k >/dev/null 2>&1
rm -f "$M/db-shm"
start_daemon "$T/log2" -c "$T/md.conf" --db "$M/db"
if wait_for 10 storage_is_not_ok; then ok "full at start: /healthz answers, storage '$(field /healthz 'j["storage"]')' ($(field /healthz 'j["storage_error"]'))"
else fail "full at start: no /healthz or storage ok (log: $(tail -3 "$T/log2"))"; fi
sleep 3
kill -0 "$DPID" 2>/dev/null && ok "full at start: memdeltad keeps running" || fail "full at start: memdeltad exited (log: $(tail -3 "$T/log2"))"
n_open=$(grep -c 'cannot open the database' "$T/log2")
[ "$n_open" -eq 1 ] && grep -q 'trying again every' "$T/log2" && ok "full at start: one 'cannot open the database' line" ||
  fail "full at start: $n_open 'cannot open the database' lines"
rm -f "$M/filler"
if wait_for 25 written_at_least 2; then ok "full at start: once there is room, sampling starts by itself ($(written) snapshots)"
else fail "full at start: no snapshots after freeing the disk (log: $(tail -3 "$T/log2"))"; fi
grep -q "database $M/db opened: sampling starts" "$T/log2" && ok "full at start: the log says the database opened" ||
  fail "full at start: no 'opened' line"
if stop_daemon; then ok "full at start: SIGTERM exits 0"; else fail "full at start: exit status $?"; fi
echo "# figures: dropped $d2 snapshots while full, $n_err error line, $n_alert_log alert"
summary
