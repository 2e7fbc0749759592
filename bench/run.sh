#!/bin/bash
# bench/run.sh - the collection benchmark: how long one snapshot of a process costs with
# `memdelta snapshot`, next to the floor (read and minimally parse /proc/PID/smaps in C)
# and next to `pmap -XX`, for targets holding 1,000 and 10,000 regions.
#
# Usage: bench/run.sh BUILDDIR
#   BUILDDIR is a configured and built tree (`make` done): this script builds nothing.
# Environment (all optional):
#   SIZES="1000 10000"  region counts of the targets
#   ROUNDS=5            rounds; each round runs every command RUNS times, in a rotated order
#   RUNS=10             timed runs per command per round (plus one warm-up run)
#   FLOOR_ITER=100      iterations of the in-process floor loop, once per round
#   DOC=FILE            markdown file whose results section is rewritten
#                       (default: docs/performance.md next to this script; DOC= to skip)
#   TIMER=hyperfine|bash  force the timer (default: hyperfine, installed with apt-get when
#                       missing and possible; else a bash loop on $EPOCHREALTIME)
#   FAULT_RUNS=5        runs of `perf stat -e page-faults` per command (0: skip; needs perf)
#
# Every figure is the median over ROUNDS x RUNS wall-clock samples of one process each
# (fork, exec, run, exit), except "floor, in-process", which is the median time of one
# iteration inside a single smaps_floor process. See bench/README.md.
set -euo pipefail

usage() {
	sed -n '2,17s/^# \{0,1\}//p' "$0" >&2
	exit 2
}

