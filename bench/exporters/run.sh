#!/usr/bin/env bash
# vigil side by side with the exporters it replaces (postgres_exporter 0.11 with a PG13+
# pg_stat_statements query file, redis_exporter 1.45, process-exporter 0.7), on one
# PostgreSQL 15 and one Redis, one program at a time with the others stopped, at 1,000,
# 5,000 and 10,000 pg_stat_statements entries. Prints figures and one markdown table of
# ratios (vigil / the three exporters' sum); not a pass/fail test.
#
# Usage: bench/exporters/run.sh [--quick] [--out FILE]
# Env:   INTERVAL (2: seconds between cycles, the same for scrapes and vigil's collection),
#        CYCLES (20; --quick 8), LEVELS ("1000 5000 10000"; --quick "1000 5000"),
#        REPEAT (2; --quick 1: vigil and postgres_exporter at 5,000 measured this many times,
#        interleaved), BUILD (build/release), TOP_N (50),
#        VIGIL_BASELINE (another vigil binary, e.g. an older build, measured at each level as
#        "vigil-baseline" for before/after figures from the same run)
# Installs the Debian packages it needs, builds vigil (release preset) if missing, starts
# PostgreSQL, Redis (1 and 10), the exporters, vigil and Prometheus on free 127.0.0.1 ports,
# and stops everything it started, by PID, on exit. About 15 minutes (--quick: about 5).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
here=$root/bench/exporters
quick=0 out=/tmp/vigil-exporters-bench.md
while [ $# -gt 0 ]; do
  case $1 in
    --quick) quick=1 ;;
    --out) out=$2; shift ;;
    *) echo "usage: $0 [--quick] [--out FILE]" >&2; exit 2 ;;
  esac
  shift
done
INTERVAL=${INTERVAL:-2}
TOP_N=${TOP_N:-50}
if [ $quick = 1 ]; then
  CYCLES=${CYCLES:-8} LEVELS=${LEVELS:-"1000 5000"} REPEAT=${REPEAT:-1} LAT_S=6
else
  CYCLES=${CYCLES:-20} LEVELS=${LEVELS:-"1000 5000 10000"} REPEAT=${REPEAT:-2} LAT_S=15
fi
build=${BUILD:-$root/build/release}
vigil=$build/agent/app/vigil
servers=$root/tests/support/servers.sh
measure="python3 $here/measure.py"

# --- packages and build --------------------------------------------------------------------
need=()
for p in prometheus-postgres-exporter prometheus-redis-exporter prometheus-process-exporter \
  prometheus postgresql-15 postgresql-contrib redis-server redis-tools libpq-dev g++ python3 curl; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# The packages' services must not run: this benchmark starts its own instances.
if [ ! -x "$vigil" ]; then
  (cd "$root" && cmake --preset release >/dev/null && cmake --build --preset release -j2 --target vigil)
fi

