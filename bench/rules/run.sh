#!/usr/bin/env bash
# The rule engine against Prometheus: vigil and Prometheus 2.42 scrape the same synthetic
# service fleet (bench/rules/target.py: 10 instances, ~10,000 series) at the same interval and
# evaluate the same group of 50 rules (bench/rules/rules.yml) at the same interval. After a
# warm-up longer than the rules' largest range, prints one markdown table: series each one
# holds, evaluation time of the group (vigil_rule_group_last_duration_seconds against
# prometheus_rule_group_last_duration_seconds), vigil's bytes per stored sample, RSS; then
# every recording rule's result in both, compared, and the alerts of both.
#
# Usage: bench/rules/run.sh [--out FILE]
# Env:   INTERVAL (5: seconds between scrapes and between evaluations, both programs),
#        WARMUP (200: seconds before measuring; the rules read at most [3m]),
#        SAMPLES (12: evaluations measured per program), INSTANCES (10: ~980 series each),
#        BUILD (build/release; vigil is built with the release preset if missing)
# Everything listens on 127.0.0.1 (free ports) with its state in a temporary directory, and is
# stopped by PID on exit. About 5 minutes with the defaults.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
here=$root/bench/rules
out=/tmp/vigil-rules-bench.md
while [ $# -gt 0 ]; do
  case $1 in
    --out) out=$2; shift ;;
    *) echo "usage: $0 [--out FILE]" >&2; exit 2 ;;
  esac
  shift
done
INTERVAL=${INTERVAL:-5}
WARMUP=${WARMUP:-200}
SAMPLES=${SAMPLES:-12}
INSTANCES=${INSTANCES:-10}
build=${BUILD:-$root/build/release}
vigil=$build/agent/app/vigil
servers=$root/tests/support/servers.sh

command -v prometheus >/dev/null || { echo "prometheus is not installed (apt-get install prometheus)" >&2; exit 1; }
if [ ! -x "$vigil" ]; then
  (cd "$root" && cmake --preset release >/dev/null && cmake --build --preset release -j2 --target vigil)
fi

dir=$(mktemp -d /tmp/vigil-rules-bench.XXXXXX)
pids=()
cleanup() {
  set +e
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_bg() {  # LOGNAME CMD...
  "${@:2}" >"$dir/$1.log" 2>&1 &
  pids+=("$!")
}
wait_ready() {  # NAME URL: up to 30 s
  for _ in $(seq 300); do
    curl -fsS -o /dev/null "$2" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "$1 did not become ready; its log:" >&2
  tail -20 "$dir/$1.log" >&2
  return 1
}

# --- the targets -------------------------------------------------------------------------------
# They outlive the run by a margin and stop by themselves if this script is killed hard.
start_bg target python3 "$here/target.py" --instances "$INSTANCES" --ports-file "$dir/ports" \
  --seconds $((WARMUP + SAMPLES * INTERVAL * 4 + 300))
for _ in $(seq 100); do [ -s "$dir/ports" ] && break; sleep 0.1; done
[ -s "$dir/ports" ] || { echo "target did not start" >&2; cat "$dir/target.log" >&2; exit 1; }
mapfile -t ports <"$dir/ports"

# --- vigil and Prometheus: the same targets, rules and intervals -------------------------------
cp "$here/rules.yml" "$dir/rules.yml"
sed -i -E "s/^(\s+interval:) .*/\1 ${INTERVAL}s/" "$dir/rules.yml"
vport=$("$servers" free-port)
pport=$("$servers" free-port)
while [ "$pport" = "$vport" ]; do pport=$("$servers" free-port); done
{
  echo "global: {collect_interval: ${INTERVAL}s, evaluation_interval: ${INTERVAL}s}"
  echo "web: {listen_address: 127.0.0.1:$vport}"
  echo "rule_files: [$dir/rules.yml]"
  echo "scrape:"
  for i in "${!ports[@]}"; do
    echo "  - {name: svc-$i, job: svc, url: http://127.0.0.1:${ports[$i]}/metrics}"
  done
} >"$dir/vigil.yml"
targets=$(printf '"127.0.0.1:%s", ' "${ports[@]}")
cat >"$dir/prometheus.yml" <<YML
global: {scrape_interval: ${INTERVAL}s, evaluation_interval: ${INTERVAL}s}
rule_files: [$dir/rules.yml]
scrape_configs:
  - job_name: svc
    static_configs: [{targets: [${targets%, }]}]
YML
"$vigil" check config "$dir/vigil.yml" >/dev/null
promtool check config "$dir/prometheus.yml" >/dev/null

start_bg vigil "$vigil" --config.file="$dir/vigil.yml" --log.level=warn
start_bg prometheus prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/prom" \
  --web.listen-address="127.0.0.1:$pport" --log.level=warn
wait_ready vigil "http://127.0.0.1:$vport/-/ready"
wait_ready prometheus "http://127.0.0.1:$pport/-/ready"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
echo "vigil :$vport and Prometheus :$pport scrape ${#ports[@]} targets every ${INTERVAL}s; warm-up ${WARMUP}s"
end=$((SECONDS + WARMUP))
while [ $SECONDS -lt $end ]; do
  sleep $((end - SECONDS < 30 ? end - SECONDS : 30))
  for p in "${pids[@]}"; do
    kill -0 "$p" 2>/dev/null || { echo "a process exited early; logs in $dir:" >&2; tail -5 "$dir"/*.log >&2; exit 1; }
  done
  echo "  $((WARMUP - end + SECONDS))s, load $(cut -d' ' -f1-3 /proc/loadavg)"
done

# --- measure -----------------------------------------------------------------------------------
{
  echo "- machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load average $load_start at start"
  echo "- vigil $(git -C "$root" rev-parse --short HEAD) (release build), $(dpkg-query -W -f='${Package} ${Version}' prometheus)"
  echo "- ${#ports[@]} targets, scrape and evaluation every ${INTERVAL}s, measured after ${WARMUP}s"
  echo
  python3 "$here/measure.py" --vigil "http://127.0.0.1:$vport" --prom "http://127.0.0.1:$pport" \
    --rules "$dir/rules.yml" --group bench --samples "$SAMPLES" --interval "$INTERVAL"
  echo
  echo "- load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
  if [ -s "$dir/vigil.log" ]; then
    echo "- vigil logged $(wc -l <"$dir/vigil.log") lines at warn or above; the last:"
    tail -3 "$dir/vigil.log" | sed 's/^/    /'
  fi
} | tee "$out"
echo "written: $out"
