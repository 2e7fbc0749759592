#!/usr/bin/env bash
# packaging/windows/build.sh - the whole Windows build of memdelta on a Debian 12
# machine, in one command:
#   1. installs what it needs from Debian (the MinGW-w64 cross compiler, wine64,
#      dpkg-dev, tcl for SQLite's amalgamation, ...) and adds a deb-src entry
#      for bookworm main beside the machine's own Debian entry;
#   2. cross-builds the libraries memdelta links from Debian's source packages
#      (libmicrohttpd, sqlite3, cjson, pcre2 for POSIX regex, check for the unit
#      tests) into a cache prefix, once: a prefix is reused while the
#      source package versions and this script's recipe stay the same;
#   3. configures memdelta with --host=x86_64-w64-mingw32 against that prefix
#      and builds memdeltad.exe and memdelta.exe (statically linked, UI
#      embedded), plus tests/win/winalloc.exe and tests/win/sinkcat.exe (the
#      programs tests/test_wine_service.sh watches and runs as an alert
#      command), and copies them to the output folder.
#
# Environment (all optional):
#   MD_WIN_CACHE   dependency cache (default ${XDG_CACHE_HOME:-$HOME/.cache}/memdelta-win);
#                  the prefix is $MD_WIN_CACHE/prefix-<recipe>; sources and
#                  build trees under $MD_WIN_CACHE/src (removable)
#   MD_WIN_BUILD   memdelta's cross-build tree (default <source>/_build/windows)
#   MD_WIN_OUT     where the .exe files go (default $MD_WIN_BUILD/bin)
#   MD_WIN_DEPS_ONLY=1   stop after step 2 (prints the prefix)
#   MD_WIN_CONFIGURE_FLAGS  extra flags for memdelta's configure (e.g. --enable-werror)
# Prints the output folder on its last line.  Exit status 0 on success.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
host=x86_64-w64-mingw32
cache=${MD_WIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/memdelta-win}
build=${MD_WIN_BUILD:-$top/_build/windows}
out=${MD_WIN_OUT:-$build/bin}
jobs=$(nproc 2>/dev/null || echo 2)
[ "$jobs" -le 2 ] || jobs=2
# Bump when a recipe below changes: the prefix is rebuilt.
recipe=3
srcpkgs=(libmicrohttpd sqlite3 cjson pcre2 check)

say() { echo "build.sh: $*" >&2; }
die() { say "$*"; exit 1; }

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

# --- 1. Debian packages and the deb-src entry --------------------------------
need=(gcc-mingw-w64-x86-64 binutils-mingw-w64-x86-64 mingw-w64-x86-64-dev wine64 wine
      dpkg-dev pkg-config autoconf automake libtool make tcl libjs-dygraphs file)
missing=()
for p in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done

