#!/usr/bin/env bash
# packaging/test-deb.sh - build the Debian package and test it on this machine
# (run by .ci/test after `make check`; needs root, as on CI):
#   1. copy the source (git ls-files, else the whole tree) into a scratch
#      directory with packaging/debian as debian/, and run
#      `dpkg-buildpackage -us -uc -b` (tests off: .ci/test runs them);
#   2. lintian on the .changes: no errors;
#   3. `apt-get install ./memdelta_*.deb`: the user, the unit, the default
#      configuration, the man pages are in place; `memdeltad --check-config`
#      accepts the packaged configuration; memdeltad runs in the foreground as
#      the memdelta user on that configuration and answers /healthz;
#   4. `apt-get purge memdelta`: the programs, the unit and the state are gone.
# Exit 0 on success, 1 on a failure, 77 when it cannot run (not root, no apt).
# The scratch directory is removed unless KEEP=1.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
say() { printf 'test-deb: %s\n' "$*"; }
fail() { say "FAIL: $*"; exit 1; }

[ "$(id -u)" -eq 0 ] || { say "SKIP: needs root (installs a package)"; exit 77; }
command -v apt-get >/dev/null || { say "SKIP: no apt-get (not Debian)"; exit 77; }
if dpkg-query -W -f='${Status}' memdelta 2>/dev/null | grep -q 'ok installed'; then
	say "SKIP: a memdelta package is installed already; not replacing it"; exit 77
fi

need=(dpkg-dev debhelper lintian fakeroot curl adduser)
missing=()
for p in "${need[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
	say "installing ${missing[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
bash "$src/.ci/deps"

work=$(mktemp -d /tmp/memdelta-deb.XXXXXX)
pid=""
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
	if dpkg-query -W -f='${Status}' memdelta 2>/dev/null | grep -q 'ok installed'; then
		DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq memdelta >/dev/null 2>&1 || true
	fi
	[ "${KEEP:-0}" = 1 ] || rm -rf "$work"
}
trap cleanup EXIT

# 1. Build.
mkdir -p "$work/memdelta-0.1.0"
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	(cd "$src" && git ls-files -z | tar --null -T - -cf -) | tar -xf - -C "$work/memdelta-0.1.0"
else
	(cd "$src" && tar --exclude=./_build --exclude=./.git -cf - .) | tar -xf - -C "$work/memdelta-0.1.0"
fi
rm -rf "$work/memdelta-0.1.0/debian"
cp -a "$src/packaging/debian" "$work/memdelta-0.1.0/debian"
say "dpkg-buildpackage -us -uc -b"
if ! (cd "$work/memdelta-0.1.0" && DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" \
	dpkg-buildpackage -us -uc -b >"$work/build.log" 2>&1); then
	tail -n 60 "$work/build.log"; fail "dpkg-buildpackage failed"
fi
deb=$(ls "$work"/memdelta_*.deb)
say "built $(basename "$deb") ($(stat -c %s "$deb") bytes)"

# 2. lintian: errors fail, warnings are shown.
lintian --fail-on error --no-tag-display-limit "$work"/memdelta_*.changes >"$work/lintian.log" 2>&1 \
	|| { cat "$work/lintian.log"; fail "lintian reports errors"; }
say "lintian: $(grep -c '^E:' "$work/lintian.log" || true) errors, $(grep -c '^W:' "$work/lintian.log" || true) warnings"
grep -E '^[EW]:' "$work/lintian.log" | sed 's/^/  /' || true

# 3. Install and use it.
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$deb" >"$work/install.log" 2>&1 \
	|| { cat "$work/install.log"; fail "apt-get install failed"; }
getent passwd memdelta >/dev/null || fail "no memdelta user after install"
for f in /usr/sbin/memdeltad /usr/bin/memdelta /etc/memdelta/memdeltad.conf \
	/lib/systemd/system/memdeltad.service /usr/share/man/man8/memdeltad.8.gz \
	/usr/share/man/man1/memdelta.1.gz /usr/share/man/man5/memdelta.conf.5.gz; do
	[ -e "$f" ] || fail "$f is not installed"
done
grep -q '^ExecStart=/usr/sbin/memdeltad -f -c /etc/memdelta/memdeltad.conf$' \
	/lib/systemd/system/memdeltad.service || fail "the unit does not start /usr/sbin/memdeltad"
out=$(memdeltad --check-config -c /etc/memdelta/memdeltad.conf) || fail "--check-config: $out"
say "$out"

# Run it as systemd would: the memdelta user, its state directory.  The
# listen port is the packaged 7373 unless something holds it already.
port=7373
while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
install -d -o memdelta -g memdelta -m 0750 /var/lib/memdelta
setpriv --reuid=memdelta --regid=memdelta --init-groups env STATE_DIRECTORY=/var/lib/memdelta \
	memdeltad -f -c /etc/memdelta/memdeltad.conf --listen "127.0.0.1:$port" \
	>"$work/memdeltad.log" 2>&1 &
pid=$!
body=""
for _ in $(seq 1 100); do
	body=$(curl -fsS "http://127.0.0.1:$port/healthz" 2>/dev/null) && break
	kill -0 "$pid" 2>/dev/null || { cat "$work/memdeltad.log"; fail "memdeltad exited"; }
	sleep 0.1
done
[ -n "$body" ] || { cat "$work/memdeltad.log"; fail "no answer on /healthz"; }
say "/healthz: $body"
case $body in *'"storage_ok":true'*|*'"status":"ok"'*) ;; *) fail "/healthz is not ok: $body" ;; esac
[ -f /var/lib/memdelta/memdelta.db ] || fail "no database in /var/lib/memdelta"
kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
pid=""
[ "$rc" -eq 0 ] || { cat "$work/memdeltad.log"; fail "memdeltad exited $rc on SIGTERM"; }

# 4. Remove it.
DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq memdelta >"$work/purge.log" 2>&1 \
	|| { cat "$work/purge.log"; fail "apt-get purge failed"; }
for f in /usr/sbin/memdeltad /usr/bin/memdelta /lib/systemd/system/memdeltad.service \
	/etc/memdelta/memdeltad.conf /var/lib/memdelta; do
	[ ! -e "$f" ] || fail "$f is still there after purge"
done
say "PASS: built, lintian clean of errors, installed, served /healthz as memdelta, purged"
