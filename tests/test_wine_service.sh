#!/usr/bin/env bash
# test_wine_service.sh - memdeltad.exe as a Windows service under wine, end to
# end.  Builds the Windows binaries with packaging/windows/build.sh (its
# dependency cache is reused; the cross-build tree is $MD_BUILDDIR/windows),
# makes a private WINEPREFIX, keeps its wineserver alive (-p: services stop
# when the last client exits otherwise), installs the service with
# `memdeltad.exe --install --config FILE` (watching winalloc.exe every second,
# UI on a free port of 127.0.0.1), starts it with `net start`, runs winalloc.exe
# (a reserve-only allocation, then private commits in steps) and asserts from
# Linux with curl: snapshots exist; between the first and the last snapshot
# the Private Data committed grew by the steps the diff lists as NEW (+-10%)
# and at least two steps are NEW; the reserve-only allocation is a reserve
# region; `net stop` stops the service (STOPPED, exit code 0); the database
# passes PRAGMA integrity_check; --uninstall removes the service.  "/" is the
# embedded UI's index.html; --check-config refuses a .cmd alert command.  An alert
# (threshold_mb = 1 on winalloc.exe) reaches the exec sink from the service:
# sinkcat.exe, configured by a C:\-style absolute path, writes the alert
# JSON it gets on stdin to a file, which must hold that alert.  md.conf has
# no log= setting: the service must log to the Event Log (its ReportEventW
# strings, seen on wine's eventlog debug channel) and say so in log_file.
# Skips (77) when wine cannot run; MD_SKIP_WINE=1 skips too.
set -u

