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

. "$(dirname "$0")/lib.sh"
abs_builddir
nodedir="$B/tests/e2e-node"
ARTIFACTS="$B/tests/e2e-artifacts"

need_built "$MDD" "$GROWER"

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

node_setup "$nodedir" browser.mjs e2e.mjs

scratch_dir e2e
trap 'exit 1' INT TERM
mkdir -p "$ARTIFACTS"

run_node 300 "$nodedir/e2e.mjs" "the browser test"
