#!/usr/bin/env bash
# test_metrics.sh - GET /metrics of a real memdeltad: on a scratch database
# and a free port it watches $MD_BUILDDIR/tests/grower by name every second,
# the grower running under a name that holds a double quote, a backslash and
# a newline (a symlink; comm and argv[0] carry the name).  The grower maps
# 16 MiB of private data and quits, so that the latest snapshot stays put;
# then /metrics must pass `promtool check metrics` (Debian package
# prometheus; the test skips with 77 without it) and its values must be the
# latest snapshot's: committed and resident bytes of every type equal the
# totals of GET /api/v1/snapshots/{last} (rebuilt from the stored regions),
# the region count its number of regions, private data at least the 16 MiB
# mapped, and the target label, unescaped, the exact name.
set -u
. "$(dirname "$0")/lib.sh"

need_built "$MDD" "$GROWER"
need_cmd python3 "python3 needed (HTTP client, parsing)"
need_cmd promtool "promtool missing (Debian package prometheus, .ci/deps)"

scratch_dir metrics
DPID='' GPID=''
CLEANUP_FDS=3 CLEANUP_PIDS="DPID GPID"

# The name: a"b\c, a newline, then m and our pid (at most 15 bytes: comm).
NAME=$(printf 'a"b\\c\nm%s' "$$")
ln -s "$(abs_path "$GROWER")" "$T/$NAME" || skip "cannot create the odd-named link"

start_grower "$NAME" gin gout 3
grower_ready gout || { echo "FAIL - the grower did not start: $(cat "$T/gout")"; exit 1; }

PORT=$(free_port)
start_daemon "$T/log" --db "$T/db" --watch-name "$NAME" --interval 1

# target_field FIELD: FIELD of our target in /api/v1/targets (empty if none).
target_field() {
  http_body /api/v1/targets 2>/dev/null | python3 -c '
import json, sys
name, field = sys.argv[1], sys.argv[2]
for t in json.load(sys.stdin)["targets"]:
    if t["name"] == name:
        print(t[field])
' "$NAME" "$1"
}
has_snapshot() { [ "$(target_field last_snapshot)" -gt 0 ] 2>/dev/null; }
private_grown() { [ "$(target_field private_committed)" -ge 16777216 ] 2>/dev/null; }

if wait_for 15 has_snapshot; then ok "memdeltad stores snapshots of the odd-named grower"
else fail "no snapshot of the grower (log: $(tail -5 "$T/log"))"; fi
echo "private 16M" >&3
if wait_for 10 grep -q '^ok 0x' "$T/gout" && wait_for 10 private_grown; then
  ok "a snapshot shows the 16 MiB of private data"
else fail "the growth did not show: $(cat "$T/gout")"; fi
# The grower quits: no snapshot after this one.
exec 3>&-
wait "$GPID" 2>/dev/null
GPID=''
sleep 2.5

if http_body /metrics >"$T/metrics" 2>"$T/err"; then ok "GET /metrics answers"
else fail "GET /metrics: $(cat "$T/err")"; fi
if promtool check metrics <"$T/metrics" >"$T/promtool" 2>&1; then
  ok "promtool check metrics accepts the exposition (odd target name included)"
else fail "promtool check metrics: $(cat "$T/promtool")"; fi
last=$(target_field last_snapshot)
http_body "/api/v1/snapshots/$last" >"$T/snap.json" 2>/dev/null || fail "GET /api/v1/snapshots/$last"

# Compare the values: one "ok"/"FAIL" line per check from python.
python3 - "$T/metrics" "$T/snap.json" "$NAME" >"$T/cmp" 2>&1 <<'EOF'
import json, re, sys

metrics_path, snap_path, name = sys.argv[1:4]
samples = {}  # (metric, frozenset(labels)) -> value
line_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')

