#!/usr/bin/env bash
# test_cli.sh - the memdelta CLI end to end: snapshot formats, diff of JSON files
# and of stored snapshots, record/list/show, and the messages and exit codes of
# bad input (unknown pid, kernel thread, zombie, no permission, malformed JSON).
# Drives $MD_BUILDDIR/memdelta against $MD_BUILDDIR/tests/grower, a helper that
# grows memory on command.
set -u
. "$(dirname "$0")/lib.sh"
need_built "$MD" "$GROWER"
need_cmd python3 "python3 needed to read JSON"

scratch_dir cli
GPID=''
CLEANUP_PIDS=GPID

check() { # description command...
  local d=$1; shift
  if "$@"; then ok "$d"; else fail "$d"; fi
}
# expect_exit CODE PATTERN description -- command...: exit status and stderr pattern.
expect_exit() {
  local code=$1 pat=$2 d=$3; shift 4
  local rc=0
  "$@" >"$T/out" 2>"$T/err" || rc=$?
  if [ "$rc" -eq "$code" ] && grep -qE -- "$pat" "$T/err"; then ok "$d"
  else fail "$d (exit $rc, stderr: $(head -c 300 "$T/err"))"; fi
}
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }

# The helper: commands on its stdin, one reply line each.
coproc GROWER_PROC { exec "$GROWER"; }
GPID=$GROWER_PROC_PID
read -r line <&"${GROWER_PROC[0]}"
[ "$line" = ready ] || { echo "FAIL - grower did not start ($line)"; exit 1; }
send() { echo "$1" >&"${GROWER_PROC[1]}"; read -r reply <&"${GROWER_PROC[0]}"; echo "$reply"; }

# --- snapshot formats
check "snapshot table has the type summary" \
  bash -c "'$MD' snapshot $GPID > '$T/table' && grep -q '^Type (KiB)' '$T/table' && grep -q '^Heap ' '$T/table' && grep -q '^Committed ' '$T/table'"
check "snapshot json names the process" \
  bash -c "'$MD' snapshot $GPID --format=json -o '$T/a.json' && [ \"\$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d[\"pid\"], d[\"name\"])' '$T/a.json')\" = '$GPID grower' ]"
check "snapshot csv header and one line per region" \
  bash -c "'$MD' snapshot $GPID --format=csv -o '$T/a.csv' && head -1 '$T/a.csv' | grep -q '^base,size,allocation_base,type,state,protection,committed,resident,private,shared,pss,swap,locked,detail$' && [ \$(( \$(wc -l < '$T/a.csv') - 1 )) -ge 10 ]"

check "snapshot table says when a region budget truncated the list" \
  bash -c "'$MD' snapshot $GPID --max-regions 5 > '$T/trunc' && grep -q '^Snapshot: .*, 5 regions, TRUNCATED (region or time budget reached)' '$T/trunc' && ! grep -q TRUNCATED '$T/table'"

# --- diff of two JSON files: 32 MiB of private data is NEW and committed
reply=$(send "private 32M")
case "$reply" in ok*) ;; *) fail "grower private: $reply" ;; esac
"$MD" snapshot "$GPID" --format=json -o "$T/b.json" || fail "second snapshot"
"$MD" diff "$T/a.json" "$T/b.json" --format=json -o "$T/d.json" || fail "diff json"
new_private=$(json "$T/d.json" "d['totals']['types']['private']['committed_delta']")
if [ "${new_private:-0}" -ge $((32 * 1024 * 1024)) ] && [ "$new_private" -le $((36 * 1024 * 1024)) ]; then
  ok "diff: private committed grew by 32 MiB ($new_private bytes)"
else fail "diff: private committed delta is '$new_private', expected ~32 MiB"; fi
check "diff: a NEW entry of 32 MiB" \
  bash -c "python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if any(e[\"kind\"]==\"new\" and e[\"size\"]>=32<<20 for e in d[\"entries\"]) else 1)' '$T/d.json'"
check "diff table: no color codes when not a terminal" \
  bash -c "'$MD' diff '$T/a.json' '$T/b.json' > '$T/dt' && grep -q '^new ' '$T/dt' && ! grep -q \$'\\033' '$T/dt'"
check "diff csv lists the new range" \
  bash -c "'$MD' diff '$T/a.json' '$T/b.json' --format=csv | grep -q '^new,0x'"

# --- record, list, show, diff from the database
check "record 3 snapshots" "$MD" record "$GPID" --interval 0 --count 3 --db "$T/r.db" --target grower-test
check "list shows 3 snapshots of the target" \
  bash -c "[ \$('$MD' list --db '$T/r.db' | grep -c ' grower-test ') -eq 3 ]"
stored_regions=$("$MD" list --db "$T/r.db" | awk '$1 == 3 {print $6}')
"$MD" show --db "$T/r.db" 3 --format=csv > "$T/s.csv"
shown_regions=$(( $(wc -l < "$T/s.csv") - 1 ))
if [ -n "$stored_regions" ] && [ "$stored_regions" -gt 10 ] && [ "$shown_regions" -eq "$stored_regions" ]; then
  ok "show rebuilds stored snapshot 3 with all its $stored_regions regions"
