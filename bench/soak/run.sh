#!/usr/bin/env bash
# Soak: the demo stack (deploy/stack.sh) with shop under steady load for SECONDS (default 600),
# vigil collecting every 2 s with the shipped rules. Samples vigil's RSS, threads, open fds,
# exposed series and window series every 30 s, prints them as a table, and a verdict on
# growth after the first minute (RSS within 10%, threads and fds unchanged, series bounded).
#   bench/soak/run.sh [SECONDS] [RATE]      (RATE: shop requests per second, default 200)
# Bounded in time; only 127.0.0.1; everything started is stopped by PID (deploy/stack.sh stop).
set -euo pipefail
cd "$(dirname "$0")/../.."
duration=${1:-600}
rate=${2:-200}
build=${VIGIL_BUILD_DIR:-build/release}
if [ ! -x "$build/agent/app/vigil" ] || [ ! -x "$build/service/shop-load" ]; then
  bash scripts/install-deps.sh
  cmake --preset release >/dev/null
  cmake --build --preset release --target vigil shop shop-load
fi
dir=$(mktemp -d /tmp/vigil-soak.XXXXXX)
cleanup() { VIGIL_BUILD_DIR=$build deploy/stack.sh stop "$dir" >/dev/null 2>&1 || true; rm -rf "$dir"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
VIGIL_BUILD_DIR=$build deploy/stack.sh start "$dir" >/dev/null
# shellcheck disable=SC1091
source "$dir/stack.env"
pid=$(cat "$dir/vigil/pid")

"$build/service/shop-load" --target "$SHOP_ADDR" --scenario steady --rate "$rate" \
  --duration "${duration}s" --quiet >"$dir/load.log" 2>&1 &
load_pid=$!

sample() {  # elapsed -> "elapsed rss_kib threads fds series window_series"
  local rss threads fds series window
  rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
  threads=$(awk '/^Threads/ {print $2}' "/proc/$pid/status")
  fds=$(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 | wc -l)
  series=$(curl -fsS "$VIGIL_URL/metrics" | grep -vc '^#')
  window=$(curl -fsS "$VIGIL_URL/metrics" | awk '/^vigil_window_series / {print $2}')
  echo "$1 $rss $threads $fds $series ${window:-0}"
}

echo "| elapsed s | RSS KiB | threads | fds | /metrics series | window series |"
echo "|---|---|---|---|---|---|"
start=$SECONDS
samples=()
while [ $((SECONDS - start)) -lt "$duration" ]; do
  line=$(sample $((SECONDS - start)))
  samples+=("$line")
  echo "| ${line// / | } |"
  sleep 30
done
line=$(sample $((SECONDS - start)))
samples+=("$line")
echo "| ${line// / | } |"
wait "$load_pid" || true
tail -n 3 "$dir/load.log"

# Growth from the sample after the first minute (warm-up: window filling, first top N).
read -r _ rss0 thr0 fd0 ser0 _ <<<"${samples[2]:-${samples[0]}}"
read -r _ rss1 thr1 fd1 ser1 _ <<<"${samples[-1]}"
echo "growth after warm-up: RSS ${rss0} -> ${rss1} KiB ($(( (rss1 - rss0) * 100 / rss0 ))%)," \
  "threads ${thr0} -> ${thr1}, fds ${fd0} -> ${fd1}, series ${ser0} -> ${ser1}"
if [ $(( (rss1 - rss0) * 100 / rss0 )) -le 10 ] && [ "$thr1" -le "$thr0" ] && [ "$fd1" -le "$fd0" ]; then
  echo "soak: flat"
else
  echo "soak: GROWTH"
fi
