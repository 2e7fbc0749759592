# lib.sh - the scaffolding shared by the shell tests (tests/test_*.sh), sourced
# by them with `. "$(dirname "$0")/lib.sh"`.  It is not a test of its own
# (not in TESTS) and never writes next to itself: make distcheck runs the
# tests from a read-only source tree.
#
# Plain sh (dash runs it for test_e2e.sh and test_walkthrough.sh); the
# functions the bash tests alone call (http_raw: /dev/tcp) only run in bash.
# Safe under `set -u`: every variable it reads has a default.
#
# Variables it sets when sourced:
#   passes, fails   the counts of ok and fail (0)
#   B               $MD_BUILDDIR, or . when unset
#   MDD, MD         $B/memdeltad, $B/memdelta
#   GROWER          $B/tests/grower
# Variables the functions use are named in each function's comment.

passes=0 fails=0
B=${MD_BUILDDIR:-.}
MDD="$B/memdeltad"
MD="$B/memdelta"
GROWER="$B/tests/grower"

# abs_builddir: make B absolute and set MDD, MD and GROWER again from it
# (for tests that run them from another directory).
abs_builddir() {
  local d
  d=$(cd "$B" 2>/dev/null && pwd) || skip "no build directory $B"
  B=$d
  MDD="$B/memdeltad"
  MD="$B/memdelta"
  GROWER="$B/tests/grower"
}

# ---- results -------------------------------------------------------------------

# ok TEXT / fail TEXT: print "ok - TEXT" / "FAIL - TEXT" and count it in
# passes / fails.
ok() {
  passes=$((passes + 1))
  echo "ok - $*"
}
fail() {
  fails=$((fails + 1))
  echo "FAIL - $*"
}

# summary: print "# P passed, F failed"; true when nothing failed (the last
# command of a test, so that its status is the test's exit status).
summary() {
  echo "# $passes passed, $fails failed"
  [ "$fails" -eq 0 ]
}

# count_results FILE: add the "ok - " and "FAIL - " lines of FILE (the
# output of a helper that reports its own checks) to passes and fails.
count_results() {
  passes=$((passes + $(grep -c '^ok - ' "$1")))
  fails=$((fails + $(grep -c '^FAIL - ' "$1")))
}

# ---- skips -----------------------------------------------------------------------

# skip REASON: print "SKIP: REASON" and exit 77 (automake's "skipped").
skip() {
  echo "SKIP: $*"
  exit 77
}

# need_built FILE...: skip unless every FILE is an executable ("FILE not built").
need_built() {
  local f
  for f in "$@"; do
    [ -x "$f" ] || skip "$f not built"
  done
}

# need_cmd COMMAND WHY: skip with "WHY" unless COMMAND is on the PATH.
need_cmd() {
  command -v "$1" >/dev/null 2>&1 || skip "$2"
}

# ---- waiting ----------------------------------------------------------------------

# wait_for SECONDS COMMAND...: run COMMAND every 0.2 s until it succeeds
# (true) or SECONDS have gone by (false).
wait_for() {
  local n=$(($1 * 5))
  shift
  while [ "$n" -gt 0 ]; do
    "$@" && return 0
    sleep 0.2
    n=$((n - 1))
  done
  return 1
}

# ---- scratch directory and clean-up --------------------------------------------------

# scratch_dir NAME: set T to a new directory ${TMPDIR:-/tmp}/memdelta-NAME-XXXXXX
# and trap EXIT to clean_up.
scratch_dir() {
  T=$(mktemp -d "${TMPDIR:-/tmp}/memdelta-$1-XXXXXX") || exit 1
  trap clean_up EXIT
}

