#!/usr/bin/env bash
# tests/fuzz/run.sh - build the libFuzzer targets of tests/fuzz/ with clang
# under AddressSanitizer + UndefinedBehaviorSanitizer and run each for a while
# on its committed seed corpus (docs/reliability.md, "Fuzzing").
#
#   bash tests/fuzz/run.sh [SECONDS] [TARGET...]   run each target SECONDS (default 60)
#   bash tests/fuzz/run.sh --merge [TARGET...]     add to tests/fuzz/corpus/TARGET the small
#                                                  inputs earlier runs found that add coverage
#                                                  (-merge=1)
#
# TARGET is smaps, stat, windows, config or api (default: all).  The build
# lives in $MD_FUZZ_BUILD (default _build/fuzz, beside the CI's other build
# trees): a separate configure with CC=clang, so the normal gcc build is not
# touched.  New inputs go to $MD_FUZZ_BUILD/corpus/TARGET; the committed
# corpus is only read, except by --merge.  MD_FUZZ_JOBS=N runs N targets at
# a time (default 1); MD_FUZZ_CC names the compiler (clang), MD_FUZZ_MAKE_JOBS
# the build's -j (2), MD_FUZZ_MERGE_MAX the largest input --merge adds (2048).
#
# Exit status: 0 when no target crashed; 1 when one did (its input is printed
# in hex and kept under $MD_FUZZ_BUILD/crashes/TARGET/); 77 when clang or
# libFuzzer is missing (Debian: clang, libclang-rt-14-dev); 2 on a build error.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
all_targets=(smaps stat windows config api)

merge=0
seconds=60
if [ "${1:-}" = --merge ]; then
  merge=1; shift
elif [ $# -gt 0 ] && [[ $1 =~ ^[0-9]+$ ]]; then
  seconds=$1; shift
fi
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")
for t in "${targets[@]}"; do
  [ -f "$here/fuzz_$t.c" ] || { echo "run.sh: no target '$t' (${all_targets[*]})" >&2; exit 2; }
done

build=${MD_FUZZ_BUILD:-$top/_build/fuzz}
mkdir -p "$build"
build=$(cd "$build" && pwd)
cc=${MD_FUZZ_CC:-clang}

# Can clang build and link a fuzzer with both sanitizers here?
if ! command -v "$cc" >/dev/null 2>&1; then
  echo "run.sh: SKIP: $cc not found (Debian: apt-get install clang libclang-rt-14-dev)"; exit 77
fi
probe="$build/probe"
printf '#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' >"$probe.c"
if ! "$cc" -fsanitize=fuzzer,address,undefined "$probe.c" -o "$probe" 2>"$probe.log"; then
  cat "$probe.log"
  echo "run.sh: SKIP: $cc cannot link -fsanitize=fuzzer,address,undefined (Debian: libclang-rt-14-dev)"; exit 77
fi

# The libraries, built by the project's own makefile in a clang tree: every
# object instrumented for coverage (fuzzer-no-link) and checked by ASan and
# UBSan (--enable-sanitizers: UBSan aborts, it does not recover).
echo "== building the fuzz targets in $build"
if [ ! -x "$top/configure" ]; then
  (cd "$top" && autoreconf -fi) >"$build/autoreconf.log" 2>&1 || { cat "$build/autoreconf.log"; exit 2; }
fi
flags="-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link"
if [ ! -f "$build/Makefile" ] || [ "$(cat "$build/.flags" 2>/dev/null)" != "$cc $flags" ]; then
  (cd "$build" && "$top/configure" -q CC="$cc" CFLAGS="$flags" --enable-sanitizers) \
    >"$build/configure.log" 2>&1 || { tail -n 40 "$build/configure.log"; exit 2; }
  echo "$cc $flags" >"$build/.flags"
fi
(cd "$build" && make -j"${MD_FUZZ_MAKE_JOBS:-2}" libmemdelta.a libmemdelta_web.a libmemdelta_daemon.a) \
  >"$build/make.log" 2>&1 || { tail -n 40 "$build/make.log"; exit 2; }

pc_libs=$(pkg-config --libs sqlite3 libcjson libmicrohttpd inih libcurl) || exit 2
pc_cflags=$(pkg-config --cflags sqlite3 libcjson libmicrohttpd inih libcurl) || exit 2
link() { # target extra-sources...
  local t=$1; shift
  # shellcheck disable=SC2086
  "$cc" -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
    -fno-sanitize-recover=undefined -DHAVE_CONFIG_H -I"$build" -I"$top" $pc_cflags \
    -Wall -Wextra -Wno-unused-parameter \
    "$here/fuzz_$t.c" "$@" \
    "$build/libmemdelta_daemon.a" "$build/libmemdelta_web.a" "$build/libmemdelta.a" \
    $pc_libs -lm -pthread -o "$build/fuzz_$t" 2>"$build/fuzz_$t.build.log" ||
    { cat "$build/fuzz_$t.build.log"; exit 2; }
}
for t in "${targets[@]}"; do
  case $t in
    # compat/ini.c, the Windows INI reader, renamed beside libinih to be compared with it.
    config) link config -Dini_parse_stream=md_compat_ini_parse_stream "$top/snapshot/compat/ini.c" ;;
    *) link "$t" ;;
  esac