[ $# -eq 1 ] || usage
[ -d "$1" ] || { echo "run.sh: $1: not a directory" >&2; exit 2; }
B=$(cd "$1" && pwd)
SRC=$(cd "$(dirname "$0")/.." && pwd)
SIZES=${SIZES:-"1000 10000"}
ROUNDS=${ROUNDS:-5}
RUNS=${RUNS:-10}
FLOOR_ITER=${FLOOR_ITER:-100}
FAULT_RUNS=${FAULT_RUNS:-5}
DOC=${DOC-$SRC/docs/performance.md}
TIMER=${TIMER:-hyperfine}

FLOOR=$B/bench/smaps_floor
TARGET=$B/bench/regions_target
STORE_SIZE=$B/bench/store_size
MD=
for m in "$B/memdelta" "$B/daemon/memdelta"; do
	if [ -x "$m" ]; then MD=$m; break; fi
done
for p in "$FLOOR" "$TARGET"; do
	[ -x "$p" ] || { echo "run.sh: $p missing: build the tree first (make -j2)" >&2; exit 2; }
done
command -v pmap >/dev/null || { echo "run.sh: pmap (procps) is required" >&2; exit 2; }
command -v jq >/dev/null || { echo "run.sh: jq is required" >&2; exit 2; }

# The timer: hyperfine runs each command without a shell (-N), so process start is
# measured as a plain fork+exec; the bash fallback adds bash's own fork to every command.
if [ "$TIMER" = hyperfine ] && ! command -v hyperfine >/dev/null; then
	if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
		echo "run.sh: installing hyperfine" >&2
		apt-get install -y hyperfine >/dev/null 2>&1 ||
			{ apt-get update >/dev/null 2>&1 && apt-get install -y hyperfine >/dev/null 2>&1; } || true
	fi
	command -v hyperfine >/dev/null || { echo "run.sh: no hyperfine; timing with bash" >&2; TIMER=bash; }
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/memdelta-bench.XXXXXX")
TPID=
TFD=
cleanup() {
	if [ -n "$TFD" ]; then eval "exec $TFD>&-"; fi
	if [ -n "$TPID" ]; then kill "$TPID" 2>/dev/null || true; wait "$TPID" 2>/dev/null || true; fi
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_target K: start regions_target holding K regions; sets TPID, TFD, PID, NREG.
# Its stdin is a fifo this script holds open: closing it (or exiting) ends the target.
start_target() {
	local k=$1 fifo=$WORK/in.$1 ready=$WORK/ready.$1 i
	mkfifo "$fifo"
	"$TARGET" "$k" <"$fifo" >"$ready" &
	TPID=$!
	exec {TFD}>"$fifo"
	for ((i = 0; i < 300; i++)); do
		if [ -s "$ready" ] && read -r word PID NREG <"$ready" && [ "$word" = ready ]; then
			return 0
		fi
		kill -0 "$TPID" 2>/dev/null || break
		sleep 0.1
	done
	echo "run.sh: regions_target $k did not start" >&2
	exit 1
}

stop_target() {
	eval "exec $TFD>&-"
	TFD=
	wait "$TPID" 2>/dev/null || true
	TPID=
}

# median NAME FILE: median of all samples of NAME in FILE (lines "name round seconds").
median() {
	awk -v n="$1" '$1 == n { print $3 }' "$2" | sort -g |
		awk '{ v[NR] = $1 } END { if (NR == 0) print ""; else if (NR % 2) print v[(NR + 1) / 2];
			else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# spread NAME FILE: "lowest-highest" of the per-round medians of NAME, in ms.
spread() {
	awk -v n="$1" '$1 == n { print $2, $3 }' "$2" | sort -k1,1n -k2,2g |
		awk '{ r[$1] = r[$1] " " $2 } END { lo = ""; hi = "";
			for (k in r) { c = split(substr(r[k], 2), v, " ");
				m = (c % 2) ? v[(c + 1) / 2] : (v[c / 2] + v[c / 2 + 1]) / 2;
				if (lo == "" || m < lo) lo = m; if (hi == "" || m > hi) hi = m }
			if (lo != "") printf "%.3f-%.3f", lo * 1000, hi * 1000 }'
}

ms() { [ -n "$1" ] && awk -v s="$1" 'BEGIN { printf "%.3f", s * 1000 }' || printf 'n/a'; }
ratio() { [ -n "$1" ] && [ -n "$2" ] && awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }' || printf 'n/a'; }

# faults CMD: mean page faults of one run of CMD (a shell-quoted command line), from
# `perf stat`; empty when perf cannot count them.  Page faults are most of what a
# process pays the kernel beyond the read itself (see docs/performance.md).
faults() {
	[ "$FAULT_RUNS" -gt 0 ] && command -v perf >/dev/null || return 0
	eval "perf stat -x, -e page-faults -r $FAULT_RUNS -- $1" 2>&1 >/dev/null |
		awk -F, '$3 == "page-faults" && $1 ~ /^[0-9.]+$/ { printf "%.0f", $1 }' || true
}

# time_round ROUND SAMPLES NAME=CMD...: time every command RUNS times, in an order rotated
# by ROUND, and append "name round seconds" lines to SAMPLES (and "name user sys" to
# SAMPLES.cpu when hyperfine gives them).
time_round() {
	local round=$1 samples=$2 n i j
	shift 2
	local -a specs=("$@") order=()
	n=${#specs[@]}
	for ((i = 0; i < n; i++)); do order+=("${specs[$(((i + round) % n))]}"); done
	if [ "$TIMER" = hyperfine ]; then
		local -a args=()
		for s in "${order[@]}"; do args+=(-n "${s%%=*}" "${s#*=}"); done
		hyperfine -N --style none --warmup 1 --runs "$RUNS" --export-json "$WORK/round.json" \
			"${args[@]}" >/dev/null
		jq -r --arg r "$round" '.results[] | .command as $c | .times[] | "\($c) \($r) \(.)"' \
			"$WORK/round.json" >>"$samples"
		jq -r '.results[] | "\(.command) \(.user) \(.system) \(.mean)"' "$WORK/round.json" \
			>>"$samples.cpu"
		return
	fi
	for s in "${order[@]}"; do eval "${s#*=}" >/dev/null 2>&1; done # warm-up
	for ((j = 0; j < RUNS; j++)); do
		for s in "${order[@]}"; do
			local t0 t1
			t0=$EPOCHREALTIME
			eval "${s#*=}" >/dev/null 2>&1
			t1=$EPOCHREALTIME
			awk -v n="${s%%=*}" -v r="$round" -v a="$t0" -v b="$t1" \
				'BEGIN { printf "%s %s %.9f\n", n, r, b - a }' >>"$samples"
		done
	done
}

# The machine and the build, for the record.
DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
KERNEL=$(uname -r)
CPU=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
NCPU=$(nproc)
LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
REV=$(git -C "$SRC" describe --always --dirty 2>/dev/null || echo unknown)
if [ "$TIMER" = hyperfine ]; then TIMER_DESC="hyperfine $(hyperfine --version | cut -d' ' -f2) -N"; else
	TIMER_DESC="bash \$EPOCHREALTIME loop"; fi

MD_NOTE=
if [ -z "$MD" ]; then
	MD_NOTE="- memdelta was not found in $B: its columns could not be measured."$'\n'
fi

ROWS=
DETAIL=
declare -A MED=()
FIRST_K=
LAST_K=
TARGETS=
for K in $SIZES; do
	start_target "$K"
	echo "run.sh: $K regions: pid $PID holds $NREG regions" >&2
	db=$WORK/steady.$K.db
	db0=$WORK/empty.$K.db
	samples=$WORK/samples.$K
	: >"$samples"
	: >"$samples.cpu"
	specs=("floor=$(printf '%q %q 1' "$FLOOR" "$PID")"
		"pmap=$(printf 'pmap -XX %q' "$PID")")
	have_md=0
	note=
	if [ -n "$MD" ]; then
		if "$MD" snapshot "$PID" --format=json -o "$WORK/check.json" 2>"$WORK/check.err" &&
			jq -e . "$WORK/check.json" >/dev/null 2>>"$WORK/check.err"; then
			have_md=1
			specs+=("memdelta=$(printf '%q snapshot %q --format=json -o /dev/null' "$MD" "$PID")"
				"memdelta_csv=$(printf '%q snapshot %q --format=csv -o /dev/null' "$MD" "$PID")")
			got=$(jq '.regions | length' "$WORK/check.json" 2>/dev/null || echo '?')
			if [ "$got" != "$NREG" ]; then
				note+="memdelta reported $got regions. "
			fi
		else
			note+="memdelta snapshot failed, so its columns could not be measured: $(head -c 300 "$WORK/check.err" | tr '\n' ' ') "
		fi
		if [ "$have_md" = 1 ] &&
			"$MD" snapshot "$PID" --db "$db" --format=json -o /dev/null 2>"$WORK/check.err"; then
			have_md=2
			specs+=("memdelta_db=$(printf '%q snapshot %q --db %q --format=json -o /dev/null' "$MD" "$PID" "$db")")
		elif [ "$have_md" = 1 ]; then
			note+="memdelta snapshot --db failed, so the --db columns could not be measured: $(head -c 300 "$WORK/check.err" | tr '\n' ' ') "
		fi
		if [ -n "$note" ]; then
			echo "run.sh: $K regions: $note" >&2
			MD_NOTE+="- $NREG regions: $note"$'\n'
		fi
	fi
	for ((r = 1; r <= ROUNDS; r++)); do
		echo "run.sh: $K regions: round $r/$ROUNDS" >&2
		time_round "$r" "$samples" "${specs[@]}"
		# The first snapshot into an empty database: it writes every region.
		if [ "$have_md" = 2 ] && [ "$TIMER" = hyperfine ]; then
			hyperfine -N --style none --runs "$RUNS" \
				--prepare "rm -f $db0 $db0-wal $db0-shm $db0-journal" -n memdelta_db_empty \
				"$(printf '%q snapshot %q --db %q --format=json -o /dev/null' "$MD" "$PID" "$db0")" \
				--export-json "$WORK/empty.json" >/dev/null
			jq -r --arg r "$r" '.results[] | .command as $c | .times[] | "\($c) \($r) \(.)"' \
				"$WORK/empty.json" >>"$samples"
		elif [ "$have_md" = 2 ]; then
			for ((j = 0; j < RUNS; j++)); do
				rm -f "$db0" "$db0-wal" "$db0-shm" "$db0-journal"
				t0=$EPOCHREALTIME
				"$MD" snapshot "$PID" --db "$db0" --format=json -o /dev/null >/dev/null 2>&1
				t1=$EPOCHREALTIME
				awk -v r="$r" -v a="$t0" -v b="$t1" \
					'BEGIN { printf "memdelta_db_empty %s %.9f\n", r, b - a }' >>"$samples"
			done
		fi
		# The floor loop inside one process: the kernel's cost + the minimal parse.
		line=$("$FLOOR" "$PID" "$FLOOR_ITER")
		ns=${line##*ns_median=}
		ns=${ns%% *}
		awk -v r="$r" -v ns="$ns" 'BEGIN { printf "floor_loop %s %.9f\n", r, ns / 1e9 }' >>"$samples"
	done
	declare -A FAULTS=()
	for s in "${specs[@]}"; do FAULTS[${s%%=*}]=$(faults "${s#*=}"); done
	records=${line#*records=}
	records=${records%% *}
	bytes=${line#*bytes=}
	bytes=${bytes%% *}
	stop_target

	f_loop=$(median floor_loop "$samples")
	f_proc=$(median floor "$samples")
	m=$(median memdelta "$samples")
	m_db=$(median memdelta_db "$samples")
	m_db0=$(median memdelta_db_empty "$samples")
	p=$(median pmap "$samples")
	r_mf=$(ratio "$m" "$f_proc")
	r_pm=$(ratio "$p" "$m")
	ROWS+="| $NREG | $(ms "$f_loop") | $(ms "$f_proc") | $(ms "$m") | $(ms "$m_db") | $(ms "$m_db0") | $(ms "$p") | $r_mf | $(ratio "$m_db" "$f_proc") | $r_pm |"$'\n'
	for name in floor_loop floor memdelta memdelta_csv memdelta_db memdelta_db_empty pmap; do
		med=$(median "$name" "$samples")
		[ -n "$med" ] || continue
		cpu=$(awk -v n="$name" '$1 == n { u += $2; s += $3; c++ }
			END { if (c) printf "%.3f | %.3f", u / c * 1000, s / c * 1000; else printf "n/a | n/a" }' \
			"$samples.cpu")
		cnt=$(awk -v n="$name" '$1 == n' "$samples" | wc -l)
		MED[$name.$NREG]=$med
		DETAIL+="| $NREG | $name | $(ms "$med") | $(spread "$name" "$samples") | $cpu | ${FAULTS[$name]:-n/a} | $cnt |"$'\n'
	done
	[ -n "$FIRST_K" ] || FIRST_K=$NREG
	LAST_K=$NREG
	per_region=$(awk -v s="$f_loop" -v k="$records" 'BEGIN { if (s != "" && k > 0) printf "%.2f", s * 1e6 / k }')
	TARGETS+="- $NREG regions ($records smaps records, $bytes bytes of smaps): floor $per_region µs per region in-process"
	if [ -n "$m" ]; then
		t1=$(awk -v r="$r_mf" 'BEGIN { print (r <= 1.3) ? "met" : "MISSED" }')
		t2=$(awk -v r="$r_pm" 'BEGIN { print (r >= 8) ? "met" : "MISSED" }')
		TARGETS+="; memdelta/floor = $r_mf (target <= 1.3: $t1); pmap -XX/memdelta = $r_pm (target >= 8: $t2)"
		TARGETS+="; with --format=csv instead of json, memdelta/floor = $(ratio "$(median memdelta_csv "$samples")" "$f_proc")"
	else
		TARGETS+="; memdelta not measured"
	fi
	TARGETS+=$'\n'
done

STORE_LINE=
if [ -x "$STORE_SIZE" ]; then
	STORE_OUT=$(cd "$WORK" || exit 0; timeout 600 "$STORE_SIZE" 2>/dev/null || true)
	if grep -q '^store_bytes_per_snapshot=' <<<"$STORE_OUT"; then
		STORE_LINE=$(grep -E '^(regions|snapshots|changes_per_snapshot|store_bytes_per_snapshot|store_bytes_per_snapshot_target|first_snapshot_bytes|put_us_avg)=' \
			<<<"$STORE_OUT" | paste -sd' ')
	fi
fi

REPORT=$WORK/report.md
{
	echo "Measured $DATE on Linux $KERNEL, $CPU ($NCPU CPUs), load average at start $LOAD;"
	echo "memdelta $REV; timer: $TIMER_DESC; $ROUNDS rounds x $RUNS runs per command."
	echo
	echo "| regions | floor, in-process ms | floor, 1 process per read ms | memdelta ms | memdelta --db ms | memdelta --db, empty DB ms | pmap -XX ms | memdelta / floor | memdelta --db / floor | pmap -XX / memdelta |"
	echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	printf '%s' "$ROWS"
	echo
	echo "Ratios are against the like-for-like floor (one process per read). Targets:"
	echo
	printf '%s' "$TARGETS"
	[ -z "$MD_NOTE" ] || { echo; echo "Notes:"; echo; printf '%s' "$MD_NOTE"; }
	echo
	echo "Per command: median, lowest-highest of the per-round medians, mean user and"
	echo "system CPU time per run (from hyperfine; n/a otherwise), and page faults per run"
	echo "(mean of $FAULT_RUNS runs under \`perf stat\`; n/a without perf)."
	echo
	echo "| regions | command | median ms | round medians ms | user ms | sys ms | page faults | samples |"
	echo "|---:|---|---:|---:|---:|---:|---:|---:|"
	printf '%s' "$DETAIL"
	echo
	if [ -n "$FIRST_K" ] && [ "$FIRST_K" != "$LAST_K" ]; then
		echo "Cost per extra region, (median at $LAST_K - median at $FIRST_K) / $((LAST_K - FIRST_K)):"
		echo "process start and other fixed costs cancel out."
		echo
		echo "| command | µs per region | / floor, in-process |"
		echo "|---|---:|---:|"
		base=$(awk -v a="${MED[floor_loop.$FIRST_K]:-}" -v b="${MED[floor_loop.$LAST_K]:-}" \
			-v k=$((LAST_K - FIRST_K)) 'BEGIN { if (a != "" && b != "") print (b - a) / k }')
		for name in floor_loop floor memdelta memdelta_csv memdelta_db memdelta_db_empty pmap; do
			a=${MED[$name.$FIRST_K]:-}
			b=${MED[$name.$LAST_K]:-}
			if [ -z "$a" ] || [ -z "$b" ]; then continue; fi
			awk -v n="$name" -v a="$a" -v b="$b" -v k=$((LAST_K - FIRST_K)) -v f="$base" \
				'BEGIN { d = (b - a) / k; printf "| %s | %.3f | %s |\n", n, d * 1e6,
					(f > 0) ? sprintf("%.2f", d / f) : "n/a" }'
		done
		echo
	fi
	if [ -n "$STORE_LINE" ]; then
		echo "bench/store_size (bytes on disk per stored snapshot; see bench/store_size.c): \`$STORE_LINE\`"
	else
		echo "bench/store_size: not built or printed no \`store_bytes_per_snapshot=\` line."
	fi
} >"$REPORT"
cat "$REPORT"

if [ -n "$DOC" ]; then
	begin='<!-- bench/run.sh results: begin -->'
	end='<!-- bench/run.sh results: end -->'
	[ -f "$DOC" ] || : >"$DOC"
	if ! grep -qF "$begin" "$DOC" || ! grep -qF "$end" "$DOC"; then
		printf '\n## Measured results\n\n%s\n%s\n' "$begin" "$end" >>"$DOC"
	fi
	awk -v b="$begin" -v e="$end" -v f="$REPORT" '
		$0 == b { print; while ((getline l < f) > 0) print l; skip = 1; next }
		$0 == e { skip = 0 }
		!skip { print }' "$DOC" >"$WORK/doc.md"
	cat "$WORK/doc.md" >"$DOC"
	echo "run.sh: results written to $DOC" >&2
fi