# clean_up (the EXIT trap of scratch_dir), in this order:
#   - cleanup_first, when the test defines it;
#   - closes the file descriptors listed in CLEANUP_FDS (numbers; the
#     growers' stdin: closing them ends the growers);
#   - sends SIGTERM to the pids held by the variables named in CLEANUP_PIDS
#     (each may hold a list or be empty) and waits for every child;
#   - cleanup_last, when the test defines it;
#   - removes $T, unless MD_KEEP is set (then it prints where $T is).
clean_up() {
  local fd v p
  if command -v cleanup_first >/dev/null 2>&1; then cleanup_first; fi
  for fd in ${CLEANUP_FDS:-}; do
    eval "exec $fd>&-" 2>/dev/null
  done
  for v in ${CLEANUP_PIDS:-}; do
    for p in $(eval "echo \${$v:-}"); do
      kill "$p" 2>/dev/null
    done
  done
  wait 2>/dev/null
  if command -v cleanup_last >/dev/null 2>&1; then cleanup_last; fi
  if [ -n "${MD_KEEP:-}" ]; then
    echo "# kept ${T:-}"
  else
    rm -rf "${T:-}"
  fi
}

# ---- growers ------------------------------------------------------------------------

# abs_path FILE: FILE with an absolute directory.
abs_path() {
  echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
}

# start_grower NAME FIFO OUT FD: run $GROWER as $T/NAME (a symlink to it,
# made if missing, so that comm and argv[0] are NAME and other tests'
# growers are no match for the target), stdin from the fifo $T/FIFO (made
# anew), stdout and stderr to $T/OUT; then open fd FD (a number) for
# writing to the fifo: its commands go there, and closing it ends the
# grower.  Sets GPID and adds it to GPIDS.  Pass environment variables
# (GROWER_DIR) before the call.  Does not wait for "ready": grower_ready.
start_grower() {
  [ -e "$T/$1" ] || [ -L "$T/$1" ] || ln -s "$(abs_path "$GROWER")" "$T/$1"
  rm -f "$T/$2"
  mkfifo "$T/$2"
  "$T/$1" <"$T/$2" >"$T/$3" 2>&1 &
  GPID=$!
  GPIDS="${GPIDS:-} $GPID"
  eval "exec $4>\"\$T/\$2\""
}

# grower_ready OUT: wait up to 5 s for "ready" in the grower's output $T/OUT.
grower_ready() {
  wait_for 5 grep -q ready "$T/$1"
}

# ---- memdeltad and HTTP ------------------------------------------------------------------

# free_port: print a TCP port free on 127.0.0.1 (python3).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_daemon LOG ARGS...: run "$MDD -f ARGS --listen 127.0.0.1:$PORT" (the
# test sets PORT: free_port) in the background, its stdout and stderr to
# LOG, fds 3 to 9 closed (so that it holds no grower's fifo open); sets DPID.
start_daemon() {
  local log=$1
  shift
  "$MDD" -f "$@" --listen "127.0.0.1:$PORT" >"$log" 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
  DPID=$!
}

# stop_daemon [SIGNAL]: send SIGNAL (TERM) to $DPID, wait for it, clear DPID;
# returns memdeltad's exit status (0 when DPID is empty).
stop_daemon() {
  local rc=0
  [ -n "${DPID:-}" ] || return 0
  kill "-${1:-TERM}" "$DPID" 2>/dev/null
  wait "$DPID" 2>/dev/null || rc=$?
  DPID=''
  return "$rc"
}

# http_body PATH: GET PATH (it starts with /) from 127.0.0.1:$PORT, the body
# on stdout; false on an error or a status of 400 or more.  Timeout:
# $HTTP_TIMEOUT seconds (5).
http_body() {
  python3 - "http://127.0.0.1:$PORT$1" "${HTTP_TIMEOUT:-5}" <<'EOF'
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=float(sys.argv[2])) as r:
    sys.stdout.buffer.write(r.read())
EOF
}

# field PATH EXPR: print the python expression EXPR on the JSON of GET PATH
# (as j; d is the same object), or nothing on an error.  Uses PORT and
# HTTP_TIMEOUT (5 s).
field() {
  python3 - "http://127.0.0.1:$PORT$1" "$2" "${HTTP_TIMEOUT:-5}" <<'EOF' 2>/dev/null
import json, sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=float(sys.argv[3])) as r:
    j = d = json.load(r)
