#!/usr/bin/env bash
# Builds the libFuzzer targets with clang-14 (ASan + UBSan) and runs each for SECONDS.
#
#   tests/fuzz/run.sh [SECONDS] [TARGET...]     default 10 s, every target
#
# Targets and their largest input (-max_len) are in TARGETS_TABLE below. The seed corpora are
# in tests/fuzz/corpus/<target>/ (kept small); what a run finds goes to build/fuzz/corpus/<target>
# (seeded from the repository's), crashes to build/fuzz/artifacts/<target>/. exposition also
# gets a generated multi-MB seed (build/fuzz/seeds/exposition/, not in the repository), so its
# runs mutate inputs of several MB from the start. Prints one line per target with the inputs
# tried; exits 1 if any target crashed. VIGIL_FUZZ_BUILD_DIR overrides the build directory;
# VIGIL_FUZZ_JOBS the build parallelism (default 2); VIGIL_FUZZ_RUNS=N stops each target after
# N inputs (-runs; SECONDS still bounds it), for the long runs in docs/reliability.md;
# VIGIL_FUZZ_PARALLEL how many targets run at once (default 2).
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_EACH=${1:-10}
shift || true
# target         -max_len (bytes)
TARGETS_TABLE='
promql_parser  4096
rule_file      4096
config         4096
exposition     8388608
redis_info     4096
proc           4096
http_api       65536
template       16384
'
ALL=()
declare -A MAX_LEN
while read -r name len; do
  [ -n "$name" ] || continue
  ALL+=("$name")
  MAX_LEN[$name]=$len
done <<<"$TARGETS_TABLE"
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=("${ALL[@]}")
for t in "${TARGETS[@]}"; do
  [ -n "${MAX_LEN[$t]:-}" ] || { echo "run.sh: unknown target $t (targets: ${ALL[*]})" >&2; exit 2; }
done
BUILD=${VIGIL_FUZZ_BUILD_DIR:-build/fuzz}

command -v clang++-14 >/dev/null || { echo "run.sh: clang++-14 is missing (apt-get install clang-14 libclang-rt-14-dev)" >&2; exit 2; }
mkdir -p "$BUILD"
if [ ! -f "$BUILD/build.ninja" ]; then
  CC=clang-14 CXX=clang++-14 cmake -S tests/fuzz/project -B "$BUILD" -G Ninja \
    -DCMAKE_BUILD_TYPE=None >"$BUILD.configure.log" 2>&1 ||
    { cat "$BUILD.configure.log" >&2; exit 2; }
fi
cmake --build "$BUILD" -j "${VIGIL_FUZZ_JOBS:-2}" --target $(printf '%s_fuzz ' "${TARGETS[@]}") >"$BUILD/build.log" 2>&1 ||
  { tail -50 "$BUILD/build.log" >&2; exit 2; }

# A text format page of about 4 MiB: 6,000 histogram families of a few series each, with
# HELP texts, escaped label values and timestamps.
big_exposition() {
  awk 'BEGIN {
    for (i = 0; i < 6000; i++) {
      printf "# HELP big_%d_seconds Latency of route %d, with \\\\ and \\n escaped.\n", i, i
      printf "# TYPE big_%d_seconds histogram\n", i
      split("0.005 0.05 0.5 5 +Inf", le, " ")
      for (b = 1; b <= 5; b++)
        printf "big_%d_seconds_bucket{job=\"api\",route=\"/r/%d\\\"x\\\"\",le=\"%s\"} %d 1700000000%03d\n", i, i, le[b], b * i, b
      printf "big_%d_seconds_sum{job=\"api\",route=\"/r/%d\\\"x\\\"\"} %.3f\n", i, i, i * 0.37
      printf "big_%d_seconds_count{job=\"api\",route=\"/r/%d\\\"x\\\"\"} %d\n", i, i, 5 * i
    }
  }'
}

# One target: fuzzes it, prints its line, exits 1 if it crashed.
fuzz_one() {
  local t=$1
  local corpus="$BUILD/corpus/$t" artifacts="$BUILD/artifacts/$t" log="$BUILD/$t.log"
  mkdir -p "$corpus" "$artifacts"
  local extra_seeds=()
  if [ "$t" = exposition ]; then
    mkdir -p "$BUILD/seeds/exposition"
    [ -s "$BUILD/seeds/exposition/big" ] || big_exposition >"$BUILD/seeds/exposition/big"
    extra_seeds=("$BUILD/seeds/exposition")
  fi
  local runs=()
  [ -z "${VIGIL_FUZZ_RUNS:-}" ] || runs=(-runs="$VIGIL_FUZZ_RUNS")
  local started rc took execs cov
  started=$(date +%s)
  set +e
  # -detect_leaks=0: the parsers' caches (static RE2s, the test storage) are intentional.
  ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1 \
    "$BUILD/${t}_fuzz" "$corpus" "tests/fuzz/corpus/$t" "${extra_seeds[@]}" \
    -max_total_time="$SECONDS_EACH" "${runs[@]}" -timeout=10 -rss_limit_mb=2048 \
    -max_len="${MAX_LEN[$t]}" -print_final_stats=1 -artifact_prefix="$artifacts/" >"$log" 2>&1
  rc=$?
  set -e
  took=$(($(date +%s) - started))
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo "?")
  if [ $rc -ne 0 ]; then
    echo "FAIL $t: exit $rc after $execs inputs in ${took}s; see $log and $artifacts/"
    grep -m5 -E 'ERROR|runtime error|SUMMARY|deadly signal' "$log" || true
    return 1
  fi
  echo "ok   $t: $execs inputs in ${took}s, coverage $cov, corpus $(ls "$corpus" | wc -l) files"
}

# VIGIL_FUZZ_PARALLEL targets at a time (default 2: the short run in CI has the machine to
# itself, RUN_SERIAL); each is one process on one core.
parallel=${VIGIL_FUZZ_PARALLEL:-2}
failed=0
pids=()
for t in "${TARGETS[@]}"; do
  fuzz_one "$t" &
  pids+=($!)
  if [ ${#pids[@]} -ge "$parallel" ]; then
    wait "${pids[0]}" || failed=1
    pids=("${pids[@]:1}")
  fi
done
for p in "${pids[@]}"; do wait "$p" || failed=1; done
exit $failed
