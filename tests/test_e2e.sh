#!/bin/sh
# test_e2e.sh - the web UI end to end in a real browser: runs tests/e2e/e2e.mjs
# (playwright-core driving Debian's headless Chromium) against memdeltad
# watching a grower process, its leak detector scaled down so that a steady
# leak fires an alert within seconds (the alerts pages, the trend line).
# Installs what is missing: chromium, nodejs and npm from Debian (as root),
# playwright-core from the npm registry into $MD_BUILDDIR/tests/e2e-node (the
# source tree may be read-only), pinned by tests/e2e/package-lock.json.  Exits
# 77 when something cannot be installed or memdeltad is not built.
# Screenshots go to $MD_BUILDDIR/tests/e2e-artifacts.

srcdir_e2e="${MD_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}/tests/e2e"
builddir="${MD_BUILDDIR:-$(pwd)}"
memdeltad="$builddir/memdeltad"
grower="$builddir/tests/grower"
nodedir="$builddir/tests/e2e-node"
artifacts="$builddir/tests/e2e-artifacts"

skip() {
	echo "SKIP: $*"
	exit 77
}

[ -x "$memdeltad" ] || skip "memdeltad is not built ($memdeltad)"
[ -x "$grower" ] || skip "tests/grower is not built ($grower)"

as_root() {
	if [ "$(id -u)" = 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
		sudo -n "$@"
	else
		return 1
	fi
}

apt_updated=
apt_install() {
	if [ -z "$apt_updated" ]; then
		as_root timeout 180 apt-get update -qq >/dev/null 2>&1 || return 1
		apt_updated=1
	fi
	as_root env DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq "$@" >/dev/null 2>&1
}

missing=
[ -x /usr/bin/chromium ] || missing="$missing chromium"
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
if [ -n "$missing" ]; then
	echo "installing:$missing"
	# shellcheck disable=SC2086 # a list of package names
	apt_install $missing || skip "cannot install$missing (no network or not root)"
fi

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null)
[ "${node_major:-0}" -ge 18 ] || skip "playwright-core 1.61 needs Node.js 18 or later (found $(node --version 2>&1))"

mkdir -p "$nodedir" || skip "cannot create $nodedir"
if ! cmp -s "$srcdir_e2e/package-lock.json" "$nodedir/package-lock.json" ||
	[ ! -f "$nodedir/node_modules/playwright-core/package.json" ]; then
	if ! cp "$srcdir_e2e/package.json" "$srcdir_e2e/package-lock.json" "$nodedir/" ||
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
if ! cp "$srcdir_e2e/e2e.mjs" "$nodedir/e2e.mjs" || ! chmod u+w "$nodedir/e2e.mjs"; then
	echo "FAIL: cannot copy e2e.mjs to $nodedir"
	exit 1
fi

scratch=$(mktemp -d "${TMPDIR:-/tmp}/memdelta-e2e.XXXXXX") || exit 1
trap 'rm -rf "$scratch"' EXIT
trap 'exit 1' INT TERM
mkdir -p "$artifacts"

MD_MEMDELTAD="$memdeltad" MD_GROWER="$grower" MD_SCRATCH="$scratch" \
	MD_ARTIFACTS="$artifacts" MD_CHROMIUM=/usr/bin/chromium \
	timeout -k 10 300 node "$nodedir/e2e.mjs"
rc=$?
[ $rc = 124 ] && echo "FAIL: the browser test did not finish in 300 s"
exit $rc
