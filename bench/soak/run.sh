#!/usr/bin/env bash
# Soak: the demo stack (deploy/stack.sh) with shop under steady load for SECONDS (default 600),
# vigil collecting every 2 s with the shipped rules. Samples vigil's RSS, threads, open fds,
# exposed series and window series every 30 s, prints them as a table, and a verdict: threads
# and fds unchanged after the first minute, RSS within 5% once the window holds its full
# retention (a run shorter than that gets no RSS verdict).
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

sample() {  # elapsed -> "elapsed rss_kib threads fds series window_series window_kib"
  local rss threads fds series window wbytes body
  rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
  threads=$(awk '/^Threads/ {print $2}' "/proc/$pid/status")
  fds=$(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 | wc -l)
  body=$(curl -fsS "$VIGIL_URL/metrics")
  series=$(grep -vc '^#' <<<"$body")
  window=$(awk '/^vigil_window_series / {print $2}' <<<"$body")
  wbytes=$(awk '/^vigil_window_bytes / {printf "%d", $2 / 1024}' <<<"$body")
  echo "$1 $rss $threads $fds $series ${window:-0} ${wbytes:-0}"
}

echo "| elapsed s | RSS KiB | threads | fds | /metrics series | window series | window chunks KiB |"
echo "|---|---|---|---|---|---|---|"
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

# The window grows until it holds its full retention (the shipped rules need 40 minutes):
# RSS is judged from the first sample after that (plus a minute) to the last. Threads, fds
# and series from the sample after the first minute (warm-up: first top N).
retention=$(curl -fsS "$VIGIL_URL/metrics" | awk '/^vigil_window_retention_seconds / {print int($2)}')
read -r _ _ thr0 fd0 ser0 _ <<<"${samples[2]:-${samples[0]}}"
read -r _ rss1 thr1 fd1 ser1 _ wkib1 <<<"${samples[-1]}"
read -r _ rssw0 _ _ _ _ wkibw0 <<<"${samples[2]:-${samples[0]}}"
# Everything but the window's chunks, from the first minute on: what a leak would grow.
echo "RSS minus window chunks: $((rssw0 - wkibw0)) KiB after the first minute -> $((rss1 - wkib1)) KiB at the end"
rss0=""
for s in "${samples[@]}"; do
  read -r t rss _ <<<"$s"
  if [ "$t" -ge $((${retention:-0} + 60)) ]; then rss0=$rss rss_t=$t; break; fi
done
echo "window retention ${retention:-?} s; threads ${thr0} -> ${thr1}, fds ${fd0} -> ${fd1}," \
  "series ${ser0} -> ${ser1}"
verdict=flat
[ "$thr1" -le "$thr0" ] && [ "$fd1" -le "$fd0" ] || verdict=GROWTH
if [ -n "$rss0" ] && [ "$rss_t" -lt "${samples[-1]%% *}" ]; then
  echo "RSS with the window full: ${rss0} KiB at ${rss_t} s -> ${rss1} KiB ($(( (rss1 - rss0) * 100 / rss0 ))%)"
  [ $(( (rss1 - rss0) * 100 / rss0 )) -le 5 ] || verdict=GROWTH
else
  echo "RSS: the window was still filling (run longer than $((${retention:-0} + 60)) s to judge it)"
fi
echo "soak: $verdict"
