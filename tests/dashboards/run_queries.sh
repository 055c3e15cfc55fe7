#!/usr/bin/env bash
# Starts the demo stack (deploy/stack.sh: PostgreSQL, Redis, shop, Alertmanager, vigil and a
# Prometheus scraping vigil and shop every 2 s), drives shop with a short steady load, and runs
# every dashboard panel query against each TARGET's /api/v1/query (check_queries.py). Stops
# everything it started, however it ends.
#   run_queries.sh BUILD_DIR [prometheus] [vigil]     (default: prometheus)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=$(cd "$1" && pwd)
shift
targets=("${@:-prometheus}")
dir=$(mktemp -d /tmp/vigil-dashboards.XXXXXX)
load_pid=""
cleanup() {
  local rc=$?
  [ -n "$load_pid" ] && kill "$load_pid" 2>/dev/null || true
  "$repo/deploy/stack.sh" stop "$dir" || true
  if [ $rc -ne 0 ]; then
    for f in "$dir"/*/*.log; do [ -f "$f" ] && { echo "--- $f" >&2; tail -n 10 "$f" >&2; }; done
  fi
  rm -rf "$dir"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# a small seed: the queries need data of every kind, not volume
VIGIL_BUILD_DIR=$build SHOP_SEED_ARGS="--products 5000 --users 1000 --orders 10000" \
  "$repo/deploy/stack.sh" start "$dir"
# shellcheck disable=SC1091
source "$dir/stack.env"
# bounded: 150 s at 100 req/s at most (the checks below take well under that)
"$build/service/shop-load" --target "$SHOP_ADDR" --scenario steady --duration 150s --rate 100 \
  --concurrency 8 --quiet >"$dir/load.log" 2>&1 &
load_pid=$!
sleep 1
rc=0
for t in "${targets[@]}"; do
  case $t in
    prometheus) url=$PROMETHEUS_URL ;;
    vigil) url=$VIGIL_URL ;;
    *) echo "unknown target $t" >&2; exit 2 ;;
  esac
  python3 "$here/check_queries.py" --url "$url" --target "$t" --wait 90 || rc=1
done
exit $rc
