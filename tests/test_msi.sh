#!/usr/bin/env bash
# test_msi.sh - the Windows packages (packaging/windows/package.sh) end to end.
# Builds the zip and the MSI (the cross-build tree is $MD_BUILDDIR/windows, as
# for the other wine tests), then:
#   - the MSI's tables (msiinfo): the four files in one folder memdelta under
#     ProgramFiles64Folder, 64-bit components, memdeltad.conf's alone
#     permanent and never-overwrite, the service memdeltad (own process,
#     automatic start, -c with the installed memdeltad.conf), its control
#     (start on install, stop on install and uninstall, remove on uninstall,
#     wait), ProductVersion = configure's PACKAGE_VERSION, the UpgradeCode of
#     memdelta.wxs;
#   - the zip's listing (unzip -l), and that the zip, the MSI's cabinet
#     (msiextract) and the build hold the same bytes;
#   - under wine, in a private WINEPREFIX and a private network namespace
#     (the packaged configuration listens on the fixed port 7373: a namespace
#     of its own keeps it from meeting anything else on this machine),
#     `msiexec /i X.msi /qn`: the files under C:\Program Files\memdelta, the
#     service registered (ImagePath, automatic start, LocalSystem) and
#     RUNNING, /healthz from Linux's curl on 127.0.0.1:7373 with the package's
#     version, the database under the service's %ProgramData%, memdelta.exe
#     reading it; then the configuration edited (another port) and the
#     service restarted answers on the new port only, which shows the service
#     runs with the installed file; an MSI of the same files one version up
#     (package.sh with MD_WIN_MSI_VERSION) replaces the installed one, keeps
#     the edited configuration and runs; `msiexec /x /qn` removes the
#     service, the programs and the README, and leaves the configuration and
#     the database.
# Skips (77) without wine, wixl, msitools, unzip, curl, python3 or
# unshare/ip (root is needed for the network namespace), or with
# MD_SKIP_WINE=1.
set -u

