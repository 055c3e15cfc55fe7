#!/usr/bin/env bash
# Builds the libFuzzer targets with clang-14 (ASan + UBSan) and runs each for SECONDS.
#
#   tests/fuzz/run.sh [SECONDS] [TARGET...]     default 10 s, every target
#
# Targets: promql_parser rule_file config exposition redis_info proc. The seed corpora are in
# tests/fuzz/corpus/<target>/ (kept small); what a run finds goes to build/fuzz/corpus/<target>
# (seeded from the repository's), crashes to build/fuzz/artifacts/<target>/. Prints one line
# per target with the inputs tried; exits 1 if any target crashed. VIGIL_FUZZ_BUILD_DIR
# overrides the build directory; VIGIL_FUZZ_JOBS the build parallelism (default 2).
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_EACH=${1:-10}
shift || true
ALL=(promql_parser rule_file config exposition redis_info proc)
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=("${ALL[@]}")
BUILD=${VIGIL_FUZZ_BUILD_DIR:-build/fuzz}

command -v clang++-14 >/dev/null || { echo "run.sh: clang++-14 is missing (apt-get install clang-14 libclang-rt-14-dev)" >&2; exit 2; }
if [ ! -f "$BUILD/build.ninja" ]; then
  CC=clang-14 CXX=clang++-14 cmake -S tests/fuzz/project -B "$BUILD" -G Ninja \
    -DCMAKE_BUILD_TYPE=None >"$BUILD.configure.log" 2>&1 ||
    { cat "$BUILD.configure.log" >&2; exit 2; }
fi
cmake --build "$BUILD" -j "${VIGIL_FUZZ_JOBS:-2}" --target $(printf '%s_fuzz ' "${TARGETS[@]}") >"$BUILD/build.log" 2>&1 ||
  { tail -50 "$BUILD/build.log" >&2; exit 2; }

failed=0
for t in "${TARGETS[@]}"; do
  corpus="$BUILD/corpus/$t"
  artifacts="$BUILD/artifacts/$t"
  mkdir -p "$corpus" "$artifacts"
  log="$BUILD/$t.log"
  set +e
  # -detect_leaks=0: the parsers' caches (static RE2s, the test storage) are intentional.
  ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1 \
    "$BUILD/${t}_fuzz" "$corpus" "tests/fuzz/corpus/$t" -max_total_time="$SECONDS_EACH" \
    -timeout=10 -rss_limit_mb=2048 -max_len=4096 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" >"$log" 2>&1
  rc=$?
  set -e
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo "?")
  if [ $rc -ne 0 ]; then
    failed=1
    echo "FAIL $t: exit $rc after $execs inputs; see $log and $artifacts/"
    grep -m5 -E 'ERROR|runtime error|SUMMARY|deadly signal' "$log" || true
  else
    echo "ok   $t: $execs inputs in ${SECONDS_EACH}s, coverage $cov, corpus $(ls "$corpus" | wc -l) files"
  fi
done
exit $failed