print(eval(sys.argv[2]))
EOF
}

# http_raw PATH (bash only): the whole response to GET PATH (status line,
# headers, body) from 127.0.0.1:$PORT through bash's /dev/tcp, for tests
# that must not need curl or python; uses fd 4, reads for at most 5 s.
http_raw() {
  exec 4<>"/dev/tcp/127.0.0.1/$PORT" || return 1
  printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1:%s\r\n\r\n' "$1" "$PORT" >&4
  timeout 5 cat <&4
  exec 4>&-
}

# asan_quarantine WHAT: in an AddressSanitizer build of $MDD, export a
# 1 MiB quarantine (freed blocks otherwise wait in 256 MiB of it, which an
# RSS check would measure), say so for WHAT; true in such a build.
asan_quarantine() {
  if ldd "$MDD" 2>/dev/null | grep -q libasan || nm "$MDD" 2>/dev/null | grep -q __asan_init; then
    export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1"
    echo "# AddressSanitizer build: quarantine_size_mb=1 for $1"
    return 0
  fi
  return 1
}

# ---- the browser tests (test_e2e.sh, test_walkthrough.sh) -----------------------------------

# node_setup NODEDIR FILE...: playwright-core in NODEDIR, installed by `npm
# ci` from tests/e2e/package.json and package-lock.json of the source tree
# ($MD_SRCDIR, or the directory above this script: the pinned versions)
# unless the same lock file is installed there already; then the FILEs of
# tests/e2e copied beside node_modules (so that their imports of
# playwright-core resolve) and made writable (the next copy overwrites
# them; distcheck's sources are read-only).  Skips when npm ci fails (no
# network); exits 1 when a FILE cannot be copied.  Needs npm, and node 18
# or later (checked here).
node_setup() {
  local nodedir=$1 src f
  src="${MD_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}/tests/e2e"
  shift
  node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null)
  [ "${node_major:-0}" -ge 18 ] || skip "playwright-core 1.61 needs Node.js 18 or later (found $(node --version 2>&1))"
  mkdir -p "$nodedir" || skip "cannot create $nodedir"
  if ! cmp -s "$src/package-lock.json" "$nodedir/package-lock.json" ||
    [ ! -f "$nodedir/node_modules/playwright-core/package.json" ]; then
    if ! cp "$src/package.json" "$src/package-lock.json" "$nodedir/" ||
      ! chmod u+w "$nodedir/package.json" "$nodedir/package-lock.json"; then
      skip "cannot copy package.json to $nodedir"
    fi
    echo "npm ci (playwright-core) in $nodedir"
    (cd "$nodedir" && timeout 300 npm ci --no-audit --no-fund --loglevel=error >npm.log 2>&1) ||
      {
        rm -f "$nodedir/package-lock.json"
        skip "npm ci of playwright-core failed (no network?): see $nodedir/npm.log"
      }
  fi
  for f in "$@"; do
    if ! cp "$src/$f" "$nodedir/$f" || ! chmod u+w "$nodedir/$f"; then
      echo "FAIL: cannot copy $f to $nodedir"
      exit 1
    fi
  done
}

# run_node SECONDS SCRIPT WHAT: run node SCRIPT with the environment of the
# browser tests (MD_MEMDELTAD=$MDD, MD_GROWER=$GROWER, MD_SCRATCH=$T,
# MD_ARTIFACTS=$ARTIFACTS, MD_CHROMIUM=/usr/bin/chromium), killed after
# SECONDS ("FAIL: WHAT did not finish in SECONDS s"); exits with its status.
run_node() {
  local rc
  MD_MEMDELTAD="$MDD" MD_GROWER="$GROWER" MD_SCRATCH="$T" \
    MD_ARTIFACTS="$ARTIFACTS" MD_CHROMIUM=/usr/bin/chromium \
    timeout -k 10 "$1" node "$2"
  rc=$?
  [ $rc = 124 ] && echo "FAIL: $3 did not finish in $1 s"
  exit $rc
}
