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

. "$(dirname "$0")/lib.sh"
abs_builddir
nodedir="$B/tests/e2e-walkthrough-node"
ARTIFACTS="$B/tests/e2e-artifacts/walkthrough"

need_built "$MDD" "$GROWER"
[ -x /usr/bin/chromium ] || skip "no /usr/bin/chromium (Debian package chromium)"
command -v node >/dev/null 2>&1 || skip "no node (Debian package nodejs)"
command -v npm >/dev/null 2>&1 || skip "no npm (Debian package npm)"

node_setup "$nodedir" browser.mjs walkthrough.mjs

scratch_dir walkthrough
trap 'exit 1' INT TERM
rm -rf "$ARTIFACTS"
mkdir -p "$ARTIFACTS" || exit 1

run_node 200 "$nodedir/walkthrough.mjs" "the walkthrough"