# A deb-src entry for bookworm main, on the mirror and with the key of the
# machine's own Debian entry (apt refuses two entries for one mirror with
# different Signed-By values).
have_debsrc() {
  # grep -q exits 0 on a match even when some of the files do not exist.
  grep -qsE '^[[:space:]]*(deb-src[[:space:]].*[[:space:]]bookworm[[:space:]].*main|Types:.*deb-src)' \
    /etc/apt/sources.list /etc/apt/sources.list.d/*
}
debsrc_entry() { # prints a deb822 stanza, or nothing
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk 'function flush() {
           if (deb && uri != "" && suites ~ /(^|[[:space:]])bookworm([[:space:]]|$)/ &&
               comps ~ /main/ && !done) {
             print "Types: deb-src"; print "URIs: " uri; print "Suites: bookworm";
             print "Components: main"; if (key != "") print "Signed-By: " key; done = 1 }
           deb = 0; uri = ""; suites = ""; comps = ""; key = "" }
         /^[[:space:]]*$/ {flush(); next}
         /^Types:/ {deb = ($0 ~ /[[:space:]]deb([[:space:]]|$)/)}
         /^URIs:/ {uri = $2}
         /^Suites:/ {suites = $0}
         /^Components:/ {comps = $0}
         /^Signed-By:/ {key = $2}
         END {flush()}' "$f"
  done | head -n 5
}
updated=0
if ! have_debsrc; then
  entry=$(debsrc_entry)
  if [ -n "$entry" ]; then
    debsrc=/etc/apt/sources.list.d/memdelta-deb-src.sources
    printf '%s\n' "$entry" | $SUDO tee "$debsrc" >/dev/null
  else
    # One-line style: the first "deb ... bookworm ... main" line as deb-src.
    entry=$(grep -hE '^deb[[:space:]].*[[:space:]]bookworm[[:space:]].*main' /etc/apt/sources.list \
              2>/dev/null | head -n1 | sed 's/^deb[[:space:]]/deb-src /')
    [ -n "$entry" ] || die "no Debian bookworm main entry in the apt sources to add deb-src beside"
    debsrc=/etc/apt/sources.list.d/memdelta-deb-src.list
    echo "$entry" | $SUDO tee "$debsrc" >/dev/null
  fi
  say "added $debsrc"
  $SUDO apt-get update -qq || { $SUDO rm -f "$debsrc"; die "apt-get update failed with $debsrc (removed)"; }
  updated=1
fi
if [ "${#missing[@]}" -gt 0 ]; then
  say "installing ${missing[*]}"
  [ "$updated" = 1 ] || $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

# --- 2. The dependency prefix ------------------------------------------------
# Its name depends on the source versions, so a new Debian point release
# builds a new prefix instead of mixing.
versions=""
for p in "${srcpkgs[@]}"; do
  v=$(apt-cache showsrc "$p" 2>/dev/null | awk '/^Version:/ {print $2}' | sort -V | tail -n1)
  [ -n "$v" ] || die "apt-cache showsrc $p: no source package (is the deb-src entry there?)"
  versions="$versions $p=$v"
done
key=$(echo "$recipe $versions $(x86_64-w64-mingw32-gcc -dumpversion)" | md5sum | cut -c1-12)
prefix=$cache/prefix-$key
src=$cache/src
export PKG_CONFIG_LIBDIR=$prefix/lib/pkgconfig
export PKG_CONFIG_PATH=

fetch() { # package -> prints the unpacked source directory
  local p=$1 d
  mkdir -p "$src/$p"
  d=$(find "$src/$p" -mindepth 1 -maxdepth 1 -type d | head -n1)
  if [ -z "$d" ]; then
    (cd "$src/$p" && apt-get source -qq "$p" >/dev/null 2>"$src/$p.fetch.log") ||
      { cat "$src/$p.fetch.log" >&2; die "apt-get source $p failed"; }
    d=$(find "$src/$p" -mindepth 1 -maxdepth 1 -type d | head -n1)
  fi
  echo "$d"
}

write_pc() { # name version cflags libs [libs.private]
  cat >"$prefix/lib/pkgconfig/$1.pc" <<EOF
prefix=$prefix
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: $1
Description: $1 (cross-built for $host by memdelta's packaging/windows/build.sh)
Version: $2
Cflags: $3
Libs: $4
Libs.private: ${5:-}
EOF
}

cc=$host-gcc
ar=$host-ar

build_mhd() {
  local d; d=$(fetch libmicrohttpd)
  say "libmicrohttpd: $d"
  rm -rf "$src/mhd-build"; mkdir -p "$src/mhd-build"
  (cd "$src/mhd-build" &&
   "$d/configure" -q --host=$host --prefix="$prefix" --disable-https --enable-static \
     --disable-shared --disable-doc --disable-examples --disable-curl --disable-nls \
     --without-gnutls --enable-messages &&
   make -s -j"$jobs" -C src/microhttpd &&
   make -s -C src/microhttpd install && make -s -C src/include install &&
   make -s install-pkgconfigDATA) >"$src/mhd.log" 2>&1 ||
    { tail -n 40 "$src/mhd.log" >&2; die "libmicrohttpd failed (log: $src/mhd.log)"; }
}

build_sqlite() {
  local d ver; d=$(fetch sqlite3)
  say "sqlite3: $d (amalgamation made natively, compiled with $cc)"
  rm -rf "$src/sqlite-build"; mkdir -p "$src/sqlite-build"
  (cd "$src/sqlite-build" && "$d/configure" -q >/dev/null && make -s sqlite3.c) \
    >"$src/sqlite.log" 2>&1 || { tail -n 40 "$src/sqlite.log" >&2; die "sqlite3.c failed"; }
  # The options Debian's libsqlite3 is built with that matter to memdelta:
  # threads (the web server reads while the scheduler writes), WAL (default).
  (cd "$src/sqlite-build" &&
   $cc -O2 -DSQLITE_THREADSAFE=1 -DSQLITE_ENABLE_COLUMN_METADATA=1 \
     -DSQLITE_ENABLE_DBSTAT_VTAB=1 -DSQLITE_ENABLE_UNLOCK_NOTIFY=1 -DSQLITE_SECURE_DELETE=1 \
     -DSQLITE_MAX_SCHEMA_RETRY=25 -DSQLITE_MAX_VARIABLE_NUMBER=250000 -c sqlite3.c -o sqlite3.o &&
   $ar rcs "$prefix/lib/libsqlite3.a" sqlite3.o &&
   cp sqlite3.h sqlite3ext.h "$prefix/include/") >>"$src/sqlite.log" 2>&1 ||
    { tail -n 40 "$src/sqlite.log" >&2; die "sqlite3 cross-compile failed"; }
  ver=$(sed -n 's/^#define SQLITE_VERSION *"\([^"]*\)".*/\1/p' "$prefix/include/sqlite3.h")
  write_pc sqlite3 "$ver" "-I\${includedir}" "-L\${libdir} -lsqlite3"
}

