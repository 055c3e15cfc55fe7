#!/usr/bin/env bash
# Cost of shop's instrumentation: throughput and p99 of cached GET /api/products/{id} at fixed
# concurrency, with instrumentation on and off in the same run (rounds interleaved so machine
# noise hits both), printing the ratio. Target: under 3% throughput cost.
#
# Usage: bench/shop/run.sh [BUILD_DIR]   (default build/release; needs targets shop, shop-load)
# Env:   ROUNDS (3), DURATION (10s), CONCURRENCY (8), WORKERS (16), PRODUCTS (100000)
# Starts its own PostgreSQL and Redis on loopback (tests/support/servers.sh) and stops them,
# and the shop it starts, by PID on exit.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build/release}
shop=$build/service/shop
load=$build/service/shop-load
for b in "$shop" "$load"; do
  [ -x "$b" ] || { echo "missing $b: cmake --build --preset release --target shop shop-load" >&2; exit 2; }
done
ROUNDS=${ROUNDS:-3} DURATION=${DURATION:-10s} CONCURRENCY=${CONCURRENCY:-8}
WORKERS=${WORKERS:-16} PRODUCTS=${PRODUCTS:-100000}

dir=$(mktemp -d /tmp/shop-bench.XXXXXX)
chmod 755 "$dir"
shop_pid=""
cleanup() {
  [ -n "$shop_pid" ] && kill "$shop_pid" 2>/dev/null && wait "$shop_pid" 2>/dev/null || true
  "$root/tests/support/servers.sh" stop redis "$dir/redis" || true
  "$root/tests/support/servers.sh" stop postgres "$dir/pg" || true
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

read -r pg_port _ < <("$root/tests/support/servers.sh" start postgres "$dir/pg")
read -r redis_port _ < <("$root/tests/support/servers.sh" start redis "$dir/redis")
psql -h 127.0.0.1 -p "$pg_port" -U postgres -qc "CREATE DATABASE shop"
dsn="host=127.0.0.1 port=$pg_port dbname=shop user=postgres"
"$shop" seed --products "$PRODUCTS" --users 10000 --orders 20000 --pg-dsn "$dsn" 2>&1 | tail -1
port=$("$root/tests/support/servers.sh" free-port)

run_mode() {  # MODE (on|off) -> prints "rps p99_seconds"
  local flags=()
  [ "$1" = off ] && flags+=(--no-instrumentation)
  "$shop" serve --listen "127.0.0.1:$port" --pg-dsn "$dsn" --redis "127.0.0.1:$redis_port" \
    --workers "$WORKERS" --rate-limit 0 "${flags[@]}" 2>"$dir/shop-$1.log" &
  shop_pid=$!
  for _ in $(seq 100); do curl -fs -o /dev/null "http://127.0.0.1:$port/readyz" && break; sleep 0.05; done
  # Warm-up fills the cache with the hot set, then the measured run.
  "$load" --target "127.0.0.1:$port" --scenario cached-read --rate 0 --concurrency "$CONCURRENCY" \
    --duration 3s --hot-products 1000 --products "$PRODUCTS" --no-metrics --quiet >/dev/null
  "$load" --target "127.0.0.1:$port" --scenario cached-read --rate 0 --concurrency "$CONCURRENCY" \
    --duration "$DURATION" --hot-products 1000 --products "$PRODUCTS" --no-metrics --quiet --json \
    | python3 -c 'import json,sys; t=json.load(sys.stdin)["total"]; print(t["rps"], t["latency_seconds"]["p99"], t["status"]["5xx"] + t["transport_errors"])'
  kill "$shop_pid"; wait "$shop_pid" 2>/dev/null || true; shop_pid=""
}

results=$dir/results.txt
: >"$results"
for r in $(seq "$ROUNDS"); do
  for mode in on off; do
    read -r rps p99 errors < <(run_mode "$mode")
    echo "$mode $rps $p99 $errors" >>"$results"
    printf 'round %d  instrumentation %-3s  %8.0f req/s  p99 %6.3f ms  errors %s\n' \
      "$r" "$mode" "$rps" "$(python3 -c "print($p99*1000)")" "$errors"
  done
done
python3 - "$results" "$CONCURRENCY" "$DURATION" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
def med(mode, i): return statistics.median(float(r[i]) for r in rows if r[0] == mode)
on_rps, off_rps = med("on", 1), med("off", 1)
on_p99, off_p99 = med("on", 2), med("off", 2)
cost = (1 - on_rps / off_rps) * 100
print(f"cached GET /api/products/{{id}}, {sys.argv[2]} keep-alive connections, {sys.argv[3]} per run, median of rounds")
print(f"  instrumentation on : {on_rps:9.0f} req/s  p99 {on_p99*1000:.3f} ms")
print(f"  instrumentation off: {off_rps:9.0f} req/s  p99 {off_p99*1000:.3f} ms")
print(f"  throughput ratio on/off = {on_rps/off_rps:.4f}  (cost {cost:+.2f}%, target < 3%)")
print(f"  p99 ratio on/off = {on_p99/off_p99:.3f}")
PY