done

# --merge: the committed corpus keeps its files and gains those found inputs
# of at most MD_FUZZ_MERGE_MAX bytes (default 2048) that add coverage to it,
# which keeps it small (edges only, -use_counters=0: not every hit count).
if [ "$merge" = 1 ]; then
  for t in "${targets[@]}"; do
    seeds="$here/corpus/$t"; work="$build/corpus/$t"; small="$build/merge-small/$t"
    rm -rf "$small"; mkdir -p "$small" "$work" "$seeds"
    find "$work" -type f -size -"$(( ${MD_FUZZ_MERGE_MAX:-2048} + 1 ))"c -exec cp {} "$small"/ \;
    before=$(ls "$seeds" | wc -l)
    (cd "$build" && "./fuzz_$t" -merge=1 -use_counters=0 "$seeds" "$small" >"$build/merge_$t.log" 2>&1) ||
      { tail -n 30 "$build/merge_$t.log"; exit 1; }
    echo "== $t: $before files + $(( $(ls "$seeds" | wc -l) - before )) of $(ls "$small" | wc -l) small found inputs: $(du -s --apparent-size -k "$seeds" | cut -f1) KiB"
  done
  exit 0
fi

# Run: a working corpus per target (first directory: new inputs go there),
# the committed seeds read beside it.
run_one() { # target
  local t=$1 work="$build/corpus/$t" crashes="$build/crashes/$t" log="$build/fuzz_$t.log"
  rm -rf "$crashes"; mkdir -p "$work" "$crashes"
  (cd "$build" && "./fuzz_$t" "$work" "$here/corpus/$t" -max_total_time="$seconds" \
      -timeout=25 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$crashes/" \
      >"$log" 2>&1)
  echo $? >"$build/fuzz_$t.rc"
}
jobs_max=${MD_FUZZ_JOBS:-1}
for t in "${targets[@]}"; do
  echo "== fuzz_$t: ${seconds} s"
  run_one "$t" &
  while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do wait -n; done
done
wait

status=0
printf '%-8s %8s %12s %8s %8s %8s %8s  %s\n' target seconds execs exec/s cov ft corpus result
for t in "${targets[@]}"; do
  log="$build/fuzz_$t.log"; rc=$(cat "$build/fuzz_$t.rc" 2>/dev/null || echo 1)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\/[0-9a-zA-Z]*\).*/\1/p' <<<"$last")
  result=ok
  if [ "$rc" != 0 ]; then
    result="CRASH (exit $rc)"; status=1
  fi
  printf '%-8s %8s %12s %8s %8s %8s %8s  %s\n' "$t" "$seconds" "${execs:-?}" "${rate:-?}" \
    "${cov:-?}" "${ft:-?}" "${corp:-?}" "$result"
done
for t in "${targets[@]}"; do
  rc=$(cat "$build/fuzz_$t.rc" 2>/dev/null || echo 1)
  [ "$rc" = 0 ] && continue
  echo "===== fuzz_$t failed: the end of $build/fuzz_$t.log"
  tail -n 60 "$build/fuzz_$t.log"
  for f in "$build/crashes/$t"/*; do
    [ -f "$f" ] || continue
    echo "===== $f ($(wc -c <"$f") bytes), in hex:"
    od -An -tx1 -v "$f" | head -n 100
    echo "replay: $build/fuzz_$t $f"
  done
done
exit "$status"