S=${MD_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
B=${MD_BUILDDIR:-.}
skip() { echo "SKIP: $*"; exit 77; }
[ "${MD_SKIP_WINE:-0}" = 1 ] && skip "MD_SKIP_WINE=1"
for c in wine wineboot wineserver python3 curl sqlite3; do
  command -v "$c" >/dev/null || skip "$c not installed (.ci/deps, packaging/windows/build.sh)"
done

T=$(mktemp -d "${TMPDIR:-/tmp}/memdelta-wine-XXXXXX")
export WINEPREFIX="$T/prefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
fails=0 passes=0 WAPID=''
cleanup() {
  [ -n "$WAPID" ] && { touch "$T/stop.txt"; sleep 0.5; kill "$WAPID" 2>/dev/null; }
  wineserver -k 2>/dev/null
  wait 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT
ok() { passes=$((passes + 1)); echo "ok - $*"; }
fail() { fails=$((fails + 1)); echo "FAIL - $*"; }
wait_for() { # SECONDS command...: poll every 0.5 s
  local n=$(($1 * 2)); shift
  while [ "$n" -gt 0 ]; do "$@" && return 0; sleep 0.5; n=$((n - 1)); done
  return 1
}

# The Windows binaries.
bin=$(MD_WIN_BUILD="$B/windows" bash "$S/packaging/windows/build.sh" 2>"$T/build.log" | tail -n1)
if [ -z "$bin" ] || [ ! -f "$bin/memdeltad.exe" ]; then
  tail -n 30 "$T/build.log"
  echo "FAIL - packaging/windows/build.sh"
  exit 1
fi
cp "$bin/memdeltad.exe" "$bin/winalloc.exe" "$bin/sinkcat.exe" "$T/"

# A private prefix and a wineserver that outlives every client.
# The persistent server first, so that the prefix's services.exe and every
# later client share it (one service controller).
mkdir -p "$WINEPREFIX"
wineserver -p || skip "wineserver cannot start here"
timeout 300 wineboot -i >"$T/wineboot.log" 2>&1 || { cat "$T/wineboot.log"; skip "wine cannot start here"; }
timeout 60 wine cmd /c exit 0 >/dev/null 2>&1 </dev/null || skip "wine cannot run a program here"
# wineboot can leave two services.exe behind (a second one started while the
# first was coming up), and then a service created in one is not found or is
# "locked" in the other.  Restart the server: one service controller.
wineserver -k
wineserver -p || skip "wineserver cannot restart here"
# This client starts the service controller, and the services inherit its
# stderr and WINEDEBUG: wine keeps no Event Log, its ReportEventW writes
# each string to the eventlog debug channel, so services.err shows what the
# service logged there.
WINEDEBUG=-all,trace+eventlog,warn+eventlog,err+eventlog \
  timeout 60 wine sc query memdeltad >/dev/null 2>"$T/services.err" </dev/null

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
winpath() { echo "Z:$1" | tr / '\\'; }
cat >"$T/md.conf" <<EOF
[memdeltad]
db = $(winpath "$T/md.db")
listen = 127.0.0.1:$PORT
interval = 1
log_file = $(winpath "$T/memdeltad.log")

# The exec sink, run by the service: sinkcat.exe copies its stdin (the
# alert JSON) to the file named by its argument.
[alerts]
threshold_mb = 1
exec = $(winpath "$T/sinkcat.exe")
exec_args = "Z:$T/alert.json"
exec_timeout = 30s

[target winalloc]
name = winalloc.exe

# The same process by its command line (Toolhelp32 + the PEB, PCRE2's regex).
[target winalloc-cmdline]
cmdline = winalloc\\.exe"? +4 6 1500 64
EOF
URL="http://127.0.0.1:$PORT"
cd "$T" || exit 1

# A batch file as the alert command is refused (CreateProcessW would run it
# through cmd.exe): --check-config exits 2 and names the line.
printf '[alerts]\nthreshold_mb = 1\nexec = %s\n' 'C:\tools\Page.Cmd' >bat.conf
timeout 60 wine ./memdeltad.exe --check-config -c bat.conf >bat.out 2>&1 </dev/null
rc=$?
out=$(tr -d '\r' <bat.out)
if [ "$rc" -eq 2 ] && echo "$out" | grep -qF "bat.conf:3: exec: 'C:\\tools\\Page.Cmd' is a batch file"; then
  ok "--check-config refuses exec = C:\tools\Page.Cmd, naming line 3"
else
  fail "--check-config with a .cmd exec: rc $rc: $out"
fi

out=$(timeout 60 wine ./memdeltad.exe --install --config md.conf 2>&1 </dev/null)
if echo "$out" | grep -q "service installed"; then ok "--install: $(echo "$out" | grep "service installed")"; else fail "--install: $out"; fi
state() { timeout 30 wine sc query memdeltad 2>/dev/null </dev/null | tr -d '\r' | awk '/STATE/ {print $4}'; }
running() { [ "$(state)" = RUNNING ]; }
stopped() { [ "$(state)" = STOPPED ]; }
wait_for 20 stopped || fail "installed service is $(state), not STOPPED"

# Start the service.  wine's net start may not see a just-created service at
# once, or answer "Service database locked." while its controller is busy:
# try again a few times, then give the service a minute to report RUNNING.
for try in 1 2 3 4; do
  timeout 90 wine net start memdeltad >>"$T/netstart.log" 2>&1 </dev/null
  wait_for 20 running && break
done
wait_for 60 running
if running; then ok "net start: RUNNING"; else fail "net start: $(tr -d '\r' <"$T/netstart.log"), state $(state)"; fi
health() { curl -sf "$URL/healthz" >"$T/health" 2>/dev/null; }
wait_for 60 health && ok "the web server answers on 127.0.0.1:$PORT" || fail "no /healthz"
# The UI is embedded in memdeltad.exe: "/" is web/static/index.html, byte for byte.
ctype=$(curl -sf -o "$T/index.html" -w '%{content_type}' "$URL/" 2>/dev/null)
if [ "$ctype" = "text/html; charset=utf-8" ] && cmp -s "$T/index.html" "$S/web/static/index.html"; then
  ok "GET / is the UI's index.html ($(wc -c <"$T/index.html") bytes, $ctype)"
else
  fail "GET /: content type '$ctype', $(wc -c <"$T/index.html" 2>/dev/null || echo no) bytes"
fi

# The program under watch: 64 MiB reserve-only, then 6 steps of 4 MiB, 1.5 s apart.
wine ./winalloc.exe 4 6 1500 64 report.txt stop.txt >"$T/winalloc.out" 2>&1 &
WAPID=$!
done_() { grep -q '^done' "$T/report.txt" 2>/dev/null; }
wait_for 60 done_ || fail "winalloc.exe did not finish its steps: $(cat "$T/winalloc.out")"
sleep 3 # a snapshot after the last step

curl -sf "$URL/api/v1/targets" >"$T/targets.json" || fail "GET /api/v1/targets"
tid=$(python3 -c 'import json,sys; print(next(t["id"] for t in json.load(open(sys.argv[1]))["targets"] if t["name"] == "winalloc"))' "$T/targets.json" 2>/dev/null)
[ -n "$tid" ] && ok "target winalloc has id $tid" || fail "no target winalloc: $(cat "$T/targets.json")"
if python3 -c 'import json,sys; sys.exit(0 if any(t["name"] == "winalloc-cmdline" and t.get("last_snapshot") for t in json.load(open(sys.argv[1]))["targets"]) else 1)' "$T/targets.json" 2>/dev/null; then
  ok "the cmdline= target matched winalloc.exe's command line"
else
  fail "cmdline= target without snapshots: $(cat "$T/targets.json" | head -c 600)"
fi
curl -sf "$URL/api/v1/targets/$tid/snapshots" >"$T/snaps.json" || fail "GET snapshots"
read -r first last n < <(python3 -c '
import json,sys
s=[x for x in json.load(open(sys.argv[1]))["snapshots"]]
s.sort(key=lambda x: x["id"]); print(s[0]["id"], s[-1]["id"], len(s))' "$T/snaps.json" 2>/dev/null)
if [ "${n:-0}" -ge 3 ]; then ok "$n snapshots of winalloc.exe ($first..$last)"; else fail "snapshots: ${n:-none}"; fi
curl -sf "$URL/api/v1/diff?a=$first&b=$last" >"$T/diff.json" || fail "GET diff"
curl -sf "$URL/api/v1/targets/$tid/timeline" >"$T/timeline.json" || fail "GET timeline"
curl -sf "$URL/api/v1/snapshots/$last" >"$T/last.json" || fail "GET snapshot"

python3 - "$T" "$first" "$last" <<'EOF'
import json, sys
t, first, last = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rep = [l.split() for l in open(t + "/report.txt")]
commits = {int(l[1], 16): int(l[2]) for l in rep if l[0] == "commit"}
reserve = [(int(l[1], 16), int(l[2])) for l in rep if l[0] == "reserve"][0]
diff = json.load(open(t + "/diff.json"))
new = {e["base"]: e for e in diff["entries"] if e["kind"] == "new"}
new_steps = [b for b in commits if b in new]
fails = 0
def check(cond, msg):
    global fails
    print(("ok - " if cond else "FAIL - ") + msg)
    fails += 0 if cond else 1
check(len(new_steps) >= 2, "%d of %d commit steps are NEW in diff %d..%d" % (len(new_steps), len(commits), first, last))
check(all(new[b]["type"] == "private" and new[b]["state"] == "commit" and new[b]["size"] == commits[b]
          for b in new_steps), "the NEW steps are Private Data, committed, of the step's size")
tl = json.load(open(t + "/timeline.json"))
pi = tl["types"].index("private")
pts = {p["snapshot"]: p for p in tl["points"]}
if first in pts and last in pts:
    grew = pts[last]["committed"][pi] - pts[first]["committed"][pi]
    want = sum(commits[b] for b in new_steps)
    check(want > 0 and abs(grew - want) <= want / 10,
          "Private Data committed grew %d bytes, the NEW steps total %d (+-10%%)" % (grew, want))
else:
    check(False, "timeline points of snapshots %d and %d" % (first, last))
snap = json.load(open(t + "/last.json"))
r = [x for x in snap["regions"] if x["base"] == reserve[0]]
check(len(r) == 1 and r[0]["state"] == "reserve" and r[0]["size"] == reserve[1],
      "the reserve-only allocation at %#x is a %d-byte reserve region: %s" % (reserve[0], reserve[1], r[:1]))
sys.exit(1 if fails else 0)
EOF
if [ $? -eq 0 ]; then passes=$((passes + 4)); else fails=$((fails + 1)); fi

# The alert's command ran from the service and got the alert on stdin.
got_alert() { [ -s "$T/alert.json" ]; }
if wait_for 60 got_alert &&
   python3 -c '
import json, sys
a = json.load(open(sys.argv[1]))
sys.exit(0 if a["rule"] == "threshold" and a["target"]["name"].startswith("winalloc") else 1)' \
     "$T/alert.json" 2>"$T/alert.err"; then
  ok "the exec sink ran sinkcat.exe from the service: $(head -c 120 "$T/alert.json")"
else
  fail "exec sink: $(head -c 300 "$T/alert.json" 2>&1) $(cat "$T/alert.err" 2>/dev/null)"
fi

timeout 90 wine net stop memdeltad >"$T/netstop.log" 2>&1 </dev/null
rc=$?
wait_for 30 stopped
code=$(timeout 30 wine sc query memdeltad 2>/dev/null </dev/null | tr -d '\r' | awk '/SERVICE_EXIT_CODE/ {print $3}')
if [ "$rc" -eq 0 ] && stopped && [ "${code:-x}" = 0 ]; then
  ok "net stop: STOPPED, exit code 0"
else
  fail "net stop: rc $rc, state $(state), exit code ${code:-?}: $(tr -d '\r' <"$T/netstop.log")"
fi
if grep -q "watching process .* (winalloc.exe)" "$T/memdeltad.log" 2>/dev/null &&
   grep -q "stop requested" "$T/memdeltad.log"; then
  ok "log_file has the watch and the stop"
else
  fail "log_file: $(cat "$T/memdeltad.log" 2>&1 | tail -n 5)"
fi
# No log= in md.conf: the service logs to the Event Log and says so once
# (log_file shows it).  Under the previous default (stderr) both checks
# fail: a service's stderr leads nowhere, under wine as on Windows (its
# lines do not even reach services.err).
if grep -q "running as a service without a log= setting: logging to the system log" \
     "$T/memdeltad.log" 2>/dev/null; then
  ok "log_file: the service chose the Event Log"
else
  fail "log_file does not say the Event Log was chosen: $(head -n 3 "$T/memdeltad.log" 2>&1)"
fi
if grep -q 'eventlog:ReportEventW L"memdeltad_main: memdeltad .*UI http://127.0.0.1:'"$PORT" \
     "$T/services.err" && grep -q 'eventlog:ReportEventW L"watch_add: .*(winalloc.exe)' \
     "$T/services.err"; then
  ok "the start-up and watch lines went to ReportEventW (wine's eventlog channel)"
else
  fail "no memdeltad lines through ReportEventW: $(grep -c eventlog "$T/services.err" 2>&1) eventlog lines"
fi
ic=$(sqlite3 "$T/md.db" 'PRAGMA integrity_check' 2>&1)
[ "$ic" = ok ] && ok "PRAGMA integrity_check: ok" || fail "integrity_check: $ic"
out=$(timeout 60 wine ./memdeltad.exe --uninstall 2>&1 </dev/null)
echo "$out" | grep -q 'service removed' && ok "--uninstall" || fail "--uninstall: $out"

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
