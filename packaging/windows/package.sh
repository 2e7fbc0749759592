#!/usr/bin/env bash
# packaging/windows/package.sh - the Windows packages of memdelta, on a Debian
# 12 machine: runs build.sh (the cross-build of memdeltad.exe and
# memdelta.exe), then makes
#   memdelta-VERSION-win64.zip  a folder memdelta-VERSION-win64 with the two
#                               programs, the example memdeltad.conf and
#                               README-windows.txt (the text files with CRLF
#                               line ends, for Notepad)
#   memdelta-VERSION-win64.msi  the same four files for C:\Program Files\memdelta
#                               and the service memdeltad (memdelta.wxs), built
#                               with wixl from msitools
# VERSION is configure's PACKAGE_VERSION; the MSI's ProductVersion is its
# leading numeric part (Windows Installer takes only digits and dots).
# memdeltad.conf's component is made permanent and never-overwrite after
# wixl (msibuild), which wixl cannot express: an upgrade or an uninstall
# keeps the administrator's configuration.
#
# Environment: build.sh's (MD_WIN_CACHE, MD_WIN_BUILD, MD_WIN_CONFIGURE_FLAGS),
# MD_WIN_DIST, where the packages go (default <source>/dist),
# SOURCE_DATE_EPOCH, the time stamp of the zip's entries, and
# MD_WIN_MSI_VERSION, another ProductVersion (tests/test_msi.sh makes a
# "newer" MSI of the same files with it to test upgrades).
# Installs wixl, msitools and zip from Debian when they are missing.  Prints the paths
# of the zip and the MSI, one a line.  Exit status 0 on success.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${MD_WIN_BUILD:-$top/_build/windows}
dist=${MD_WIN_DIST:-$top/dist}

say() { echo "package.sh: $*" >&2; }
die() { say "$*"; exit 1; }

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
missing=()
for p in wixl msitools zip; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  say "installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

bin=$(MD_WIN_BUILD="$build" bash "$here/build.sh" | tail -n1)
[ -f "$bin/memdeltad.exe" ] && [ -f "$bin/memdelta.exe" ] || die "build.sh left no .exe in '$bin'"

version=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' "$build/config.h")
[ -n "$version" ] || die "no PACKAGE_VERSION in $build/config.h"
# 1.2.3-rc1 -> 1.2.3; at most three fields (the fourth is ignored by upgrades).
msi_version=${MD_WIN_MSI_VERSION:-$(echo "$version" | grep -oE '^[0-9]+(\.[0-9]+){0,2}' || true)}
[ -n "$msi_version" ] || die "PACKAGE_VERSION '$version' has no numeric x.y.z for the MSI"

name=memdelta-$version-win64
mkdir -p "$dist"
dist=$(cd "$dist" && pwd)
stage=$(mktemp -d "$dist/.stage-XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir "$stage/$name"
cp "$bin/memdeltad.exe" "$bin/memdelta.exe" "$stage/$name/"
for f in memdeltad.conf README-windows.txt; do
  sed 's/\r*$/\r/' "$here/$f" >"$stage/$name/$f"
done
# One time stamp on every file: SOURCE_DATE_EPOCH when set (reproducible
# builds), else memdeltad.exe's.
touch -d "@${SOURCE_DATE_EPOCH:-$(stat -c %Y "$bin/memdeltad.exe")}" "$stage/$name" "$stage/$name"/*

zip_path=$dist/$name.zip
msi_path=$dist/$name.msi
rm -f "$zip_path" "$msi_path"
(cd "$stage" && zip -q -X -r "$zip_path" "$name") || die "zip failed"
# wixl looks the File sources up relative to the working directory.
(cd "$stage/$name" &&
 wixl -a x64 -D Version="$msi_version" -o "$msi_path" "$here/memdelta.wxs") ||
  die "wixl failed"
# Component attributes: 256 64-bit (what wixl wrote), 16 permanent (the
# uninstall and the removal of the old product in an upgrade leave the file),
# 128 never overwrite (an install finding the file keeps it).
msibuild "$msi_path" -q "UPDATE \`Component\` SET \`Attributes\` = 400 WHERE \`Component\` = 'Config'" ||
  die "msibuild failed"
say "version $version (MSI ProductVersion $msi_version)"
echo "$zip_path"
echo "$msi_path"
