#!/usr/bin/env bash
# test_http_abuse.sh - bad HTTP input against a real memdeltad (issue 6,
# "Bad input: HTTP" and connection exhaustion), over raw sockets driven by
# tests/http_abuse.py: malformed requests (missing CRLF, oversized headers,
# duplicate Content-Length, Content-Length with Transfer-Encoding, NUL and
# control characters, unknown methods, HTTP/0.9, pipelined garbage, a header
# sent one byte per second), path traversal on the static files (404, and
# under strace no file outside the database and /proc is opened), Host and
# Origin (421, 403, no CORS header ever), query abuse (400/414, RSS bounded
# over 200 requests), more idle connections than [web] per_ip_limit.  After
# every case /healthz answers 200 and the daemon's pid is alive.  Also: a
# non-loopback listen without a token is refused by --check-config and at
# start, naming the key.
set -u
. "$(dirname "$0")/lib.sh"
S=${MD_SRCDIR:-$(dirname "$0")/..}
need_built "$MDD"
need_cmd python3 "python3 needed (.ci/deps)"
PY="$S/tests/http_abuse.py"

TIMEOUT=2 PER_IP=4
scratch_dir abuse
DPID='' SPID='' SLEEPER=''
CLEANUP_PIDS="SPID DPID SLEEPER"

# ---- a non-loopback listen without a token --------------------------------------
printf '[memdeltad]\nlisten = 0.0.0.0:7999\n' >"$T/open.conf"
rc=0
"$MDD" --check-config -c "$T/open.conf" --db "$T/never.db" >"$T/out" 2>"$T/err" || rc=$?
if [ "$rc" -ne 0 ] && grep -q 'listen' "$T/err" && grep -q 'token' "$T/err"; then
  ok "--check-config refuses listen = 0.0.0.0 without a token, naming listen and token (exit $rc)"
else fail "--check-config on a non-loopback listen without token (exit $rc: $(cat "$T/err" "$T/out"))"; fi
rc=0
timeout 10 "$MDD" -f -c "$T/open.conf" --db "$T/never.db" >"$T/out" 2>"$T/err" || rc=$?
if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && grep -q 'token' "$T/err" && [ ! -e "$T/never.db" ]; then
  ok "a real start with listen = 0.0.0.0 and no token exits $rc, naming the token, creating nothing"
else fail "start on a non-loopback listen without token (exit $rc: $(cat "$T/err"))"; fi
rc=0
timeout 10 "$MDD" -f --listen '[::]:7999' --db "$T/never.db" >"$T/out" 2>"$T/err" || rc=$?
if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && grep -q 'token' "$T/err"; then
  ok "--listen [::]:7999 without a token: exit $rc"
else fail "start on [::] without token (exit $rc: $(cat "$T/err"))"; fi

# ---- the daemon under test --------------------------------------------------------
PORT=$(free_port)
sleep 600 &
SLEEPER=$!
cat >"$T/md.conf" <<EOF
[memdeltad]
interval = 1
auto_top = 0

[web]
timeout = ${TIMEOUT}s
per_ip_limit = $PER_IP

[target sleeper]
pid = $SLEEPER
EOF
echo "canary: this file must never be served" >"$T/canary.txt"
# Under AddressSanitizer freed blocks wait in a quarantine (256 MiB by
# default) and the RSS bound would measure that: keep it small.
asan_quarantine "the RSS bound"
start_daemon "$T/log" -c "$T/md.conf" --db "$T/db"
healthy() { python3 -c '
import sys, urllib.request
urllib.request.urlopen(sys.argv[1], timeout=2).read()' "http://127.0.0.1:$PORT/healthz" 2>/dev/null; }
two_snapshots() { python3 -c '
import json, sys, urllib.request
t = json.load(urllib.request.urlopen(sys.argv[1] + "/api/v1/targets", timeout=2))["targets"]
s = json.load(urllib.request.urlopen(sys.argv[1] + "/api/v1/targets/%d/snapshots" % t[0]["id"], timeout=2))
sys.exit(0 if len(s["snapshots"]) >= 2 else 1)' "http://127.0.0.1:$PORT" 2>/dev/null; }
if wait_for 20 healthy && wait_for 20 two_snapshots; then ok "memdeltad serves on port $PORT with two snapshots"
else fail "memdeltad did not start (log: $(tail -5 "$T/log"))"; exit 1; fi

phase() {
  python3 "$PY" "$PORT" "$DPID" "$TIMEOUT" "$PER_IP" "$T" "$1" >"$T/$1.out" 2>&1
  local rc=$?
  cat "$T/$1.out"
  count_results "$T/$1.out"
  [ "$rc" -eq 0 ] || grep -q '^FAIL - ' "$T/$1.out" || fail "phase $1 exited $rc"
}

phase malformed

# Path traversal, under strace when it can attach: no file outside the
# database and /proc is opened while the traversal requests run.
if command -v strace >/dev/null && strace -o /dev/null true 2>/dev/null; then
  strace -f -qq -e trace=openat,open,openat2 -p "$DPID" -o "$T/strace.out" 2>"$T/strace.err" &
  SPID=$!
  # Attached once it reports something: wait for a tick's /proc reads.
  if ! wait_for 10 grep -q '/proc/' "$T/strace.out" 2>/dev/null; then
    # Attaching to a process that is not a child may be forbidden
    # (Yama ptrace_scope); that is a reason to skip, not a result.
    echo "# strace could not attach to memdeltad ($(head -c 200 "$T/strace.err"))"
    kill "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null; SPID=''
  fi
fi
phase traversal
if [ -n "$SPID" ]; then
  sleep 0.5
  kill "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null; SPID=''
  opened=$(grep -oE 'open(at2?)?\([^"]*"[^"]*"' "$T/strace.out" | sed 's/.*"\(.*\)"/\1/' | sort -u)
  n_opened=$(printf '%s\n' "$opened" | grep -c .)
  outside=$(printf '%s\n' "$opened" | grep -v -E -e '^/proc(/|$)' -e "^$T/db" | grep .)
  if [ "$n_opened" -gt 0 ] && [ -z "$outside" ] && ! grep -q canary "$T/strace.out"; then
    ok "strace: during the traversal requests the daemon opened $n_opened distinct files, all under /proc or the database; never the canary"
  else fail "strace: files opened outside /proc and the database: ${outside:-none} (of $n_opened)"; fi
else
  echo "# strace is not usable here: the check that no file is opened is skipped" \
    "(by code: web_static_find only compares the path with the embedded table, and" \
    "web/ opens no file but the database)"
fi

phase origin
phase query
phase exhaustion

if kill -0 "$DPID" 2>/dev/null; then ok "memdeltad survived every case"
else fail "memdeltad died (log: $(tail -5 "$T/log"))"; fi
rc=0
stop_daemon || rc=$?
[ "$rc" -eq 0 ] && ok "SIGTERM: clean exit" || fail "memdeltad exit status $rc after SIGTERM"

summary
