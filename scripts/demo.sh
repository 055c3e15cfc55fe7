#!/usr/bin/env bash
# The vigil demo on this machine (Debian 12, as root): installs what is missing, builds vigil,
# shop and shop-load, starts PostgreSQL (pg_stat_statements), Redis, shop, vigil with the shipped
# rules, Prometheus, Alertmanager (deploy/alertmanager.yml) and the on-call receivers it
# notifies (deploy/receivers.py: pager and Slack webhooks, SMTP) on free loopback ports
# (deploy/stack.sh), then runs a timeline of shop-load scenarios and faults with a live view
# and a summary of the alerts and of the pages, chat messages and mails that arrived.
#
#   scripts/demo.sh [--short] [--scenarios a,b:SECONDS,...] [--keep] [--rate N] [--no-build]
#                   [--build-dir DIR] [--record DIR]
#
#   --short        a timeline of about 11 minutes; the full one takes about 23
#   --scenarios    the timeline (default steady,redis-freeze+lock-wait,cache-flush,slow-query,
#                  pool-exhaustion,recovery); NAME:SECONDS sets an item's length. Items are
#                  shop-load scenarios (recovery = steady) or faults under steady load
#                  (redis-freeze, lock-wait); a+b runs both at once
#   --keep         after the timeline, keep everything running and print the URLs (Ctrl-C stops)
#   --rate N       shop-load's request rate (default 200/s)
#   --no-build     use the binaries already built
#   --build-dir    use vigil, shop and shop-load built in DIR (implies --no-build)
#   --record DIR   copy the stack's addresses, PIDs and the alert summary (JSON) into DIR
# Everything started is stopped by PID when the demo ends, fails or is interrupted.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

short="" keep="" build=1 rate=200 build_dir=$repo/build/release record=""
scenarios=steady,redis-freeze+lock-wait,cache-flush,slow-query,pool-exhaustion,recovery
usage() { sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case $1 in
    --short) short=--short ;;
    --keep) keep=1 ;;
    --no-build) build="" ;;
    --scenarios) scenarios=${2:?--scenarios needs a list}; shift ;;
    --scenarios=*) scenarios=${1#*=} ;;
    --rate) rate=${2:?--rate needs a number}; shift ;;
    --build-dir) build_dir=$(cd "${2:?--build-dir needs a directory}" && pwd) build=""; shift ;;
    --record) record=${2:?--record needs a directory}; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "demo.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

t_start=$SECONDS
if [ -n "$build" ]; then
  bash scripts/install-deps.sh
  export CCACHE_BASEDIR=$repo  # ccache hits across clones
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
VIGIL_BUILD_DIR=$build_dir deploy/stack.sh start "$dir"
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
demo: receivers    $RECEIVERS_URL   (what the on-call engineer got: pager, chat, email)
demo: shop         $SHOP_URL
EOF

rc=0
if [ -n "$record" ]; then
  mkdir -p "$record"
  cp "$dir/stack.env" "$record/"
  for f in "$dir"/*/pid; do echo "$(basename "$(dirname "$f")") $(cat "$f")"; done >"$record/pids"
fi
python3 deploy/demo_timeline.py "$dir/stack.env" "$build_dir/service/shop-load" "$scenarios" \
  $short --rate "$rate" --summary-file "$dir/summary.json" || rc=$?
[ -z "$record" ] || cp "$dir/summary.json" "$record/" 2>/dev/null || true
[ $rc -eq 130 ] && exit 130
[ $rc -eq 0 ] || exit $rc

if [ -n "$keep" ]; then
  cat <<EOF

The stack keeps running (Ctrl-C stops it):
  vigil         $VIGIL_URL/metrics   $VIGIL_URL/api/v1/postgres/statements
  Prometheus    $PROMETHEUS_URL/graph
  Alertmanager  $ALERTMANAGER_URL/#/alerts
  receivers     $RECEIVERS_URL/   (notifications: pager, chat, email)
  shop          $SHOP_URL/metrics
  load          $build_dir/service/shop-load --target $SHOP_ADDR --scenario steady --duration 60s
EOF
  while true; do sleep 3600 & sleep_pid=$!; wait $sleep_pid || true; done  # wait returns on a signal
fi