def labels_of(text):
    # key="value" pairs, values escaped per the 0.0.4 format.
    out, i = {}, 0
    while i < len(text):
        eq = text.index('=', i)
        key = text[i:eq]
        assert text[eq + 1] == '"'
        j, val = eq + 2, []
        while text[j] != '"':
            if text[j] == '\\':
                val.append({'\\': '\\', '"': '"', 'n': '\n'}[text[j + 1]])
                j += 2
            else:
                val.append(text[j])
                j += 1
        out[key] = ''.join(val)
        i = j + 1
        if i < len(text) and text[i] == ',':
            i += 1
    return out

with open(metrics_path, encoding='utf-8') as f:
    for line in f.read().split('\n'):
        if not line or line.startswith('#'):
            continue
        m = line_re.match(line)
        assert m, line
        samples[(m.group(1), frozenset(labels_of(m.group(2) or '').items()))] = float(m.group(3))

def value(metric, **labels):
    return samples.get((metric, frozenset(labels.items())))

def check(cond, what):
    print(('ok - ' if cond else 'FAIL - ') + what)

snap = json.load(open(snap_path))
types = snap['totals']['types']
for t, row in types.items():
    if t == 'free':
        check(value('memdelta_committed_bytes', target=name, type=t) is None, 'no free type sample')
        continue
    c = value('memdelta_committed_bytes', target=name, type=t)
    r = value('memdelta_resident_bytes', target=name, type=t)
    check(c == row['committed'], f'committed {t}: /metrics {c} = latest snapshot {row["committed"]}')
    check(r == row['resident'], f'resident {t}: /metrics {r} = latest snapshot {row["resident"]}')
pc = value('memdelta_committed_bytes', target=name, type='private')
check(pc is not None and pc >= 16 * 1048576, f'private data committed {pc} >= 16 MiB')
check(value('memdelta_private_committed_bytes', target=name) == snap['totals']['private_committed'],
      'private_committed = the snapshot\'s')
check(value('memdelta_regions', target=name) == len(snap['regions']),
      f'regions {value("memdelta_regions", target=name)} = {len(snap["regions"])} regions in the snapshot')
check(value('memdelta_last_snapshot_timestamp_seconds', target=name) == snap['time'] / 1000,
      'last snapshot time = the snapshot\'s')
ticks = value('memdelta_ticks_total', target=name)
check(ticks is not None and ticks >= 2, f'ticks_total {ticks} >= 2 (the two snapshots waited for)')
check(value('memdelta_ticks_missed_total', target=name) is not None, 'ticks_missed_total present')
cost = value('memdelta_sample_cost_seconds', target=name)
check(cost is not None and 0 < cost < 5, f'sample cost {cost} s')
check(value('memdelta_sample_interval_seconds', target=name) == 1, 'interval 1 s')
states = [value('memdelta_alert_state', target=name, state=s) for s in ('none', 'pending', 'firing')]
check(None not in states and sum(states) == 1, f'exactly one alert state is 1: {states}')
# Default detector: 15 min of warm-up, so no alert and no fitted slope yet.
check(states[0] == 1, 'no open alert: state "none" is 1')
check(value('memdelta_trend_slope_bytes_per_second', target=name, series='private_committed') is None,
      'no trend slope during the warm-up')
written = value('memdelta_snapshots_written_total')
check(written is not None and written >= 2, f'snapshots_written_total {written} >= 2 (one before the growth, one showing it)')
check(value('memdelta_storage_ok') == 1, 'storage ok')
check(value('memdelta_database_bytes') > 0, 'database bytes')
EOF
cat "$T/cmp"
count_results "$T/cmp"
grep -qE '^(ok|FAIL)' "$T/cmp" || fail "the comparison did not run"
grep -q Traceback "$T/cmp" && fail "the comparison crashed"

if stop_daemon; then ok "SIGTERM: memdeltad exits 0"
else fail "memdeltad exit status $? (log: $(tail -5 "$T/log"))"; fi

summary