else fail "show: $shown_regions regions rebuilt, list says '$stored_regions'"; fi
send "private 8M" >/dev/null
"$MD" record "$GPID" --interval 0 --count 1 --db "$T/r.db" --target grower-test >/dev/null
db_delta=$("$MD" diff --db "$T/r.db" 3 4 --format=json | python3 -c "import json,sys; print(json.load(sys.stdin)['totals']['types']['private']['committed_delta'])")
if [ "${db_delta:-0}" -ge $((8 * 1024 * 1024)) ] && [ "$db_delta" -le $((10 * 1024 * 1024)) ]; then
  ok "diff --db: 8 MiB of private data between stored snapshots ($db_delta bytes)"
else fail "diff --db: delta '$db_delta', expected ~8 MiB"; fi

# --- help, version and Ctrl-C during record (memdelta(1) OPTIONS and SIGNALS)
check "--version prints the version" bash -c "'$MD' --version | grep -qxE 'memdelta [0-9]+\.[0-9]+\.[0-9]+.*'"
check "-h after a command prints the usage, exit 0" bash -c "'$MD' record -h | grep -q '^usage: memdelta snapshot'"
expect_exit 2 'usage: memdelta' "--version after a command: exit 2" -- "$MD" list --version
# A background job of a script ignores SIGINT; python restores the default
# action, as a terminal's Ctrl-C would find it.
python3 -c 'import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])' \
  "$MD" record "$GPID" --interval 1 --count 1000 --db "$T/int.db" >"$T/int.out" 2>"$T/int.err" &
RPID=$!
stored_int() { [ "$("$MD" list --db "$T/int.db" 2>/dev/null | grep -c ' grower ')" -ge 2 ]; }
if wait_for 30 stored_int; then
  kill -INT "$RPID"
  rc=0; wait "$RPID" || rc=$?
  n_int=$("$MD" list --db "$T/int.db" | grep -c ' grower ')
  if [ "$rc" -eq 130 ] && [ "$n_int" -ge 2 ] && [ "$n_int" -lt 1000 ] && [ ! -s "$T/int.out" ] &&
     "$MD" show --db "$T/int.db" "$n_int" --format=csv >/dev/null &&
     "$MD" record "$GPID" --interval 0 --count 1 --db "$T/int.db" >/dev/null &&
     [ "$("$MD" list --db "$T/int.db" | grep -c ' grower ')" -eq $((n_int + 1)) ]; then
    ok "SIGINT ends record at once (status $rc): its $n_int snapshots stay, no summary, the database takes more"
  else fail "SIGINT during record: status $rc, $n_int snapshots, stdout '$(head -c 200 "$T/int.out")'"; fi
else
  kill "$RPID" 2>/dev/null; wait "$RPID" 2>/dev/null
  fail "record stored fewer than 2 snapshots in 30 s ($(head -c 300 "$T/int.err"))"
fi

# --- bad input
expect_exit 1 'no such process' "unknown pid: exit 1, no such process" -- "$MD" snapshot 999999999
expect_exit 2 'is not a process id' "non-numeric pid: exit 2" -- "$MD" snapshot abc
expect_exit 2 'unknown command' "unknown command: exit 2" -- "$MD" frobnicate
printf '{"pid": 1, "regions": [ {"base": 1,, } ] }' > "$T/bad.json"
expect_exit 2 "bad.json: malformed JSON at byte offset [0-9]+" "malformed JSON: exit 2 naming file and offset" -- "$MD" diff "$T/bad.json" "$T/a.json"
echo '{"pid": 1}' > "$T/notsnap.json"
expect_exit 2 "notsnap.json: not a memdelta snapshot" "valid JSON that is not a snapshot: exit 2" -- "$MD" diff "$T/notsnap.json" "$T/a.json"
expect_exit 2 'no snapshot 99' "unknown snapshot id: exit 2" -- "$MD" diff --db "$T/r.db" 1 99
if [ "$(cat /proc/2/comm 2>/dev/null)" = kthreadd ]; then
  expect_exit 1 'kernel thread' "kernel thread: exit 1, says so" -- "$MD" snapshot 2
else echo "# skip kernel thread case: pid 2 is not kthreadd here"; fi
# A zombie: a child that exits while its parent sleeps without reaping it.
bash -c 'sleep 0 & exec sleep 30' &
zparent=$!
# (polled: on a loaded machine the child may take longer than a fixed wait)
zombie_child() {
  zpid=$(ps -o pid= --ppid "$zparent" | tr -d ' ' | head -1)
  [ -n "$zpid" ] && [ "$(awk '{print $3}' /proc/"$zpid"/stat 2>/dev/null)" = Z ]
}
if wait_for 10 zombie_child; then
  expect_exit 1 'zombie' "zombie: exit 1, says so" -- "$MD" snapshot "$zpid"
else fail "could not make a zombie to test"; fi
kill "$zparent" 2>/dev/null
# No permission: as an unprivileged user, the grower (ours, root's) is unreadable.
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
  # A copy the unprivileged user can execute, whatever the build dir's modes.
  chmod 755 "$T" && cp "$MD" "$T/memdelta-nobody" && chmod 755 "$T/memdelta-nobody"
  expect_exit 1 'root or CAP_SYS_PTRACE' "no permission: exit 1, names root or CAP_SYS_PTRACE" -- \
    setpriv --reuid=65534 --regid=65534 --clear-groups "$T/memdelta-nobody" snapshot "$GPID"
else echo "# skip permission case: needs root and setpriv"; fi

summary
