#!/usr/bin/env bash
# test_wine.sh - the Check unit tests cross-built for Windows and run under
# wine64, each .exe in a private WINEPREFIX (packaging/windows/build.sh makes
# the cross-build tree $MD_BUILDDIR/windows and reuses its dependency cache).
# Run: check_snapshot, check_diff, check_store (a real SQLite file on the
# wine drive), check_windows_regions, check_ini (snapshot/compat/ini.c, the daemon's
# INI reader on Windows), and check_snapshot_linux's parser and
# classifier cases, one CK_RUN_CASE each (its snapshot_collect case drives the
# Linux collector on recorded /proc trees; on Windows snapshot_collect is the
# VirtualQueryEx collector), and check_sinks (the alert sinks' Windows half:
# the command sink runs tests/win/sinkcat.exe through CreateProcessW and a Job
# object, argv round trips through the C runtime's parser, and the webhook
# POSTs with WinHTTP to tests/hook_receiver running natively on 127.0.0.1,
# which answers 500 once, and to one that always does: the backoff's waits and
# a stop during them), check_trend (the leak detector's statistics, with the
# MinGW C runtime's math), check_store_alert (alerts and their evidence in a
# real SQLite file on the wine drive) and check_alerts (the alert engine on
# such a file: trend, threshold and map-count rules, restarts, evidence).
# Also: memdeltad.exe and memdelta.exe import only Windows system DLLs
# (static linking; objdump -p).
# Not run: check_live (live Linux processes and /proc), check_web (its client
# uses POSIX sockets) and check_config (its sd_notify case needs AF_UNIX
# datagrams and its proc_list_read case a /proc tree).  Skips (77) when wine
# cannot run; MD_SKIP_WINE=1 skips too.
set -u

S=${MD_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
B=${MD_BUILDDIR:-.}
skip() { echo "SKIP: $*"; exit 77; }
[ "${MD_SKIP_WINE:-0}" = 1 ] && skip "MD_SKIP_WINE=1"
for c in wine wineboot wineserver; do
  command -v "$c" >/dev/null || skip "$c not installed (.ci/deps, packaging/windows/build.sh)"
done
tests=(check_snapshot check_diff check_store check_windows_regions check_snapshot_linux check_ini
       check_sinks check_trend check_store_alert check_alerts)
# Runs: EXE or EXE:TCASE (Check's CK_RUN_CASE).
runs=(check_snapshot check_diff check_store check_windows_regions check_ini
      check_snapshot_linux:smaps_parse_buffer check_snapshot_linux:smaps_parse_line
      check_snapshot_linux:linux_parse_small check_snapshot_linux:linux_classify
      check_sinks check_trend check_store_alert check_alerts)
RECV="$B/tests/hook_receiver"
[ -x "$RECV" ] || { echo "FAIL - $RECV is not built (make check builds it)"; exit 1; }

T=$(mktemp -d "${TMPDIR:-/tmp}/memdelta-winunit-XXXXXX")
export WINEPREFIX="$T/prefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
cleanup() { exec 5>&- 6>&- 2>/dev/null; wineserver -k 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT

W="$B/windows"
if ! MD_WIN_BUILD="$W" bash "$S/packaging/windows/build.sh" >"$T/build.log" 2>&1 ||
   ! make -s -C "$W" -j2 $(printf 'tests/%s.exe ' "${tests[@]}") tests/win/sinkcat.exe \
     >>"$T/build.log" 2>&1; then
  tail -n 30 "$T/build.log"
  echo "FAIL - the Windows build of the unit tests"
  exit 1
fi

# The persistent server first, so that the prefix's services.exe and every
# later client share it (one service controller).
mkdir -p "$WINEPREFIX"
wineserver -p || skip "wineserver cannot start here"
timeout 300 wineboot -i >"$T/wineboot.log" 2>&1 || { cat "$T/wineboot.log"; skip "wine cannot start here"; }
timeout 60 wine cmd /c exit 0 >/dev/null 2>&1 </dev/null || skip "wine cannot run a program here"

W=$(cd "$W" && pwd)

# check_sinks' webhook receiver, a Linux program on 127.0.0.1 (wine's
# sockets are the host's); it exits when its stdin (fd 5) closes.
# One answers 500 once, the other always.
mkdir -p "$T/hooks" "$T/hooks500"
exec 5> >(exec "$RECV" "$T/hooks" 1 >"$T/recv.out" 2>&1)
exec 6> >(exec "$RECV" "$T/hooks500" 1000000 >"$T/recv500.out" 2>&1)
for _ in $(seq 50); do
  grep -q '^port ' "$T/recv.out" 2>/dev/null && grep -q '^port ' "$T/recv500.out" 2>/dev/null && break
  sleep 0.1
done
HPORT=$(awk '/^port /{print $2}' "$T/recv.out")
HPORT500=$(awk '/^port /{print $2}' "$T/recv500.out")
[ -n "$HPORT" ] && [ -n "$HPORT500" ] ||
  { echo "FAIL - the hook receivers did not start: $(cat "$T/recv.out" "$T/recv500.out")"; exit 1; }

fails=0 passes=0
# Statically linked: the two programs import only DLLs every Windows has
# (checked in the import tables with MinGW's objdump).
system_dlls='^(ADVAPI32|KERNEL32|WINHTTP|WS2_32|msvcrt|ntdll|PSAPI|USER32|bcrypt|CRYPT32|SHELL32|ole32)\.dll$'
for exe in memdeltad.exe memdelta.exe; do
  dlls=$(x86_64-w64-mingw32-objdump -p "$W/$exe" 2>/dev/null | sed -n 's/^[[:space:]]*DLL Name: //p' | sort -u | tr '\n' ' ')
  other=$(echo "$dlls" | tr ' ' '\n' | grep -v '^$' | grep -viE "$system_dlls")
  if [ -n "$dlls" ] && [ -z "$other" ]; then passes=$((passes + 1)); echo "ok - $exe imports only system DLLs: $dlls"
  else fails=$((fails + 1)); echo "FAIL - $exe imports ${other:-nothing readable} (all: $dlls)"; fi
done
for r in "${runs[@]}"; do
  t=${r%%:*} case=""
  [ "$t" = "$r" ] || case=${r#*:}
  # Output to a file: wine's service processes would hold a pipe open.
  ( [ -n "$case" ] && export CK_RUN_CASE="$case"
    MD_FIXTURES="Z:$S/tests/fixtures" TMP="Z:$T" MD_SINKCAT="Z:$W/tests/win/sinkcat.exe" \
    MD_HOOK_URL="http://127.0.0.1:$HPORT/hook" MD_HOOK_DIR="Z:$T/hooks" \
    MD_HOOK_FAIL_URL="http://127.0.0.1:$HPORT500/hook" MD_HOOK_FAIL_DIR="Z:$T/hooks500" \
      timeout 600 wine "$W/tests/$t.exe" >"$T/run.log" 2>&1 </dev/null )
  rc=$?
  summary=$(tr -d '\r' <"$T/run.log" | grep -E '^[0-9]+%: Checks' | tail -n1)
  if [ "$rc" -eq 0 ] && [ -n "$summary" ]; then
    passes=$((passes + 1)); echo "ok - $r.exe: $summary"
  else
    fails=$((fails + 1)); echo "FAIL - $r (exit $rc)"; tr -d '\r' <"$T/run.log" | tail -n 20
  fi
done
echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