build_cjson() {
  local d ver; d=$(fetch cjson)
  say "cjson: $d"
  mkdir -p "$prefix/include/cjson"
  ($cc -O2 -std=c89 -c "$d/cJSON.c" -o "$src/cJSON.o" &&
   $ar rcs "$prefix/lib/libcjson.a" "$src/cJSON.o" &&
   cp "$d/cJSON.h" "$prefix/include/cjson/") >"$src/cjson.log" 2>&1 ||
    { cat "$src/cjson.log" >&2; die "cjson failed"; }
  ver=$(awk '/define CJSON_VERSION_(MAJOR|MINOR|PATCH)/ {printf "%s%s", sep, $3; sep="."}' "$d/cJSON.h")
  write_pc libcjson "$ver" "-I\${includedir}/cjson" "-L\${libdir} -lcjson"
}

build_pcre2() {
  local d; d=$(fetch pcre2)
  say "pcre2: $d (8-bit library and its POSIX API)"
  rm -rf "$src/pcre2-build"; mkdir -p "$src/pcre2-build"
  (cd "$src/pcre2-build" &&
   "$d/configure" -q --host=$host --prefix="$prefix" --enable-static --disable-shared \
     --disable-pcre2grep-libz --disable-pcre2grep-libbz2 --disable-pcre2test-libreadline &&
   make -s -j"$jobs" libpcre2-8.la libpcre2-posix.la &&
   make -s install-libLTLIBRARIES install-includeHEADERS install-nodist_includeHEADERS \
     install-pkgconfigDATA) >"$src/pcre2.log" 2>&1 ||
    { tail -n 40 "$src/pcre2.log" >&2; die "pcre2 failed (log: $src/pcre2.log)"; }
}

build_check() {
  local d; d=$(fetch check)
  say "check: $d"
  rm -rf "$src/check-build"; mkdir -p "$src/check-build"
  # MinGW has no fork(): Check runs every test in the same process (CK_NOFORK).
  (cd "$src/check-build" &&
   "$d/configure" -q --host=$host --prefix="$prefix" --enable-static --disable-shared \
     --disable-subunit --disable-build-docs --disable-timeout-tests &&
   make -s -j"$jobs" -C lib && make -s -j"$jobs" -C src &&
   make -s -C lib install && make -s -C src install && make -s install-includeHEADERS &&
   make -s install-pcdataDATA) \
    >"$src/check.log" 2>&1 ||
    { tail -n 40 "$src/check.log" >&2; die "check failed (log: $src/check.log)"; }
  # check.pc names Debian's -lcheck_pic; the static library is libcheck.a.
  sed -i 's/-lcheck_pic/-lcheck/' "$prefix/lib/pkgconfig/check.pc"
}

# One build at a time per cache and per build tree (make check runs the two
# wine tests in parallel, both through this script).
mkdir -p "$cache"
exec 8>"$cache/.lock"
flock 8
if [ ! -f "$prefix/.complete" ]; then
  t0=$(date +%s)
  say "building the dependency prefix $prefix:$versions"
  rm -rf "$prefix"
  mkdir -p "$prefix/lib/pkgconfig" "$prefix/include" "$src"
  build_mhd
  build_sqlite
  build_cjson
  build_pcre2
  build_check
  echo "$versions" >"$prefix/.complete"
  say "dependency prefix built in $(( $(date +%s) - t0 )) s"
else
  say "reusing $prefix"
fi
flock -u 8
if [ "${MD_WIN_DEPS_ONLY:-0}" = 1 ]; then
  echo "$prefix"
  exit 0
fi

# --- 3. memdelta itself -------------------------------------------------------
[ -x "$top/configure" ] || (cd "$top" && autoreconf -fi >/dev/null 2>&1)
mkdir -p "$build" "$out"
exec 9>"$build/.lock"
flock 9
stamp="$prefix ${MD_WIN_CONFIGURE_FLAGS:-}"
if [ ! -f "$build/Makefile" ] || [ "$(cat "$build/.md-win-stamp" 2>/dev/null)" != "$stamp" ]; then
  say "configuring $build"
  # shellcheck disable=SC2086
  (cd "$build" && "$top/configure" -q --host=$host PKG_CONFIG="pkg-config --static" \
     LDFLAGS="-static" ${MD_WIN_CONFIGURE_FLAGS:-}) || die "configure failed ($build/config.log)"
  echo "$stamp" >"$build/.md-win-stamp"
fi
say "building in $build"
make -s -C "$build" -j"$jobs" memdeltad.exe memdelta.exe tests/win/winalloc.exe \
  tests/win/sinkcat.exe >&2 || die "make failed"
cp "$build/memdeltad.exe" "$build/memdelta.exe" "$build/tests/win/winalloc.exe" \
  "$build/tests/win/sinkcat.exe" "$out/"
echo "$out"
