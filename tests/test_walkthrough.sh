#!/bin/sh
# test_walkthrough.sh - the three cases of docs/investigating-a-leak.md, for
# real: runs tests/e2e/walkthrough.mjs (playwright-core driving Debian's
# headless Chromium) against memdeltad watching three grower processes (a
# private-data leak, a thread leak, a large reservation).  The screenshots
# and the figures it measured (figures.json) go to
# $MD_BUILDDIR/tests/e2e-artifacts/walkthrough; docs/img holds a copy of the
# screenshots of a run.
#
# Unlike tests/test_e2e.sh it installs no Debian package: without
# /usr/bin/chromium or Node.js 18 it skips (77).  playwright-core comes from
# the npm registry, pinned by tests/e2e/package-lock.json, into a directory of
# its own ($MD_BUILDDIR/tests/e2e-walkthrough-node), so that it never races
# test_e2e.sh's npm ci under make -j; without the network it skips.

srcdir_e2e="${MD_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}/tests/e2e"
builddir="${MD_BUILDDIR:-$(pwd)}"
memdeltad="$builddir/memdeltad"
grower="$builddir/tests/grower"
nodedir="$builddir/tests/e2e-walkthrough-node"
artifacts="$builddir/tests/e2e-artifacts/walkthrough"

skip() {
	echo "SKIP: $*"
	exit 77
}

[ -x "$memdeltad" ] || skip "memdeltad is not built ($memdeltad)"
[ -x "$grower" ] || skip "tests/grower is not built ($grower)"
[ -x /usr/bin/chromium ] || skip "no /usr/bin/chromium (Debian package chromium)"
command -v node >/dev/null 2>&1 || skip "no node (Debian package nodejs)"
command -v npm >/dev/null 2>&1 || skip "no npm (Debian package npm)"
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
# Beside node_modules, so that its import of playwright-core resolves.
if ! cp "$srcdir_e2e/walkthrough.mjs" "$nodedir/walkthrough.mjs" || ! chmod u+w "$nodedir/walkthrough.mjs"; then
	echo "FAIL: cannot copy walkthrough.mjs to $nodedir"
	exit 1
fi

scratch=$(mktemp -d "${TMPDIR:-/tmp}/memdelta-walkthrough.XXXXXX") || exit 1
trap 'rm -rf "$scratch"' EXIT
trap 'exit 1' INT TERM
rm -rf "$artifacts"
mkdir -p "$artifacts" || exit 1

MD_MEMDELTAD="$memdeltad" MD_GROWER="$grower" MD_SCRATCH="$scratch" \
	MD_ARTIFACTS="$artifacts" MD_CHROMIUM=/usr/bin/chromium \
	timeout -k 10 200 node "$nodedir/walkthrough.mjs"
rc=$?
[ $rc = 124 ] && echo "FAIL: the walkthrough did not finish in 200 s"
exit $rc