dir=$(mktemp -d /tmp/vigil-exporters-bench.XXXXXX)
chmod 755 "$dir"
results=$dir/results.jsonl
pids=()
redis_dirs=()
cleanup() {
  set +e
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  for d in "${redis_dirs[@]}"; do "$servers" stop redis "$d"; done
  "$servers" stop postgres "$dir/pg"
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_bg() {  # LOGNAME CMD... -> sets $bg_pid
  "${@:2}" >"$dir/$1.log" 2>&1 &
  bg_pid=$!
  pids+=("$bg_pid")
}
stop_bg() {  # PID
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  local keep=()
  for p in "${pids[@]}"; do [ "$p" != "$1" ] && keep+=("$p"); done
  pids=("${keep[@]}")
}
wait_port() {  # PORT
  for _ in $(seq 150); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && { sleep 0.5; return 0; }
    sleep 0.1
  done
  echo "port $1 did not open" >&2
  return 1
}
free_port() { "$servers" free-port; }

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
echo "load average at start: $(loadavg)"
echo "$(loadavg)" >"$dir/load-start"

# --- servers ---------------------------------------------------------------------------------
read -r pg_port _ < <("$servers" start postgres "$dir/pg")
redis_ports=()
for i in $(seq 10); do
  d=$dir/redis$i
  redis_dirs+=("$d")
  read -r p _ < <("$servers" start redis "$d")
  redis_ports+=("$p")
done
redis_port=${redis_ports[0]}
PSQL="psql -h 127.0.0.1 -p $pg_port -U postgres -d bench"
psql -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -qXc "CREATE DATABASE bench" >/dev/null
$PSQL -qX >/dev/null <<SQL
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
CREATE ROLE app LOGIN;
GRANT CREATE, USAGE ON SCHEMA public TO app;
CREATE ROLE pgexp LOGIN IN ROLE pg_monitor;
CREATE ROLE vigil LOGIN IN ROLE pg_monitor;
CREATE ROLE floor LOGIN IN ROLE pg_monitor;
SQL

# Workload: pg_stat_statements keys on the statement's structure and relations (constants
# and aliases do not count), and in PostgreSQL 15 an IN list of k constants differs from one of
# k+1. Joins over the 190 pairs of 20 small tables with IN lists of 1..53 constants give up to
# 10,070 distinct statements (texts of 90 to 300 characters) with few tables.
ntables=20
python3 - "$dir" "$ntables" <<'PY'
import sys
d, n = sys.argv[1], int(sys.argv[2])
with open(f"{d}/tables.sql", "w") as f:
    for i in range(n):
        f.write(f"CREATE TABLE t{i} (id int PRIMARY KEY, v int);"
                f"INSERT INTO t{i} SELECT g, g * {i + 1} FROM generate_series(1, 20) g;\n")
with open(f"{d}/statements.sql", "w") as f:
    for k in range(1, 54):
        inlist = ", ".join(str(c) for c in range(1, k + 1))
        for i in range(n):
            for j in range(i + 1, n):
                f.write(f"SELECT count(*), sum(a.v + b.v) FROM t{i} a JOIN t{j} b ON a.id = b.id "
                        f"WHERE a.v IN ({inlist});\n")
PY
psql -h 127.0.0.1 -p "$pg_port" -U app -d bench -qX -f "$dir/tables.sql" >/dev/null
loaded=0
entries() { psql -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -qAtX -c "SELECT count(*) FROM pg_stat_statements"; }
fill_to() {  # N: run new distinct statements until pg_stat_statements holds about N entries
  local have want
  have=$(entries)
  want=$(($1 - have))
  if [ "$want" -gt 0 ]; then
    sed -n "$((loaded + 1)),$((loaded + want))p" "$dir/statements.sql" |
      psql -h 127.0.0.1 -p "$pg_port" -U app -d bench -qX >/dev/null
    loaded=$((loaded + want))
  fi
}
# Redis: keys, hits and misses (GETs on random keys of a larger key space).
redis_load() {  # PORT
  redis-benchmark -h 127.0.0.1 -p "$1" -t set -n 20000 -r 40000 -q >/dev/null
  redis-benchmark -h 127.0.0.1 -p "$1" -t get -n 20000 -r 40000 -q >/dev/null
}
for p in "${redis_ports[@]}"; do redis_load "$p"; done

# Background application load while measuring, every second: a hot set (the first 40
# statements, 3 calls each) and 20 random ones of those loaded, so the top-N sets are mostly
# stable with some churn, as in a real application; and some Redis traffic. Bounded.
background() {
  local end=$((SECONDS + 3600))
  while [ $SECONDS -lt $end ]; do
    if [ -s "$dir/loaded" ]; then
      { for _ in 1 2 3; do head -n 40 "$dir/statements.sql"; done
        head -n "$(cat "$dir/loaded")" "$dir/statements.sql" | shuf -n 20; } |
        psql -h 127.0.0.1 -p "$pg_port" -U app -d bench -qX >/dev/null 2>&1 || true
    fi
    redis-benchmark -h 127.0.0.1 -p "$redis_port" -t get -n 200 -r 40000 -q >/dev/null 2>&1 || true
    sleep 1
  done
}

# --- configs -----------------------------------------------------------------------------------
# postgres_exporter: the Debian example queries with pg_stat_statements fixed for PG13+ names.
python3 - /usr/share/doc/prometheus-postgres-exporter/examples/queries.yaml "$dir/queries.yaml" <<'PY'
import sys
src = open(sys.argv[1]).read()
for old, new in [("total_time / 1000 as total_time_seconds", "total_exec_time / 1000 as total_time_seconds"),
                 ("min_time / 1000", "min_exec_time / 1000"), ("max_time / 1000", "max_exec_time / 1000"),
                 ("mean_time / 1000", "mean_exec_time / 1000"), ("stddev_time / 1000", "stddev_exec_time / 1000")]:
    assert old in src, old
    src = src.replace(old, new)
open(sys.argv[2], "w").write(src)
PY
cat >"$dir/process-exporter.yml" <<YML
process_names:
  - {name: postgres, comm: [postgres]}
  - {name: redis, comm: [redis-server]}
  - {name: vigil, comm: [vigil]}
YML
# Rules: the shipped rule files (from main when this branch has none yet), evaluated every
# INTERVAL like the collection.
mkdir -p "$dir/rules"
if ls "$root"/rules/shipped/*.yml >/dev/null 2>&1; then
  cp "$root"/rules/shipped/*.yml "$dir/rules/"
  rules_from="rules/shipped"
else
  for f in $(git -C "$root" ls-tree --name-only main rules/shipped/ | grep '\.yml$'); do
    git -C "$root" show "main:$f" >"$dir/rules/$(basename "$f")"
  done
  rules_from="rules/shipped on main ($(git -C "$root" rev-parse --short main))"
fi
sed -i -E "s/^(\s+interval:) .*/\1 ${INTERVAL}s/" "$dir"/rules/*.yml
vigil_config() {  # FILE PORT REDIS_COUNT WITH_PG(1|0)
  {
    echo "global: {collect_interval: ${INTERVAL}s, evaluation_interval: ${INTERVAL}s}"
    echo "web: {listen_address: 127.0.0.1:$2}"
    if [ "$4" = 1 ]; then
      cat <<YML
postgres:
  - name: main
    dsn: "host=127.0.0.1 port=$pg_port dbname=bench user=vigil"
    databases: auto
    statements: {top_n: $TOP_N, interval: ${INTERVAL}s}
process:
  - {name: postgres, match: {comm: [postgres]}, threads: true}
  - {name: redis, match: {comm: redis-server}, threads: true}
  - {name: vigil, match: {self: true}, threads: true}
rule_files: ["$dir/rules/*.yml"]
YML
    fi
    echo "redis:"
    for i in $(seq "$3"); do
      echo "  - {name: cache$i, address: 127.0.0.1:${redis_ports[$((i - 1))]}}"
    done
  } >"$1"
}

# The floor client.
g++ -O2 -std=c++20 -o "$dir/floor" "$here/floor.cc" -I"$(pg_config --includedir)" -lpq

# --- measurements ------------------------------------------------------------------------------
common=(--cycles "$CYCLES" --interval "$INTERVAL" --lat-seconds "$LAT_S" --out "$results")

run_pgexp() {  # LEVEL REP
  local port; port=$(free_port)
  DATA_SOURCE_NAME="postgresql://pgexp@127.0.0.1:$pg_port/bench?sslmode=disable" \
    start_bg pgexp prometheus-postgres-exporter --web.listen-address="127.0.0.1:$port" \
    --extend.query-path="$dir/queries.yaml" --log.level=error
  local pid=$bg_pid
  wait_port "$port"
  $measure program postgres_exporter --pid "$pid" --url "http://127.0.0.1:$port/metrics" \
    --mode scrape --psql "$PSQL" --role pgexp "${common[@]}" --tag level="$1" --tag rep="$2"
  stop_bg "$pid"
}
run_redisexp() {  # LEVEL
  local port; port=$(free_port)
  start_bg redisexp prometheus-redis-exporter -redis.addr="redis://127.0.0.1:$redis_port" \
    -web.listen-address="127.0.0.1:$port"
  local pid=$bg_pid
  wait_port "$port"
  $measure program redis_exporter --pid "$pid" --url "http://127.0.0.1:$port/metrics" \
    --mode scrape "${common[@]}" --tag level="$1" --tag rep=1
  stop_bg "$pid"
}
run_procexp() {  # LEVEL
  local port; port=$(free_port)
  start_bg procexp prometheus-process-exporter -config.path="$dir/process-exporter.yml" \
    -web.listen-address="127.0.0.1:$port"
  local pid=$bg_pid
  wait_port "$port"
  $measure program process-exporter --pid "$pid" --url "http://127.0.0.1:$port/metrics" \
    --mode scrape "${common[@]}" --tag level="$1" --tag rep=1
  stop_bg "$pid"
}
run_vigil() {  # LEVEL REP [extras|baseline]
  local port name=vigil bin=$vigil; port=$(free_port)
  [ "${3:-}" = baseline ] && name=vigil-baseline bin=$VIGIL_BASELINE
  vigil_config "$dir/vigil.yml" "$port" 1 1
  start_bg "$name" "$bin" --config.file="$dir/vigil.yml" --log.level=warn
  local pid=$bg_pid
  wait_port "$port"
  $measure program "$name" --pid "$pid" --url "http://127.0.0.1:$port/metrics" \
    --mode passive --psql "$PSQL" --role vigil "${common[@]}" --tag level="$1" --tag rep="$2"
  if [ "${3:-}" = extras ]; then rules_compare "$port"; fi
  stop_bg "$pid"
}
run_floor() {  # LEVEL
  local conn="host=127.0.0.1 port=$pg_port dbname=bench user=floor" n=$((CYCLES * 2)) mode b0 b1 res
  for mode in text binary; do
    b0=$(psql_floor_ms)
    res=$("$dir/floor" "$conn" "$n" "$mode" 50)
    b1=$(psql_floor_ms)
    echo "  floor ($mode): $res pg_ms_per_read $(python3 -c "print(round(($b1-$b0)/$n,3))")"
    python3 - "$results" "$1" "$mode" "$res" "$b0" "$b1" "$n" <<'PY'
import json, sys
f, level, mode, res, b0, b1, n = sys.argv[1:]
kv = res.split()
d = dict(zip(kv[0::2], kv[1::2]))
rec = {"name": f"floor-{mode}", "level": level, "rows": int(d["rows"]),
       "cpu_ms_per_cycle": float(d["cpu_ms_per_read"]), "wall_ms": float(d["wall_ms_per_read"]),
       "pg_ms_per_cycle": (float(b1) - float(b0)) / int(n)}
open(f, "a").write(json.dumps(rec) + "\n")
PY
  done
  # PostgreSQL time with query text, for reference.
  b0=$(psql_floor_ms)
  for _ in $(seq 10); do
    psql -h 127.0.0.1 -p "$pg_port" -U floor -d bench -qAtX -o /dev/null \
      -c "SELECT userid, dbid, queryid, query FROM pg_stat_statements(true)"
  done
  b1=$(psql_floor_ms)
  python3 -c "import json; open('$results','a').write(json.dumps({'name':'floor-withtext','level':'$1','pg_ms_per_cycle':($b1-$b0)/10})+'\n')"
}
psql_floor_ms() {
  $PSQL -qAtX -c "SELECT coalesce(sum(total_exec_time), 0) FROM pg_stat_statements WHERE userid = 'floor'::regrole"
}
rules_compare() {  # VIGIL_PORT: Prometheus scrapes vigil and evaluates the same rule files
  local pport; pport=$(free_port)
  mkdir -p "$dir/prom"
  cat >"$dir/prom/prometheus.yml" <<YML
global: {scrape_interval: ${INTERVAL}s, evaluation_interval: ${INTERVAL}s}
rule_files: ["$dir/rules/*.yml"]
scrape_configs:
  - job_name: vigil
    honor_labels: true
    static_configs: [{targets: ["127.0.0.1:$1"]}]
YML
  start_bg prometheus prometheus --config.file="$dir/prom/prometheus.yml" \
    --storage.tsdb.path="$dir/prom/data" --web.listen-address="127.0.0.1:$pport"
  local ppid=$bg_pid
  wait_port "$pport"
  sleep $((INTERVAL * 3))  # a few scrapes, so rules see data
  $measure prom-rules --url "http://127.0.0.1:$pport/metrics" --samples 8 --interval "$INTERVAL" \
    --out "$results" --tag level=5000 &
  local mp=$!
  $measure vigil-extras --url "http://127.0.0.1:$1/metrics" --samples 8 --interval "$INTERVAL" \
    --out "$results" --tag level=5000
  wait "$mp" || true
  local hwm; hwm=$(awk '/VmHWM/ {print $2 * 1024}' "/proc/$ppid/status")
  python3 -c "import json; open('$results','a').write(json.dumps({'name':'prometheus-rss','rss_peak':$hwm})+'\n')"
  stop_bg "$ppid"
}
run_vigil_redis() {  # COUNT: vigil with only Redis collectors, COUNT instances
  local port; port=$(free_port)
  vigil_config "$dir/vigil-redis.yml" "$port" "$1" 0
  start_bg vigil-redis "$vigil" --config.file="$dir/vigil-redis.yml" --log.level=warn
  local pid=$bg_pid
  wait_port "$port"
  $measure program "vigil-redis-x$1" --pid "$pid" --url "http://127.0.0.1:$port/metrics" \
    --mode passive --redis-port "$redis_port" "${common[@]}" --tag instances="$1" --tag rep=1
  stop_bg "$pid"
}

start_bg background background
for level in $LEVELS; do
  target=$level
  [ "$level" -ge 10000 ] && target=9900  # pg_stat_statements.max is 10,000: stay below
  fill_to "$target"
  echo "$loaded" >"$dir/loaded"
  echo "== $(entries) pg_stat_statements entries (level $level), load $(loadavg)"
  run_floor "$level"
  if [ "$level" = 1000 ]; then
    run_redisexp "$level"
    run_procexp "$level"
  fi
  reps=1
  [ "$level" = 5000 ] && reps=$REPEAT
  for rep in $(seq "$reps"); do
    run_pgexp "$level" "$rep"
    if [ "$level" = 5000 ] && [ "$rep" = 1 ]; then
      run_vigil "$level" "$rep" extras
    else
      run_vigil "$level" "$rep"
    fi
    if [ -n "${VIGIL_BASELINE:-}" ]; then run_vigil "$level" "$rep" baseline; fi
  done
done
echo "== vigil with Redis only: 1 and 10 instances, load $(loadavg)"
run_vigil_redis 1
run_vigil_redis 10

echo "load average at end: $(loadavg)"
{
  echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -r)"
  echo "# load average: start $(cat "$dir/load-start"), end $(loadavg)"
  echo "# vigil $(git -C "$root" rev-parse --short HEAD), rules from $rules_from; interval ${INTERVAL}s, $CYCLES cycles, top_n $TOP_N"
  echo "# $(dpkg-query -W -f='${Package} ${Version}, ' prometheus-postgres-exporter prometheus-redis-exporter prometheus-process-exporter prometheus postgresql-15 redis-server)"
} >"$dir/header"
python3 "$here/report.py" "$results" "$dir/header" | tee "$out"
cp "$results" "${out%.md}.jsonl"
echo "written: $out and ${out%.md}.jsonl"