S=${MD_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
B=${MD_BUILDDIR:-.}
skip() { echo "SKIP: $*"; exit 77; }
ok() { passes=$((passes + 1)); echo "ok - $*"; }
fail() { fails=$((fails + 1)); echo "FAIL - $*"; }
fails=0 passes=0

# The part under wine, run by the first part inside `unshare -n`:
# test_msi.sh --in-netns DIR MSI DIST_FOLDER VERSION NEWER_MSI NEWER_VERSION
if [ "${1:-}" = --in-netns ]; then
  T=$2 msi=$3 files=$4 version=$5 newmsi=$6 newver=$7
  export WINEPREFIX="$T/prefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
  trap 'wineserver -k 2>/dev/null; wait 2>/dev/null' EXIT
  wait_for() { # SECONDS command...: poll every 0.5 s
    local n=$(($1 * 2)); shift
    while [ "$n" -gt 0 ]; do "$@" && return 0; sleep 0.5; n=$((n - 1)); done
    return 1
  }
  w() { timeout 120 wine "$@" </dev/null 2>/dev/null | tr -d '\r'; }
  ip link set lo up || { echo "FAIL - ip link set lo up"; exit 1; }

  # A persistent wineserver (services stop with the last client otherwise);
  # as in test_wine_service.sh, restarted after wineboot so that one
  # services.exe holds the service database.
  mkdir -p "$WINEPREFIX"
  wineserver -p || skip "wineserver cannot start here"
  timeout 300 wineboot -i >"$T/wineboot.log" 2>&1 || { cat "$T/wineboot.log"; skip "wine cannot start here"; }
  timeout 60 wine cmd /c exit 0 >/dev/null 2>&1 </dev/null || skip "wine cannot run a program here"
  wineserver -k
  wineserver -p || skip "wineserver cannot restart here"
  w sc query memdeltad >/dev/null

  pf="$WINEPREFIX/drive_c/Program Files/memdelta"
  winmsi="Z:$(echo "$msi" | tr / '\\')"
  winlog() { echo "Z:$(echo "$T/$1" | tr / '\\')"; }
  state() { w sc query memdeltad | awk '/STATE/ {print $4}'; }
  running() { [ "$(state)" = RUNNING ]; }
  stopped() { [ "$(state)" = STOPPED ]; }
  # memdeltad.exe processes of this namespace only (other wine tests may run).
  daemon_gone() { ! pgrep --ns $$ --nslist net -f 'memdelta.memdeltad\.exe' >/dev/null; }
  health() { curl -sf -m 5 "http://127.0.0.1:$1/healthz" >"$T/health.json" 2>/dev/null; }

  timeout 300 wine msiexec /i "$winmsi" /qn /l*v "$(winlog install.log)" </dev/null >/dev/null 2>&1
  rc=$?
  if [ "$rc" -eq 0 ]; then ok "msiexec /i /qn: exit 0"; else fail "msiexec /i: exit $rc: $(tr -d '\r\0' <"$T/install.log" 2>/dev/null | grep -iE 'error|return value 3' | head -n 5)"; fi
  for f in memdeltad.exe memdelta.exe memdeltad.conf README-windows.txt; do
    if cmp -s "$files/$f" "$pf/$f"; then ok "installed C:\\Program Files\\memdelta\\$f"; else fail "C:\\Program Files\\memdelta\\$f missing or different"; fi
  done
  for a in InstallServices StartServices; do
    if tr -d '\r\0' <"$T/install.log" | grep -q "Action ended .*: $a. Return value 1"; then
      ok "install log: $a returned 1 (success)"
    else
      fail "install log: $a: $(tr -d '\r\0' <"$T/install.log" | grep "$a" | tail -n 2)"
    fi
  done

  key='HKLM\System\CurrentControlSet\Services\memdeltad'
  w reg query "$key" >"$T/svc.reg"
  img=$(awk -F'    ' '$2 == "ImagePath" {print $4}' "$T/svc.reg")
  # wine's msi joins the executable's path and the Arguments column without
  # quotes around the path (docs/platforms.md); accept both forms.
  want='C:\Program Files\memdelta\memdeltad.exe'
  wantargs='-c "C:\Program Files\memdelta\memdeltad.conf"'
  if [ "$img" = "$want $wantargs" ] || [ "$img" = "\"$want\" $wantargs" ]; then
    ok "service memdeltad registered: ImagePath $img"
  else
    fail "ImagePath '$img' (registry: $(cat "$T/svc.reg"))"
  fi
  if grep -qE 'Start +REG_DWORD +0x2$' "$T/svc.reg" && grep -qE 'Type +REG_DWORD +0x10$' "$T/svc.reg" &&
     grep -qE 'ObjectName +REG_SZ +LocalSystem$' "$T/svc.reg"; then
    ok "service: automatic start, own process, LocalSystem"
  else
    fail "service Start/Type/ObjectName: $(cat "$T/svc.reg")"
  fi
  wait_for 60 running && ok "service RUNNING after the install" || fail "service state $(state) after the install"
  daemon_gone && fail "no memdeltad.exe process in this namespace (pgrep)" || ok "memdeltad.exe runs (pgrep)"
  if wait_for 60 health 7373 &&
     python3 -c 'import json,sys; h=json.load(open(sys.argv[1])); sys.exit(0 if h["status"] == "ok" and h["version"] == sys.argv[2] else 1)' \
       "$T/health.json" "$version"; then
    ok "/healthz on 127.0.0.1:7373 (the packaged configuration): $(cat "$T/health.json" | head -c 120)"
  else
    fail "/healthz on 127.0.0.1:7373: $(cat "$T/health.json" 2>/dev/null)"
  fi

  # The default database is under %ProgramData% as the service sees it:
  # wine gives a LocalSystem service C:\users\Public there.
  findb() { find "$WINEPREFIX/drive_c" -path '*/memdelta/memdelta.db' -not -path '*/Program Files/*' | head -n1; }
  has_db() { [ -n "$(findb)" ]; }
  wait_for 30 has_db
  db=$(findb)
  if [ -n "$db" ]; then ok "the database: ${db#"$WINEPREFIX/drive_c/"}"; else fail "no memdelta.db under drive_c"; fi
  windb="C:\\$(echo "${db#"$WINEPREFIX/drive_c/"}" | tr / '\\')"
  have_snapshot() { w "C:\\Program Files\\memdelta\\memdelta.exe" list --db "$windb" >"$T/list.txt" && [ "$(wc -l <"$T/list.txt")" -ge 2 ]; }
  if [ -n "$db" ] && wait_for 60 have_snapshot; then
    ok "installed memdelta.exe lists the service's snapshots: $(sed -n 2p "$T/list.txt")"
  else
    fail "memdelta.exe list --db $windb: $(cat "$T/list.txt" 2>/dev/null)"
  fi

  # Edit the installed configuration as README-windows.txt says, restart.
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  sed -i "s/^; listen = 127.0.0.1:7373\r\$/listen = 127.0.0.1:$port\r/" "$pf/memdeltad.conf"
  grep -q "^listen = 127.0.0.1:$port" "$pf/memdeltad.conf" || fail "the configuration has no '; listen = 127.0.0.1:7373' line to edit"
  chk=$(w "C:\\Program Files\\memdelta\\memdeltad.exe" --check-config -c "C:\\Program Files\\memdelta\\memdeltad.conf")
  echo "$chk" | grep -q "OK: .*listen 127.0.0.1:$port" && ok "--check-config of the edited file: $chk" || fail "--check-config: $chk"
  w net stop memdeltad >"$T/netstop.log"
  wait_for 30 stopped || fail "net stop: state $(state): $(cat "$T/netstop.log")"
  for _ in 1 2 3; do
    w net start memdeltad >>"$T/netstart.log"
    wait_for 20 running && break
  done
  if running && wait_for 60 health "$port" && ! health 7373; then
    ok "restarted with the edited configuration: /healthz on :$port, nothing on :7373"
  else
    fail "after the restart: state $(state), :$port $(health "$port" && echo answers || echo silent), :7373 $(health 7373 && echo answers || echo silent)"
  fi

  # wine's msi sends the stop in StopServices but does not wait for it (it
  # ignores ServiceControl's Wait column when stopping; Windows Installer
  # waits up to 30 s), and RemoveFiles cannot delete a memdeltad.exe that is
  # still exiting: before an upgrade or the uninstall, stop the service and
  # let its process end.
  stop_first() {
    w net stop memdeltad >>"$T/netstop2.log"
    wait_for 30 stopped || fail "net stop before the $1: state $(state)"
    wait_for 30 daemon_gone || fail "memdeltad.exe still running 30 s after net stop"
  }
  products() { # the memdelta entries of Add/Remove Programs: "NAME|VERSION" lines
    w reg query 'HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall' /s |
      awk -F'    ' '/^HKEY/ {n = ""} $2 == "DisplayName" {n = $4}
                    $2 == "DisplayVersion" && n ~ /^memdelta / {print n "|" $4}'
  }
  [ "$(products)" = "memdelta $version|$version" ] && ok "Add/Remove Programs: memdelta $version" ||
    fail "installed products: $(products)"

  # The upgrade: the same files as a newer version (MajorUpgrade, one UpgradeCode).
  stop_first upgrade
  winnew="Z:$(echo "$newmsi" | tr / '\\')"
  timeout 300 wine msiexec /i "$winnew" /qn /l*v "$(winlog upgrade.log)" </dev/null >/dev/null 2>&1
  rc=$?
  [ "$rc" -eq 0 ] && ok "upgrade to $newver: msiexec /i exit 0" || fail "upgrade: msiexec /i exit $rc"
  if [ "$(products)" = "memdelta $newver|$newver" ]; then
    ok "Add/Remove Programs after the upgrade: memdelta $newver only"
  else
    fail "products after the upgrade: $(products | tr '\n' ' ')"
  fi
  if grep -q "^listen = 127.0.0.1:$port" "$pf/memdeltad.conf" && wait_for 60 running &&
     wait_for 60 health "$port"; then
    ok "the upgrade kept the edited memdeltad.conf; the service runs on :$port"
  else
    fail "after the upgrade: state $(state), conf $(grep -c "^listen = 127.0.0.1:$port" "$pf/memdeltad.conf" 2>&1)"
  fi
  for f in memdeltad.exe memdelta.exe README-windows.txt; do
    cmp -s "$files/$f" "$pf/$f" || fail "after the upgrade: $f missing or different"
  done

  stop_first uninstall
  timeout 300 wine msiexec /x "$winnew" /qn /l*v "$(winlog uninstall.log)" </dev/null >/dev/null 2>&1
  rc=$?
  if [ "$rc" -eq 0 ]; then ok "msiexec /x /qn: exit 0"; else fail "msiexec /x: exit $rc"; fi
  gone() { ! w sc query memdeltad | grep -q SERVICE_NAME; }
  if wait_for 30 gone && ! w reg query "$key" | grep -q ImagePath; then
    ok "service memdeltad removed (sc query, registry)"
  else
    fail "service still there: $(w sc query memdeltad)"
  fi
  # memdeltad.conf is permanent: the administrator's file stays, nothing else.
  left=$(ls -A "$pf" 2>&1 | tr '\n' ' ')
  if [ "$left" = "memdeltad.conf " ] && grep -q "^listen = 127.0.0.1:$port" "$pf/memdeltad.conf"; then
    ok "the uninstall removed the programs and the README, kept the edited memdeltad.conf"
  else
    fail "left in C:\\Program Files\\memdelta: $left"
  fi
  [ -z "$(products)" ] && ok "Add/Remove Programs: no memdelta" || fail "still listed: $(products)"
  health "$port" && fail "/healthz still answers after the uninstall" || ok "nothing answers on :$port after the uninstall"
  [ -n "$db" ] && [ -f "$db" ] && ok "the database stays after the uninstall" || fail "the database is gone"
  echo "# wine part: $passes passed, $fails failed"
  [ "$fails" -eq 0 ]
  exit $?
fi

[ "${MD_SKIP_WINE:-0}" = 1 ] && skip "MD_SKIP_WINE=1"
for c in wine wineboot wineserver wixl msiinfo msiextract unzip curl python3 unshare ip; do
  command -v "$c" >/dev/null || skip "$c not installed (.ci/deps: wine64 wixl msitools zip unzip iproute2)"
done
[ "$(id -u)" -eq 0 ] || skip "not root: unshare -n (a private network namespace for port 7373) needs root"
unshare -n true 2>/dev/null || skip "unshare -n does not work here"

T=$(mktemp -d "${TMPDIR:-/tmp}/memdelta-msi-XXXXXX")
trap '[ -n "${MD_KEEP_TMP:-}" ] || rm -rf "$T"' EXIT

pk=$(MD_WIN_BUILD="$B/windows" MD_WIN_DIST="$T/dist" bash "$S/packaging/windows/package.sh" 2>"$T/package.log")
zip=$(echo "$pk" | grep '\.zip$')
msi=$(echo "$pk" | grep '\.msi$')
if [ ! -f "$zip" ] || [ ! -f "$msi" ]; then
  tail -n 30 "$T/package.log"
  echo "FAIL - packaging/windows/package.sh"
  exit 1
fi
version=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' "$B/windows/config.h")
name=memdelta-$version-win64
[ "$(basename "$zip")" = "$name.zip" ] && [ "$(basename "$msi")" = "$name.msi" ] &&
  ok "package.sh made $name.zip and $name.msi" || fail "package names: $pk (version $version)"

# The same files as a newer version, for the upgrade under wine.
newver=$(msiinfo export "$msi" Property 2>/dev/null | tr -d '\r' |
  awk -F'\t' '$1 == "ProductVersion" {n = split($2, v, "."); while (n < 3) v[++n] = 0;
                                       printf "%d.%d.%d", v[1], v[2], v[3] + 1}')
newmsi=$(MD_WIN_BUILD="$B/windows" MD_WIN_DIST="$T/dist2" MD_WIN_MSI_VERSION="$newver" \
  bash "$S/packaging/windows/package.sh" 2>>"$T/package.log" | grep '\.msi$')
[ -f "$newmsi" ] || { tail -n 30 "$T/package.log"; echo "FAIL - package.sh with MD_WIN_MSI_VERSION=$newver"; exit 1; }

# --- the MSI's tables ---------------------------------------------------------
for t in File Component Directory ServiceInstall ServiceControl Property FeatureComponents; do
  msiinfo export "$msi" "$t" 2>/dev/null | tr -d '\r' | tail -n +4 >"$T/$t.idt"
done
msiinfo tables "$msi" >"$T/tables" 2>/dev/null
for t in File Component Directory ServiceInstall ServiceControl; do
  grep -qx "$t" "$T/tables" || fail "msiinfo tables: no $t"
done
zsize() { python3 -c 'import sys, zipfile; print(zipfile.ZipFile(sys.argv[1]).getinfo(sys.argv[2]).file_size)' "$zip" "$1" 2>/dev/null; }
# File: File Component_ FileName FileSize ...
for f in memdeltad.exe memdelta.exe memdeltad.conf README-windows.txt; do
  comp=$(awk -F'\t' -v f="$f" '$3 == f || $3 ~ "\\|" f "$" {print $2}' "$T/File.idt")
  dir=$(awk -F'\t' -v c="$comp" '$1 == c {print $3}' "$T/Component.idt")
  attr=$(awk -F'\t' -v c="$comp" '$1 == c {print $4}' "$T/Component.idt")
  parent=$(awk -F'\t' -v d="$dir" '$1 == d {print $2 "/" $3}' "$T/Directory.idt")
  size=$(awk -F'\t' -v f="$f" '$3 == f || $3 ~ "\\|" f "$" {print $4}' "$T/File.idt")
  if [ -n "$comp" ] && [ "$parent" = "ProgramFiles64Folder/memdelta" ] && [ $((attr & 256)) -eq 256 ] &&
     [ "$size" = "$(zsize "$name/$f")" ]; then
    ok "MSI: $f in component $comp (64-bit), folder memdelta under ProgramFiles64Folder, $size bytes"
  else
    fail "MSI: $f: component '$comp' dir '$dir' parent '$parent' attributes '$attr' size '$size'"
  fi
done
[ "$(wc -l <"$T/File.idt")" -eq 4 ] && ok "MSI: exactly 4 files" || fail "MSI files: $(cat "$T/File.idt")"
# Component attributes: 16 permanent, 128 never overwrite - memdeltad.conf
# only, so that upgrades and the uninstall keep the administrator's file.
attrs=$(awk -F'\t' '{print $6, $4}' "$T/Component.idt" |
  while read -r k a; do printf '%s=%d ' "$k" $((a & (16 + 128))); done)
others=$(echo "$attrs" | tr ' ' '\n' | grep -v -e '^memdeltad\.conf=' -e '=0$' -e '^$')
if echo " $attrs" | grep -q ' memdeltad\.conf=144 ' && [ -z "$others" ]; then
  ok "component attributes (permanent + never overwrite): $attrs"
else
  fail "only memdeltad.conf's component should be permanent + never overwrite: $attrs"
fi
# ServiceInstall: ServiceInstall Name DisplayName ServiceType StartType ErrorControl
#   LoadOrderGroup Dependencies StartName Password Arguments Component_ Description
col() { awk -F'\t' -v n="$2" 'NR == 1 {print $n}' "$T/$1.idt"; } # TABLE N: column N of row 1
svc_line=$(head -n1 "$T/ServiceInstall.idt")
sname=$(col ServiceInstall 2) stype=$(col ServiceInstall 4) sstart=$(col ServiceInstall 5)
serr=$(col ServiceInstall 6) sacct=$(col ServiceInstall 9) sargs=$(col ServiceInstall 11)
scomp=$(col ServiceInstall 12)
[ "$(wc -l <"$T/ServiceInstall.idt")" -eq 1 ] || fail "ServiceInstall rows: $(cat "$T/ServiceInstall.idt")"
daemon_comp=$(awk -F'\t' '$3 == "memdeltad.exe" {print $2}' "$T/File.idt")
if [ "$sname" = memdeltad ] && [ "$stype" = 16 ] && [ "$sstart" = 2 ] && [ "$serr" = 1 ] &&
   [ -z "$sacct" ] && [ "$sargs" = '-c "[INSTALLDIR]memdeltad.conf"' ] && [ "$scomp" = "$daemon_comp" ]; then
  ok "ServiceInstall: memdeltad, own process (16), automatic (2), LocalSystem, arguments $sargs, component of memdeltad.exe"
else
  fail "ServiceInstall: $svc_line"
fi
idir=$(awk -F'\t' '$3 == "memdeltad.conf" {print $2}' "$T/File.idt")
idir=$(awk -F'\t' -v c="$idir" '$1 == c {print $3}' "$T/Component.idt")
[ "$idir" = INSTALLDIR ] && ok "memdeltad.conf is in INSTALLDIR, the folder the arguments name" ||
  fail "memdeltad.conf's directory is '$idir', the service arguments name INSTALLDIR"
# ServiceControl: ServiceControl Name Event Arguments Wait Component_
cname=$(col ServiceControl 2) cevent=$(col ServiceControl 3) cwait=$(col ServiceControl 5)
ccomp=$(col ServiceControl 6)
# 1 start on install, 2 stop on install, 32 stop on uninstall, 128 delete on uninstall.
if [ "$cname" = memdeltad ] && [ "$cevent" = $((1 + 2 + 32 + 128)) ] && [ "$cwait" = 1 ] &&
   [ "$ccomp" = "$daemon_comp" ]; then
  ok "ServiceControl: start on install, stop on install and uninstall, delete on uninstall, wait"
else
  fail "ServiceControl: $cname $cevent $cwait $ccomp"
fi
prop() { awk -F'\t' -v p="$1" '$1 == p {print $2}' "$T/Property.idt"; }
upgrade=$(grep -o 'UpgradeCode="[^"]*"' "$S/packaging/windows/memdelta.wxs" | cut -d'"' -f2)
if [ "$(prop ProductVersion)" = "$version" ] && [ "$(prop UpgradeCode)" = "{$upgrade}" ] &&
   [ "$(prop ALLUSERS)" = 1 ]; then
  ok "ProductVersion $version, UpgradeCode {$upgrade}, per machine"
else
  fail "Property: $(cat "$T/Property.idt")"
fi
msiinfo suminfo "$msi" 2>/dev/null | grep -q '^Template: x64;' && ok "summary: x64 package" ||
  fail "summary: $(msiinfo suminfo "$msi" 2>&1 | grep Template)"

# --- the zip, and the same bytes everywhere -------------------------------------
unzip -Z1 "$zip" | sort >"$T/zip.list"
printf '%s\n' "$name/" "$name/README-windows.txt" "$name/memdelta.exe" "$name/memdeltad.conf" \
  "$name/memdeltad.exe" | sort >"$T/zip.want"
cmp -s "$T/zip.list" "$T/zip.want" && ok "unzip -l: $(tr '\n' ' ' <"$T/zip.list")" ||
  fail "zip entries: $(tr '\n' ' ' <"$T/zip.list")"
mkdir -p "$T/unzip" "$T/cab"
unzip -q "$zip" -d "$T/unzip" && (cd "$T/cab" && msiextract "$msi" >/dev/null 2>&1)
files=$T/unzip/$name
same=1
for f in memdeltad.exe memdelta.exe memdeltad.conf README-windows.txt; do
  got=$(find "$T/cab" -type f -name "$f" | head -n1)
  cmp -s "$files/$f" "$got" || { same=0; fail "the MSI's $f differs from the zip's ($got)"; }
done
for f in memdeltad.exe memdelta.exe; do
  cmp -s "$files/$f" "$B/windows/bin/$f" || { same=0; fail "the zip's $f is not the build's"; }
done
[ "$same" = 1 ] && ok "zip, MSI cabinet and build hold the same bytes"
if grep -q $'\r$' "$files/memdeltad.conf" && grep -q $'\r$' "$files/README-windows.txt" &&
   ! grep -qv $'\r$' "$files/README-windows.txt"; then
  ok "text files have CRLF line ends"
else
  fail "text files without CRLF line ends"
fi

# --- install, run, uninstall under wine ------------------------------------------
unshare -n -- bash "$0" --in-netns "$T" "$msi" "$files" "$version" "$newmsi" "$newver" 2>&1 |
  tee "$T/wine.out"
rc=${PIPESTATUS[0]}
[ "$rc" -eq 77 ] && exit 77
n_ok=$(grep -c '^ok - ' "$T/wine.out")
n_fail=$(grep -c '^FAIL - ' "$T/wine.out")
passes=$((passes + n_ok))
fails=$((fails + n_fail))
[ "$rc" -eq 0 ] || [ "$n_fail" -gt 0 ] || fail "the wine part exited $rc"

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
