#!/usr/bin/env bash
# The vigil demo on this machine (Debian 12, as root): installs what is missing, builds vigil,
# shop and shop-load, starts PostgreSQL (pg_stat_statements), Redis, shop, vigil with the shipped
# rules, Prometheus and Alertmanager on free loopback ports (deploy/stack.sh), then runs a
# timeline of shop-load scenarios with a live view and a summary of the alerts.
#
#   scripts/demo.sh [--short] [--scenarios a,b:SECONDS,...] [--keep] [--rate N] [--no-build]
#
#   --short        a timeline of about 9 minutes (CI); the full one takes about 20
#   --scenarios    the timeline (default steady,cache-flush,slow-query,pool-exhaustion,recovery);
#                  NAME:SECONDS sets a scenario's length (shop-load scenarios; recovery = steady)
#   --keep         after the timeline, keep everything running and print the URLs (Ctrl-C stops)
#   --rate N       shop-load's request rate (default 200/s)
#   --no-build     use the binaries already in build/release
# Everything started is stopped by PID when the demo ends, fails or is interrupted.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

short="" keep="" build=1 rate=200
scenarios=steady,cache-flush,slow-query,pool-exhaustion,recovery
usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case $1 in
    --short) short=--short ;;
    --keep) keep=1 ;;
    --no-build) build="" ;;
    --scenarios) scenarios=${2:?--scenarios needs a list}; shift ;;
    --scenarios=*) scenarios=${1#*=} ;;
    --rate) rate=${2:?--rate needs a number}; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "demo.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

t_start=$SECONDS
if [ -n "$build" ]; then
  bash scripts/install-deps.sh
  echo "demo: building vigil, shop and shop-load (release)" >&2
  cmake --preset release  >/dev/null
  cmake --build --preset release -j2 --target vigil shop shop-load
fi
echo "demo: install and build took $((SECONDS - t_start)) s" >&2

dir=$(mktemp -d /tmp/vigil-demo.XXXXXX)
stopped="" sleep_pid=""
stop_stack() {
  [ -n "$stopped" ] && return
  stopped=1
  [ -z "$sleep_pid" ] || kill "$sleep_pid" 2>/dev/null || true
  echo "demo: stopping everything it started (logs were in $dir)" >&2
  deploy/stack.sh stop "$dir" || true
  rm -rf "$dir"
}
trap stop_stack EXIT
trap 'exit 130' INT TERM

t_stack=$SECONDS
# shop's default seed (100k products, 200k orders; a few seconds): the unindexed sales report
# needs its ~600k order items to be slow enough for the latency alerts
VIGIL_BUILD_DIR=$repo/build/release deploy/stack.sh start "$dir"
echo "demo: stack up in $((SECONDS - t_stack)) s" >&2
# shellcheck disable=SC1091
source "$dir/stack.env"
if ! curl -fsS -o /dev/null "$VIGIL_URL/api/v1/rules" 2>/dev/null; then
  echo "demo: note: this vigil does not serve /api/v1/rules yet, so the shipped rules are not" \
    "evaluated and no alert will fire; the view shows Alertmanager's alerts." >&2
fi
cat >&2 <<EOF
demo: vigil        $VIGIL_URL   (/metrics, /api/v1/query, /api/v1/postgres/statements)
demo: Prometheus   $PROMETHEUS_URL
demo: Alertmanager $ALERTMANAGER_URL
demo: shop         $SHOP_URL
EOF

rc=0
python3 deploy/demo_timeline.py "$dir/stack.env" "$repo/build/release/service/shop-load" "$scenarios" \
  $short --rate "$rate" --summary-file "$dir/summary.json" || rc=$?
[ $rc -eq 130 ] && exit 130
[ $rc -eq 0 ] || exit $rc

if [ -n "$keep" ]; then
  cat <<EOF

The stack keeps running (Ctrl-C stops it):
  vigil         $VIGIL_URL/metrics   $VIGIL_URL/api/v1/postgres/statements
  Prometheus    $PROMETHEUS_URL/graph
  Alertmanager  $ALERTMANAGER_URL/#/alerts
  shop          $SHOP_URL/metrics
  load          $repo/build/release/service/shop-load --target $SHOP_ADDR --scenario steady --duration 60s
EOF
  while true; do sleep 3600 & sleep_pid=$!; wait $sleep_pid || true; done  # wait returns on a signal
fi
